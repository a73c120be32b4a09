"""Figures kept per day: one mechanism keeps every such table fresh (the CDR and the session
figures of the admin's overview), so reading 30 days sums 30 rows per group instead of
aggregating every row of 30 days.

A table's rows are computed from its source rows by the owning app's rule (`figures`), per
day (of `day_field`, in settings.TIME_ZONE). On every read, `refresh` recomputes exactly
the days whose figures may have moved since the watermark: the days of the rows written
since (every write bumps last_updated, indexed for the OCPI pulls), and the days of the rows
those writes move (`also_touched`: the CDR a new corrected CDR replaces). A recompute
replaces the day's rows in the transaction that holds the watermark's row lock, so two
readers never add a day twice. A table counted by another zone is rebuilt whole.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import reduce
from operator import or_
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import TruncDate

from ocpi.models import FiguresWatermark
from ocpi.time import now

# last_updated is the moment the write was made, not when its transaction committed: a
# write that committed after a refresh carries a last_updated before that refresh's
# watermark. Re-reading this much before the watermark finds every write that took less
# than this to commit (OCPI writes are short transactions; seconds at worst).
OVERLAP = timedelta(minutes=5)


@dataclass(frozen=True)
class DailyFigures:
    name: str  # the watermark's
    table: type[models.Model]  # one row per day and group: a DateField `day`
    rows: Callable[[], "models.QuerySet[Any]"]  # every row whose write may move a figure
    day_field: str  # the source's datetime whose day (in settings.TIME_ZONE) a row counts on
    # The table's rows (unsaved, each with its `day`) of the source rows given, days in zone.
    figures: Callable[["models.QuerySet[Any]", tzinfo], Iterable[models.Model]]
    # The source rows whose figures the rows given move besides their own.
    also_touched: Callable[["models.QuerySet[Any]"], "models.QuerySet[Any]"] | None = None


def refresh(kept: DailyFigures, *, rebuild: bool = False) -> None:
    """Bring `kept`'s table up to date: the days touched since its watermark, or all (on the
    first refresh, after a change of zone, or when `rebuild` asks for it: e.g. after a write
    whose transaction outlived the overlap)."""
    zone_name = settings.TIME_ZONE
    zone = ZoneInfo(zone_name)
    with transaction.atomic():
        mark = _locked_mark(kept.name)
        started = now()  # after the lock: rows written from here on are the next refresh's
        rows = kept.table._default_manager
        if rebuild or mark.until is None or mark.zone != zone_name:
            rows.all().delete()
            rows.bulk_create(kept.figures(kept.rows(), zone))
        else:
            days = touched_days(kept, since=mark.until - OVERLAP, zone=zone)
            if days:
                rows.filter(day__in=days).delete()
                rows.bulk_create(kept.figures(kept.rows().filter(on_days(kept, days, zone)), zone))
        mark.until, mark.zone = started, zone_name
        mark.save(update_fields=["until", "zone"])


def _locked_mark(name: str) -> FiguresWatermark:
    """The watermark `name`, locked until the transaction ends; created (never computed) by
    the first reader, two first readers at once creating it once."""
    locked = FiguresWatermark.objects.select_for_update()
    mark = locked.filter(name=name).first()
    if mark is None:
        FiguresWatermark.objects.bulk_create([FiguresWatermark(name=name)], ignore_conflicts=True)
        mark = locked.get(name=name)
    return mark


def touched_days(kept: DailyFigures, *, since: datetime, zone: tzinfo) -> set[date]:
    """The days (in `zone`) of the rows written since `since` and of the rows they move:
    one query (by the last_updated index)."""
    written = kept.rows().filter(last_updated__gte=since)
    moved = [written] + ([kept.also_touched(written)] if kept.also_touched else [])
    days = [
        source.order_by()
        .annotate(day=TruncDate(kept.day_field, tzinfo=zone))
        .values_list("day", flat=True)
        for source in moved
    ]
    return set(days[0].union(*days[1:]))


def on_days(kept: DailyFigures, days: Iterable[date], zone: tzinfo) -> Q:
    """Rows whose `day_field` falls on one of `days` in `zone`: ranges an index serves."""
    ranges = []
    for day in days:
        start = datetime.combine(day, time(), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        ranges.append(Q(**{f"{kept.day_field}__gte": start, f"{kept.day_field}__lt": end}))
    return reduce(or_, ranges)
