"""The charged sessions and their kWh per day, kept in a table (ocpi.daily_figures) so the
admin's overview reads a row per day, not every session of the month. A session counts on
the day it started (in settings.TIME_ZONE), by SessionQuerySet.charged.

A session's start moves only when a pending session or a reservation becomes active
(sessions.services): it was not counted on its old day, so only its new day moves, and the
write that moved it bumped last_updated.
"""

from collections.abc import Iterable
from datetime import date, tzinfo
from decimal import Decimal
from typing import Any, cast

from django.db import models

from ocpi.daily_figures import DailyFigures, refresh
from sessions.models import Session, SessionDayFigures, SessionQuerySet
from sessions.selectors import SessionDay, SessionTotals, charged_per_day


def _figures(sessions: "models.QuerySet[Any]", zone: tzinfo) -> Iterable[SessionDayFigures]:
    return [
        SessionDayFigures(day=one.day, sessions=one.sessions, kwh=one.kwh)
        for one in charged_per_day(cast(SessionQuerySet, sessions), zone)
    ]


KEPT = DailyFigures(
    name="sessions:day",
    table=SessionDayFigures,
    rows=Session.objects.all,
    day_field="start_date_time",
    figures=_figures,
)


def kept_session_figures(
    *, today: date, month: date, since: date
) -> tuple[SessionTotals, list[SessionDay]]:
    """Charged sessions and their kWh since the days `today` and `month`, and per day from
    the day `since` (SessionQuerySet.charged, by the day of their start), days in
    settings.TIME_ZONE: the table brought up to date, then one query."""
    refresh(KEPT)
    days = list(
        SessionDayFigures.objects.filter(day__gte=min(today, month, since))
        .order_by("day")
        .values_list("day", "sessions", "kwh")
    )
    totals = SessionTotals(
        sessions_today=sum(n for day, n, _ in days if day >= today),
        sessions_month=sum(n for day, n, _ in days if day >= month),
        kwh_today=sum((kwh for day, _, kwh in days if day >= today), Decimal(0)),
        kwh_month=sum((kwh for day, _, kwh in days if day >= month), Decimal(0)),
    )
    return totals, [SessionDay(day, n, kwh) for day, n, kwh in days if day >= since]
