"""`python manage.py charger_add IDENTITY --evse-uid UID [--evse-uid UID …] [--ocpp 1.6|2.0.1]
[--password P] [--security-profile 1|2|3] [--json]`: a new charge point (chargers.provisioning)."""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chargers.models import OcppVersion, SecurityProfile
from chargers.provisioning import Provisioned, charge_point_provision, evse_ref


def _as_json(provisioned: Provisioned) -> dict[str, Any]:
    charge_point = provisioned.charge_point
    return {
        "identity": charge_point.identity,
        "url": provisioned.url,
        "password": provisioned.password,
        "ocpp_version": charge_point.ocpp_version,
        "security_profile": charge_point.security_profile,
        "evses": [
            {
                "ocpp_id": n,
                "evse_uid": evse.uid,
                "location_id": evse.location.ocpi_id,
                "evse_id": evse.evse_id,
            }
            for n, evse in enumerate(provisioned.evses, start=1)
        ],
    }


class Command(BaseCommand):
    help = (
        "Provision a charge point on existing EVSEs: OCPP connector id (1.6) / EVSE id (2.0.1) "
        "n is the n-th --evse-uid. Prints the URL it connects to and its password (shown once: "
        "only a hash is kept)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("identity", help="The charge point's OCPP identity (its URL's end).")
        parser.add_argument(
            "--evse-uid",
            action="append",
            required=True,
            dest="evse_uids",
            metavar="UID",
            help="An EVSE uid, or LOCATION_ID/EVSE_UID when the uid is at several locations; "
            "repeat in OCPP id order.",
        )
        parser.add_argument("--ocpp", choices=OcppVersion.values, default=OcppVersion.V16)
        parser.add_argument(
            "--password", help="16 to 40 printable characters; default: a random one."
        )
        parser.add_argument(
            "--security-profile",
            type=int,
            choices=SecurityProfile.values,
            default=SecurityProfile.BASIC,
            help="1: Basic auth over ws; 2: TLS + Basic auth; 3: TLS + client certificate.",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            provisioned = charge_point_provision(
                identity=options["identity"],
                evse_refs=options["evse_uids"],
                ocpp_version=options["ocpp"],
                security_profile=options["security_profile"],
                password=options["password"],
            )
        except ValidationError as exc:
            raise CommandError("Nothing stored:\n  " + "\n  ".join(exc.messages)) from exc
        if provisioned.charge_point.security_profile != SecurityProfile.BASIC and (
            provisioned.url.startswith("ws://")
        ):
            self.stderr.write(
                f"Security profile {provisioned.charge_point.security_profile} needs TLS, but "
                "OCPP_BASE_URL is plain ws://: set it to the wss:// address charge points use."
            )
        if options["json"]:
            self.stdout.write(json.dumps(_as_json(provisioned)))
            return
        charge_point = provisioned.charge_point
        self.stdout.write(
            f"Charge point {charge_point.identity} (OCPP {charge_point.ocpp_version}, "
            f"security profile {charge_point.security_profile})"
        )
        self.stdout.write(f"  URL:      {provisioned.url}")
        if provisioned.password is None:
            self.stdout.write("  password: none (a client certificate with its identity)")
        else:
            self.stdout.write(f"  user:     {charge_point.identity}")
            self.stdout.write(
                f"  password: {provisioned.password}  (shown once: only a hash is kept)"
            )
        for n, evse in enumerate(provisioned.evses, start=1):
            self.stdout.write(f"  OCPP id {n}: EVSE {evse_ref(evse)} {evse.evse_id}".rstrip())
