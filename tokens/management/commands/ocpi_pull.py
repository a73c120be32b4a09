"""`python manage.py ocpi_pull PARTNER tokens [--full]`: pull a module from a partner now."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.models import PartnerPlatform
from credentials.selectors import registered_partner_by_name
from tokens.models import COUNTS, PullStatus
from tokens.pull import PullAlreadyRunning, token_pull


class Command(BaseCommand):
    help = (
        "Pull a partner's objects of a module from its Sender interface, now, and print the "
        "counts. Delta (changes since the last successful pull) unless --full."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("partner", help="Partner id or name.")
        parser.add_argument("module", choices=["tokens"])
        parser.add_argument(
            "--full",
            action="store_true",
            help="Pull everything: what is not returned is no longer valid.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            partner = registered_partner_by_name(options["partner"])
        except PartnerPlatform.DoesNotExist as exc:
            raise CommandError(f"No partner {options['partner']!r}") from exc
        except PartnerPlatform.MultipleObjectsReturned as exc:
            raise CommandError(
                f"Several partners are named {options['partner']!r}: give the id instead"
            ) from exc
        if not partner.is_registered:
            raise CommandError(f"{partner.name} is {partner.status}, not registered")
        try:
            pull = token_pull(partner=partner, full=options["full"])
        except PullAlreadyRunning as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{name} {getattr(pull, name)}" for name in COUNTS)
        kind = "full" if pull.full else "delta"
        self.stdout.write(f"{kind} pull of tokens from {partner.name}: {pull.status}; {counts}")
        if pull.status != PullStatus.SUCCEEDED:
            raise CommandError(pull.error)
