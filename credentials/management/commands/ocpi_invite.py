"""`python manage.py ocpi_invite NAME [--json] [--again]`: issue a credentials token A.

A name that has an open invitation or a registered partner is refused unless --again: a
second token A for the same partner is rarely what was meant.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.selectors import invitation_namesakes
from credentials.services import InvitationExists, invitation_create
from ocpi.time import format_datetime
from ocpi.versioning import versions_url


class Command(BaseCommand):
    help = "Create a registration invitation (credentials token A) for a new partner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who the invitation is for, e.g. the eMSP's name.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument(
            "--again",
            action="store_true",
            help="Issue it even if the name has an open invitation or a registered partner.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        namesakes = invitation_namesakes(name) if options["again"] else []
        try:
            invitation, token = invitation_create(name=name, again=options["again"])
        except InvitationExists as exc:
            raise CommandError(
                f"Not invited: {exc}. Hand over the open invitation's token A (the admin shows "
                "it) or revoke it there; --again issues another one anyway."
            ) from exc
        for namesake in namesakes:
            self.stderr.write(f"Warning: {name} also has {namesake}.")
        assert invitation.expires_at is not None  # invitation_create() always sets it
        expires_at = format_datetime(invitation.expires_at)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {"versions_url": versions_url(), "token": token, "expires_at": expires_at}
                )
            )
            return
        self.stdout.write(f"Invitation {invitation.pk} for {invitation.name}")
        self.stdout.write(f"  versions URL: {versions_url()}")
        self.stdout.write(f"  token A:      {token}")
        self.stdout.write(f"  expires at:   {expires_at}")
        self.stdout.write("Hand both to the partner; the token works once, for registration.")
