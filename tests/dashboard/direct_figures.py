"""The overview's figures aggregated straight from the sessions and CDRs, with the same rules
(SessionQuerySet.charged, CdrQuerySet.report): what the figures kept per day
(sessions.daily, cdrs.daily) and the site ranking's candidates (cdrs.selectors.cdr_top_sites)
must equal. The platform reads the kept figures; these are the tests' yardstick."""

from datetime import datetime, tzinfo
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from cdrs.models import Cdr
from cdrs.selectors import Figures, Revenue, RevenueDay, figures_of
from sessions.models import Session
from sessions.selectors import SessionDay, SessionTotals, charged_per_day


def charged_session_totals(*, today: datetime, month: datetime) -> SessionTotals:
    """Sessions charged and their kWh since the starts `today` and `month`."""
    since_today, since_month = Q(start_date_time__gte=today), Q(start_date_time__gte=month)
    totals = (
        Session.objects.charged()
        .filter(start_date_time__gte=min(today, month))
        .aggregate(
            sessions_today=Count("pk", filter=since_today),
            sessions_month=Count("pk", filter=since_month),
            kwh_today=Sum("kwh", filter=since_today),
            kwh_month=Sum("kwh", filter=since_month),
        )
    )
    return SessionTotals(
        sessions_today=totals["sessions_today"],
        sessions_month=totals["sessions_month"],
        kwh_today=totals["kwh_today"] or Decimal(0),
        kwh_month=totals["kwh_month"] or Decimal(0),
    )


def charged_sessions_per_day(*, since: datetime, zone: tzinfo) -> list[SessionDay]:
    """Sessions charged and their kWh per day (of their start, in `zone`) from `since`."""
    return charged_per_day(Session.objects.filter(start_date_time__gte=since), zone)


def cdr_revenue_by_currency(*, today: datetime, month: datetime) -> list[Revenue]:
    """Revenue per currency of the CDRs of sessions that ended since `today` and `month`."""
    since_today, since_month = Q(end_date_time__gte=today), Q(end_date_time__gte=month)
    rows = (
        Cdr.objects.ended_in(min(today, month), None)
        .order_by("currency")
        .values("currency")
        .annotate(
            today=Sum("total_cost_excl_vat", filter=since_today),
            month=Sum("total_cost_excl_vat", filter=since_month),
        )
        .values_list("currency", "today", "month")
    )
    return [
        Revenue(currency, today_sum or Decimal(0), month_sum or Decimal(0))
        for currency, today_sum, month_sum in rows
    ]


def cdr_revenue_per_day(*, since: datetime, zone: tzinfo) -> list[RevenueDay]:
    """Revenue per day (of the session's end, in `zone`) and currency from `since`."""
    rows = (
        Cdr.objects.ended_in(since, None)
        .annotate(day=TruncDate("end_date_time", tzinfo=zone))
        .values("day", "currency")
        .annotate(amount=Sum("total_cost_excl_vat"))
        .values_list("day", "currency", "amount")
    )
    return sorted(RevenueDay(day, currency, amount) for day, currency, amount in rows)


def cdr_figures_per(dimension: str, *, since: datetime) -> list[Figures]:
    """Sessions, kWh and revenue excl. VAT per site ("site") or eMSP party ("partner") of the
    CDRs of sessions that ended since `since`, every one of them, in the report's order."""
    return figures_of(Cdr.objects.ended_in(since, None).report(by=[dimension]), dimension)
