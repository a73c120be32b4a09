"""`python manage.py simulate_session --evse-uid UID --token-uid UID [--kwh N] [--minutes M]
[--power KW] [--parking-minutes P]`: a charge through the session services (sessions.simulation)."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from push.services import party_targets
from sessions.models import Session
from sessions.serializers import plain
from sessions.simulation import Charge, SimulationError, find_connector, find_token, simulate
from tokens.models import TokenType


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise CommandError(f"Not a number: {text}") from exc
    if not value.is_finite():
        raise CommandError(f"Not a number: {text}")
    return value


def _cost(session: Session) -> str:
    if session.total_cost_excl_vat is None or session.total_cost_incl_vat is None:
        return "total cost unknown (no tariff applies)"
    return (
        f"total cost {plain(session.total_cost_excl_vat)} {session.currency} "
        f"({plain(session.total_cost_incl_vat)} incl. VAT)"
    )


class Command(BaseCommand):
    help = (
        "Drive a realistic charge through the session services so that the token's eMSP gets "
        "the Session PUT, a PATCH per meter reading and the final PATCH (and the CDR). Energy, "
        "duration and power: give two, the third follows (default 11 kW for 60 minutes). "
        "By default the charge is replayed to end now, at once; --live takes its real time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--evse-uid", required=True, help="EVSE.uid of one of our EVSEs.")
        parser.add_argument("--token-uid", required=True, help="uid of a token in our cache.")
        parser.add_argument("--token-type", default=TokenType.RFID, choices=TokenType.values)
        parser.add_argument("--location-id", help="The location, when the EVSE uid is not unique.")
        parser.add_argument("--connector-id", help="Default: the EVSE's first connector.")
        parser.add_argument("--kwh", type=_number, help="Energy charged, kWh.")
        parser.add_argument("--minutes", type=_number, help="Minutes charging.")
        parser.add_argument("--power", type=_number, help="Charging power, kW.")
        parser.add_argument(
            "--parking-minutes", type=_number, default=Decimal(0), help="Minutes parked after."
        )
        parser.add_argument(
            "--step-minutes", type=_number, default=Decimal(5), help="Minutes between readings."
        )
        parser.add_argument("--live", action="store_true", help="Take the charge's real time.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            charge = Charge.of(
                kwh=options["kwh"],
                minutes=options["minutes"],
                power=options["power"],
                parking_minutes=options["parking_minutes"],
            )
            connector = find_connector(
                options["evse_uid"], options["location_id"], options["connector_id"]
            )
            token = find_token(options["token_uid"], options["token_type"])
            session = simulate(
                connector=connector,
                token=token,
                charge=charge,
                every=timedelta(minutes=float(options["step_minutes"])),
                live=options["live"],
                report=self._report,
            )
        except SimulationError as exc:
            raise CommandError(str(exc)) from exc
        charging = timedelta(seconds=round(float(charge.minutes) * 60))
        parked = timedelta(seconds=round(float(charge.parking_minutes) * 60))
        self.stdout.write(
            self.style.SUCCESS(
                f"Session {session.ocpi_id} {session.status}: {plain(session.kwh)} kWh in "
                f"{charging} charging and {parked} parked, {_cost(session)}"
            )
        )

    def _report(self, session: Session) -> None:
        if session.charging_periods.count() == 0:
            where = session.cdr_location
            emsps = party_targets("sessions", session.token_party)
            pushed = "pushed to it" if emsps else "not pushed: no registered partner hosts it"
            self.stdout.write(
                f"Session {session.ocpi_id} started at {where['id']}/{where['evse_uid']}/"
                f"{where['connector_id']} for {session.token_uid} of eMSP "
                f"{session.token_party} ({pushed})"
            )
            return
        assert session.metered_until is not None
        self.stdout.write(
            f"  {session.metered_until:%Y-%m-%d %H:%M:%S}Z  {plain(session.kwh)} kWh  "
            f"{_cost(session)}"
        )
