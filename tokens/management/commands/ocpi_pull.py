"""`python manage.py ocpi_pull PARTNER tokens [--full | --apply-held]`: pull a module from a
partner now, or apply its held full pull (tokens.pull, Safeguard)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.models import PartnerPlatform
from credentials.selectors import registered_partner_by_name
from tokens.models import COUNTS, PullStatus
from tokens.pull import (
    NotApplicable,
    PullAlreadyRunning,
    apply_held_pull,
    latest_held_pull,
    token_pull,
)


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
        parser.add_argument(
            "--apply-held",
            action="store_true",
            help="Pull nothing: apply the partner's held full pull (it would have set more "
            "than TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE of its tokens invalid).",
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
        if options["apply_held"]:
            if options["full"]:
                raise CommandError("--apply-held pulls nothing: leave out --full")
            self._apply_held(partner)
            return
        try:
            pull = token_pull(partner=partner, full=options["full"])
        except PullAlreadyRunning as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{name} {getattr(pull, name)}" for name in COUNTS)
        kind = "full" if pull.full else "delta"
        self.stdout.write(f"{kind} pull of tokens from {partner.name}: {pull.status}; {counts}")
        if pull.status != PullStatus.SUCCEEDED:
            raise CommandError(pull.error)

    def _apply_held(self, partner: PartnerPlatform) -> None:
        held = latest_held_pull(partner)
        if held is None:
            raise CommandError(f"{partner.name} has no held full pull to apply")
        try:
            pull = apply_held_pull(held)
        except NotApplicable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Held full pull {pull.pk} of tokens from {partner.name} applied: "
            f"{pull.invalidated} of the {pull.held} tokens it did not return set invalid"
        )
