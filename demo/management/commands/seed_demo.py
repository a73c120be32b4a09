"""`python manage.py seed_demo [--locations N] [--seed S]`: a demo CPO estate to try things on.

Locations in Amsterdam, Utrecht, Berlin, München, Bruxelles and Paris with AC and DC
chargers, and every kind of tariff, owned by the platform's default CPO party; and a demo
eMSP's tokens in the token cache (demo.drivers). The same seed gives the same estate. Seeding
only adds what is missing: what exists is never changed, so seeding again changes nothing
(and pushes nothing). `make run` calls it with --if-empty, so a fresh platform has something
to show and a real one is never touched (nor is startup stopped on a platform that hosts no
CPO).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo import drivers
from demo.estate import MAX_LOCATIONS
from demo.progress import ProgressBar
from demo.selectors import default_cpo_party, has_catalogue
from demo.services import SeedResult, seed_estate

DEFAULT_LOCATIONS = 25
DEMO_EMSP = f"{drivers.COUNTRY_CODE}*{drivers.PARTY_ID}"
DEMO_TOKENS = ", ".join(
    f"{uid} ({kind}, {whitelist})" for uid, kind, whitelist, _ in drivers.TOKENS
)
# Below this a bar would flash by; --progress shows it anyway.
PROGRESS_FROM = 50


class Command(BaseCommand):
    help = (
        "Create a realistic demo estate (locations, EVSEs, connectors and tariffs) for the "
        "platform's default CPO party, and a demo eMSP's tokens, through the services so "
        "partners get pushes. Only what is missing is added: existing objects are kept as "
        "they are, so running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--locations",
            type=int,
            default=DEFAULT_LOCATIONS,
            metavar="N",
            help=f"How many locations (0 to {MAX_LOCATIONS}; default {DEFAULT_LOCATIONS}). "
            "Demo locations beyond N from earlier runs are left as they are.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=1,
            metavar="S",
            help="Random seed (default 1): another seed gives another estate, with the same "
            "ids; the objects that exist already are kept as they are.",
        )
        parser.add_argument(
            "--progress",
            action="store_true",
            help=f"Show a progress bar on stderr (the default above {PROGRESS_FROM} locations "
            "when stderr is a terminal).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the party already owns any location or tariff (`make run`).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["locations"]
        if not 0 <= count <= MAX_LOCATIONS:
            raise CommandError(f"--locations must be between 0 and {MAX_LOCATIONS}, not {count}.")
        party = default_cpo_party()
        if party is None:
            message = (
                "There is no active CPO party to own the demo estate: add one in the admin "
                "(Partners and credentials › Local parties) or make one active, then run again."
            )
            if options["if_empty"]:  # `make run` of a platform that hosts no CPO: go on
                self.stdout.write(f"No demo estate seeded. {message}")
                return
            raise CommandError(message)
        name = f"{party.country_code}*{party.party_id}"
        if options["if_empty"] and has_catalogue(party):
            self.stdout.write(
                f"{name} already has locations or tariffs: no demo estate seeded "
                "(`manage.py seed_demo` adds what is missing of it anyway)."
            )
            return
        bar = None
        if options["progress"] or (count > PROGRESS_FROM and self.stderr.isatty()):
            bar = ProgressBar(self._write_stderr, total=count, label="Locations")
        result = seed_estate(
            party=party, locations=count, seed=options["seed"], progress=bar.update if bar else None
        )
        if bar is not None:
            bar.finish()
        if options["verbosity"] > 0:
            self.stdout.write(self._summary(name, result))

    def _write_stderr(self, text: str) -> None:
        self.stderr.write(text, style_func=lambda plain: plain, ending="")
        self.stderr.flush()

    @staticmethod
    def _summary(name: str, result: SeedResult) -> str:
        locations, tariffs, tokens = result.locations, result.tariffs, result.tokens
        if not result.changed:
            return (
                f"The demo estate of {name} is complete: {locations.kept} locations, "
                f"{tariffs.kept} tariffs and {tokens.kept} demo eMSP tokens exist, kept as "
                "they are; nothing added."
            )
        return (
            f"Demo estate of {name} (seed {result.seed}): "
            f"{locations.total} locations ({locations.created} created with "
            f"{result.evses} EVSEs and {result.connectors} connectors, {locations.kept} kept "
            f"as they were); {tariffs.total} tariffs ({tariffs.created} created, "
            f"{tariffs.kept} kept); demo eMSP {DEMO_EMSP}: {tokens.total} tokens "
            f"({tokens.created} created, {tokens.kept} kept): {DEMO_TOKENS}."
        )
