"""`python manage.py refresh_dashboard_figures`: bring the figures the overview keeps per day
(ocpi.daily_figures) up to date now. After a deploy that adds them, or a change of
settings.TIME_ZONE, this computes them whole, so no one's first dashboard view has to; on a
large estate that takes a while (bench/RESULTS.md). `--rebuild` computes every day again,
whatever the watermark says."""

from time import monotonic
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cdrs import daily as cdr_days
from ocpi.daily_figures import refresh
from sessions import daily as session_days


class Command(BaseCommand):
    help = "Bring the dashboard's figures kept per day (sessions, CDRs) up to date."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="compute every day again, not only the days written since the last refresh",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for kept in (session_days.KEPT, cdr_days.KEPT):
            started = monotonic()
            refresh(kept, rebuild=options["rebuild"])
            self.stdout.write(f"{kept.name}: up to date in {monotonic() - started:.1f} s")
