"""`python manage.py ocpi_register VERSIONS_URL TOKEN_A [--name NAME]`: we are the Sender."""

from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.services import PartnerCallFailed, register_with_partner


class Command(BaseCommand):
    help = "Register with a partner platform that gave us its versions URL and token A."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("versions_url")
        parser.add_argument("token_a")
        parser.add_argument("--name", help="Our name for the partner (default: its host).")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"] or urlsplit(options["versions_url"]).hostname or "partner"
        try:
            partner = register_with_partner(
                versions_url=options["versions_url"], token_a=options["token_a"], name=name
            )
        except PartnerCallFailed as exc:
            raise CommandError(str(exc)) from exc
        roles = ", ".join(str(role) for role in partner.roles.all())
        self.stdout.write(
            self.style.SUCCESS(f"Registered with {partner.name} (id {partner.pk}): {roles}")
        )
