"""`python manage.py ocpi_partner {show,rotate,refresh,unregister} PARTNER`: act on a partner."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials import services
from credentials.models import PartnerPlatform
from credentials.selectors import registered_partner_by_name


class Command(BaseCommand):
    help = "Show a partner, or rotate tokens, refresh endpoints or unregister from our side."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["show", "rotate", "refresh", "unregister"])
        parser.add_argument("partner", help="Partner id or name.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            partner = registered_partner_by_name(options["partner"])
        except PartnerPlatform.DoesNotExist as exc:
            raise CommandError(f"No partner {options['partner']!r}") from exc
        except PartnerPlatform.MultipleObjectsReturned as exc:
            raise CommandError(
                f"Several partners are named {options['partner']!r}: give the id instead"
            ) from exc
        action = options["action"]
        try:
            if action == "rotate":
                services.rotate_credentials(partner=partner)
            elif action == "refresh":
                services.refresh_endpoints(partner=partner)
            elif action == "unregister":
                problem = services.unregister_partner(partner=partner)
                if problem:
                    self.stderr.write(f"Unregistered here; the partner was not told: {problem}")
        except services.PartnerCallFailed as exc:
            raise CommandError(str(exc)) from exc
        partner.refresh_from_db()
        self.stdout.write(
            f"{partner.name} (id {partner.pk}): {partner.status}, version {partner.version or '-'}"
        )
        # PUTs/PATCHes older than what we held, answered but not applied (ocpi.receiving).
        self.stdout.write(f"  stale updates {partner.stale_updates}")
        for role in partner.roles.all():
            self.stdout.write(f"  role {role}")
        for endpoint in partner.endpoints.all():
            self.stdout.write(f"  {endpoint.identifier:16} {endpoint.role:8} {endpoint.url}")
