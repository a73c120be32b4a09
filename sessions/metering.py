"""Charging periods of a session: readings become periods appended after the last one.

Periods have no end of their own (the next one's start ends them), so the session keeps
`metered_until`: the next period starts there. Volumes are kept to 4 decimals (an OCPI
number). A new period's energy counts from the energy of the periods stored before it
(metered_kwh), and kwh is that sum once the period is added; in between, kwh may run ahead
of the periods (session_progress tells a period still open). A reservation's time becomes a
RESERVATION_TIME period from the reservation's start when it ends (by charging or not), so
the Session alone says what was reserved and an eMSP can price it as we do.

These functions change the (locked) session in memory and insert its new periods; the
lifecycle services in sessions.services save it and push the PATCH.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sessions.checks import aware
from sessions.errors import InvalidPeriods, SessionError
from sessions.models import Session, SessionChargingPeriod
from sessions.serializers import energy_of, plain
from tariffs.engine import CdrDimension

VOLUME_PLACES = Decimal("0.0001")  # an OCPI number: 4 decimals (types.asciidoc)
MICROS_PER_HOUR = Decimal(3_600_000_000)


@dataclass(frozen=True)
class Reading:
    """What a meter says at one moment (for session_meter and session_stop).

    `kwh`: the energy since the session started (None: unchanged). The others describe the
    period since the previous reading: MAX_POWER / MIN_POWER in kW, CURRENT in A,
    STATE_OF_CHARGE in percent. `charging` None: charging when energy flowed.
    """

    kwh: Decimal | None = None
    max_power: Decimal | None = None
    min_power: Decimal | None = None
    current: Decimal | None = None
    state_of_charge: Decimal | None = None
    charging: bool | None = None


def volume(value: Any) -> Decimal:
    return plain(Decimal(value).quantize(VOLUME_PLACES, rounding=ROUND_HALF_UP))


def hours(start: datetime, end: datetime) -> Decimal:
    micros = (end - start) // timedelta(microseconds=1)
    return volume(Decimal(micros) / MICROS_PER_HOUR)


def _normalised(period: Mapping[str, Any], tariff_id: str) -> dict[str, Any]:
    try:
        dimensions = [
            {"type": CdrDimension(d["type"]).value, "volume": volume(d["volume"])}
            for d in period["dimensions"]
        ]
        start = period["start_date_time"]
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise InvalidPeriods(f"Not a ChargingPeriod: {period!r} ({exc})") from exc
    if not dimensions:
        raise InvalidPeriods("A charging period needs at least one dimension")
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise InvalidPeriods("start_date_time must be a timezone-aware datetime")
    return {
        "start_date_time": start,
        "dimensions": dimensions,
        "tariff_id": period.get("tariff_id") or tariff_id,
    }


def metered_kwh(session: Session, stored: Iterable[Mapping[str, Any]] | None = None) -> Decimal:
    """The energy of the session's stored periods: where the next period's energy counts from.
    `stored`: those periods, when the caller has read them already (sessions.pricing)."""
    if stored is None:
        dimensions = SessionChargingPeriod.objects.filter(session=session).values_list(
            "dimensions", flat=True
        )
        stored = ({"dimensions": each} for each in dimensions)
    return volume(energy_of(stored))


def append_periods(
    session: Session, periods: Sequence[Mapping[str, Any]], until: datetime
) -> list[dict[str, Any]]:
    """Store `periods`, which cover [metered_until, until), after the session's periods."""
    aware(until, "until")
    metered = metered_kwh(session)
    new = [_normalised(period, session.tariff_id) for period in periods]
    if not new:
        raise InvalidPeriods("No charging period to add")
    starts = [period["start_date_time"] for period in new]
    if starts[0] != session.metered_until:
        raise InvalidPeriods(
            f"The first new period must start where the last one ended ({session.metered_until})"
        )
    if any(later <= earlier for earlier, later in zip(starts, starts[1:], strict=False)):
        raise InvalidPeriods("Charging periods must start one after the other")
    if until <= starts[-1]:
        raise InvalidPeriods("`until` must be after the last period's start")
    position = SessionChargingPeriod.objects.filter(session=session).count()
    SessionChargingPeriod.objects.bulk_create(
        SessionChargingPeriod(
            session=session,
            position=position + index,
            start_date_time=period["start_date_time"],
            dimensions=period["dimensions"],
            tariff_id=period["tariff_id"],
        )
        for index, period in enumerate(new)
    )
    session.metered_until = until
    session.kwh = metered + energy_of(new)
    return new


def meter_period(
    session: Session, at: datetime, reading: Reading, metered: Decimal | None = None
) -> dict[str, Any]:
    """The period from the previous reading (metered_until) to `at`; without `reading.kwh`
    the meter stands where kwh last put it. `metered`: metered_kwh(session), when known."""
    aware(at)
    start = session.metered_until
    assert start is not None  # every ACTIVE session is metered from its activation
    if at <= start:
        raise InvalidPeriods(f"A reading at {at} is not after the previous one ({start})")
    if metered is None:
        metered = metered_kwh(session)
    meter = volume(reading.kwh) if reading.kwh is not None else session.kwh
    energy = volume(meter - metered)
    if energy < 0:
        raise InvalidPeriods(f"The meter went backwards: {meter} kWh after {metered} kWh")
    charging = reading.charging if reading.charging is not None else energy > 0
    time = CdrDimension.TIME if charging else CdrDimension.PARKING_TIME
    dimensions = [
        {"type": CdrDimension.ENERGY.value, "volume": energy},
        {"type": time.value, "volume": hours(start, at)},
    ]
    for kind, value in (
        (CdrDimension.MAX_POWER, reading.max_power),
        (CdrDimension.MIN_POWER, reading.min_power),
        (CdrDimension.CURRENT, reading.current),
        (CdrDimension.STATE_OF_CHARGE, reading.state_of_charge),
    ):
        if value is not None:
            dimensions.append({"type": kind.value, "volume": volume(value)})
    return {"start_date_time": start, "dimensions": dimensions}


def end_reservation(session: Session, at: datetime) -> list[dict[str, Any]]:
    """Close a reservation at `at`: its RESERVATION_TIME period, from its start."""
    start = session.reserved_from
    assert start is not None  # set by session_reserve
    if at < start:
        raise SessionError(f"The reservation started at {start}, after {at}")
    session.reserved_until = at
    session.metered_until = start
    if at == start:
        return []
    period = {
        "start_date_time": start,
        "dimensions": [{"type": "RESERVATION_TIME", "volume": hours(start, at)}],
    }
    return append_periods(session, [period], until=at)
