"""Reads of sessions, scoped to the caller and prefetched for rendering.

An eMSP sees the sessions of its own tokens only (DESIGN.md, "Who gets what"; STYLE.md: every
query scoped to the caller): the token's country_code and party_id, not the location's, say
whose a session is. The operator's figures (the admin's overview) count all sessions.
"""

from collections.abc import Sequence
from datetime import date, tzinfo
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, Prefetch, Sum
from django.db.models.functions import TruncDate

from ocpi.routing import PartyRef
from sessions.models import Session, SessionChargingPeriod, SessionQuerySet, SessionStatus


def with_relations(queryset: SessionQuerySet) -> SessionQuerySet:
    """Location, EVSE and connector joined, periods in order: two queries per page."""
    return queryset.select_related("location", "evse", "connector").prefetch_related(
        Prefetch("charging_periods", queryset=SessionChargingPeriod.objects.order_by("position"))
    )


def session_list(
    *, owners: Sequence[PartyRef], token_parties: Sequence[PartyRef]
) -> SessionQuerySet:
    """Sessions of our `owners` (CPO parties) for tokens of `token_parties`, oldest first."""
    scoped = Session.objects.visible_to(owners=owners, token_parties=token_parties)
    return with_relations(scoped).order_by("pk")


def session_get(
    *, owners: Sequence[PartyRef], token_parties: Sequence[PartyRef], session_id: str
) -> Session | None:
    """One session by its OCPI id (a CiString: compared case-insensitively), within scope."""
    return (
        session_list(owners=owners, token_parties=token_parties)
        .filter(ocpi_id__ci=session_id)
        .first()
    )


class SessionTotals(NamedTuple):
    sessions_today: int
    sessions_month: int
    kwh_today: Decimal
    kwh_month: Decimal


class SessionDay(NamedTuple):
    day: date
    sessions: int
    kwh: Decimal


def active_session_count() -> int:
    return Session.objects.filter(status=SessionStatus.ACTIVE).count()


def charged_per_day(sessions: SessionQuerySet, zone: tzinfo) -> list[SessionDay]:
    """Of `sessions`, those charged and their kWh per day of their start in `zone`, in order."""
    rows = (
        sessions.charged()
        .annotate(day=TruncDate("start_date_time", tzinfo=zone))
        .order_by()  # put in order here: an ORDER BY sorts every row before grouping them
        .values("day")
        .annotate(sessions=Count("*"), kwh=Sum("kwh"))
        .values_list("day", "sessions", "kwh")
    )
    return sorted(SessionDay(day, sessions, kwh or Decimal(0)) for day, sessions, kwh in rows)
