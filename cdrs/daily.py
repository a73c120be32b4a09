"""What the CDRs add up to per day (of the session's end, in settings.TIME_ZONE), eMSP party
and currency, kept in a table (ocpi.daily_figures) so the admin's overview reads a row per
day and party, not every CDR of the month. Computed by CdrQuerySet.report, the one rule of
which CDRs count: CDRs are only ever inserted, and a corrected CDR takes the one it replaces
out of its day's sessions and kWh, so that day is recomputed too.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, tzinfo
from decimal import Decimal
from typing import Any, cast

from django.db import models

from cdrs.models import Cdr, CdrDayFigures, CdrQuerySet
from cdrs.selectors import Figures, Revenue, RevenueDay, figures_of
from ocpi.daily_figures import DailyFigures, refresh


def _figures(cdrs: "models.QuerySet[Any]", zone: tzinfo) -> Iterable[CdrDayFigures]:
    return [
        CdrDayFigures(
            day=row["day"],
            emsp_country_code=row["emsp_country_code"],
            emsp_party_id=row["emsp_party_id"],
            currency=row["currency_code"],
            sessions=row["sessions"] or 0,
            kwh=row["energy_kwh"] or Decimal(0),
            revenue_excl_vat=row["revenue_excl_vat"] or Decimal(0),
        )
        for row in cast(CdrQuerySet, cdrs).report(by=["partner"], days_in=zone)
    ]


def _replaced(written: "models.QuerySet[Any]") -> "models.QuerySet[Any]":
    """The CDRs the corrected CDRs among `written` replace."""
    return Cdr.objects.filter(pk__in=written.filter(corrects__isnull=False).values("corrects"))


KEPT = DailyFigures(
    name="cdrs:day",
    table=CdrDayFigures,
    rows=Cdr.objects.all,
    day_field="end_date_time",
    figures=_figures,
    also_touched=_replaced,
)


def kept_cdr_figures(
    *, today: date, month: date, since: date
) -> tuple[list[Revenue], list[RevenueDay], list[Figures]]:
    """Revenue excl. VAT per currency since the days `today` and `month`, per day and
    currency, and figures per eMSP party from the day `since` (CdrQuerySet.report's rules),
    days in settings.TIME_ZONE: the table brought up to date, then one query."""
    refresh(KEPT)
    rows = list(
        CdrDayFigures.objects.filter(day__gte=min(today, month, since)).order_by(
            "emsp_country_code", "emsp_party_id", "currency", "day"
        )
    )
    tiles: dict[str, list[Decimal]] = {}
    per_day: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    partners = []
    for row in rows:
        if row.day >= min(today, month):
            tile = tiles.setdefault(row.currency, [Decimal(0), Decimal(0)])
            tile[0] += row.revenue_excl_vat if row.day >= today else 0
            tile[1] += row.revenue_excl_vat if row.day >= month else 0
        if row.day >= since:
            per_day[row.day, row.currency] += row.revenue_excl_vat
            partners.append(
                {
                    "emsp_country_code": row.emsp_country_code,
                    "emsp_party_id": row.emsp_party_id,
                    "currency_code": row.currency,
                    "sessions": row.sessions,
                    "energy_kwh": row.kwh,
                    "revenue_excl_vat": row.revenue_excl_vat,
                }
            )
    return (
        [Revenue(code, tiles[code][0], tiles[code][1]) for code in sorted(tiles)],
        sorted(RevenueDay(day, currency, amount) for (day, currency), amount in per_day.items()),
        figures_of(partners, "partner"),
    )
