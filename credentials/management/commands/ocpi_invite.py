"""`python manage.py ocpi_invite NAME [--json]`: issue a credentials token A."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from credentials.services import invitation_create
from ocpi.time import format_datetime
from ocpi.versioning import versions_url


class Command(BaseCommand):
    help = "Create a registration invitation (credentials token A) for a new partner."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who the invitation is for, e.g. the eMSP's name.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        invitation, token = invitation_create(name=options["name"])
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
