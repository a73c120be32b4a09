"""What a session costs: the tariff engine on the session's frozen tariff and its periods.

One function for the running session and for its CDR (cdrs builds from `price()`), so a
completed session's total_cost is its CDR's total_cost by construction. Reservation time is
in the periods (a RESERVATION_TIME period from the reservation's start, sessions.metering),
so an eMSP that reads the Session object and its tariff can compute the same price.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sessions.models import Session, SessionChargingPeriod
from tariffs.engine import (
    CdrDimension,
    ChargingPeriod,
    Dimension,
    SessionCost,
    Timeline,
    price_session,
    tariff_from_ocpi,
)


def pricing_tariff(session: Session) -> dict[str, Any] | None:
    """The frozen Tariff object that prices the session (sessions.freeze), or None."""
    if not session.tariff_id:
        return None
    wanted = session.tariff_id.upper()
    return next((t for t in session.tariffs if str(t.get("id", "")).upper() == wanted), None)


def engine_periods(periods: Iterable[Mapping[str, Any]]) -> tuple[ChargingPeriod, ...]:
    """ChargingPeriod data (start_date_time, dimensions, tariff_id) as the engine's values."""
    return tuple(
        ChargingPeriod(
            start_date_time=period["start_date_time"],
            dimensions=tuple(
                Dimension(CdrDimension(d["type"]), d["volume"]) for d in period["dimensions"]
            ),
            tariff_id=period.get("tariff_id") or None,
        )
        for period in periods
    )


def stored_periods(session: Session) -> list[dict[str, Any]]:
    return stored_periods_of([session.pk])[session.pk]


def stored_periods_of(pks: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The stored periods of each of the sessions `pks`, in one query."""
    found: dict[int, list[dict[str, Any]]] = {pk: [] for pk in pks}
    rows = (
        SessionChargingPeriod.objects.filter(session_id__in=found)
        .order_by("session_id", "position")
        .values_list("session_id", "start_date_time", "dimensions", "tariff_id")
    )
    for session_id, start, dimensions, tariff_id in rows:
        found[session_id].append(
            {"start_date_time": start, "dimensions": dimensions, "tariff_id": tariff_id}
        )
    return found


def price(
    session: Session,
    until: datetime | None = None,
    periods: Iterable[Mapping[str, Any]] | None = None,
) -> SessionCost | None:
    """The session's cost up to `until` (default: its end, else the end of its metering).

    None when nothing can be priced: no tariff applies, or no period has been recorded yet
    (a pending session, or a reservation still running: its cost is known once it ends).
    `periods` defaults to the stored ones.
    """
    tariff = pricing_tariff(session)
    end = until or session.end_date_time or session.metered_until
    if tariff is None or end is None:
        return None
    timeline_periods = engine_periods(stored_periods(session) if periods is None else periods)
    if not timeline_periods:
        return None
    return price_session(
        tariff_from_ocpi(tariff),
        Timeline(periods=timeline_periods, end=end),
        ZoneInfo(session.time_zone),
    )
