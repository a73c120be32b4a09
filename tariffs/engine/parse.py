"""Build the engine's values from OCPI JSON objects (mod_tariffs, mod_cdrs, mod_sessions).

Input is a dict as `ocpi.json.loads` reads it (numbers as Decimal or int) or as
`tariffs.serializers.TariffSerializer` renders a stored tariff. A float is refused: it has
already lost the exact value. Fields the engine does not need are ignored, so a Tariff, a CDR
and a Session can be read as they are.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from ocpi.time import parse_datetime
from tariffs.engine.model import (
    DAYS_OF_WEEK,
    CdrDimension,
    ChargingPeriod,
    Dimension,
    PriceComponent,
    PriceLimit,
    ReservationRestriction,
    Restrictions,
    Tariff,
    TariffDimension,
    TariffElement,
    TariffError,
    Timeline,
    TimelineError,
)

# TariffRestrictions regexes, verbatim from the spec's table.
_TIME = re.compile(r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")
_DATE = re.compile(r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
# "A reservation can only have: FLAT and TIME TariffDimensions" (TariffRestrictions).
_RESERVATION_DIMENSIONS = {TariffDimension.FLAT, TariffDimension.TIME}
_TIME_VOLUMES = (CdrDimension.TIME, CdrDimension.PARKING_TIME, CdrDimension.RESERVATION_TIME)

Error = type[ValueError]
_E = TypeVar("_E", TariffDimension, CdrDimension, ReservationRestriction)


def tariff_from_ocpi(data: Mapping[str, Any]) -> Tariff:
    """A Tariff object; raise TariffError naming the first field that is wrong."""
    _require_mapping(data, "tariff", TariffError)
    elements = _list(data, "elements", "", TariffError, required=True)
    if not elements:
        raise TariffError("elements: a tariff needs at least one element")
    return Tariff(
        id=_string(data, "id", TariffError),
        currency=_string(data, "currency", TariffError),
        elements=tuple(_element(e, f"elements[{i}]") for i, e in enumerate(elements)),
        min_price=_limit(data.get("min_price"), "min_price"),
        max_price=_limit(data.get("max_price"), "max_price"),
    )


def _element(data: Any, path: str) -> TariffElement:
    _require_mapping(data, path, TariffError)
    components = _list(data, "price_components", path, TariffError, required=True)
    if not components:
        raise TariffError(f"{path}.price_components: an element needs at least one component")
    restrictions = _restrictions(data.get("restrictions"), f"{path}.restrictions")
    parsed = tuple(_component(c, f"{path}.price_components[{i}]") for i, c in enumerate(components))
    if restrictions.reservation is not None:
        wrong = sorted({c.type for c in parsed} - _RESERVATION_DIMENSIONS)
        if wrong:
            raise TariffError(
                f"{path}: a reservation element may only have FLAT and TIME components, "
                f"not {', '.join(wrong)}"
            )
    return TariffElement(price_components=parsed, restrictions=restrictions)


def _component(data: Any, path: str) -> PriceComponent:
    _require_mapping(data, path, TariffError)
    kind = _enum(data.get("type"), TariffDimension, f"{path}.type", TariffError)
    price = _number(data.get("price"), f"{path}.price", TariffError)
    vat = data.get("vat")
    step = data.get("step_size")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise TariffError(f"{path}.step_size: must be a whole number ≥ 0")
    if kind != TariffDimension.FLAT and step < 1:
        raise TariffError(f"{path}.step_size: must be at least 1 for {kind}")
    if price < 0:
        raise TariffError(f"{path}.price: must not be negative")
    parsed_vat = None if vat is None else _number(vat, f"{path}.vat", TariffError)
    if parsed_vat is not None and parsed_vat < 0:
        raise TariffError(f"{path}.vat: must not be negative")
    return PriceComponent(type=kind, price=price, vat=parsed_vat, step_size=step)


def _restrictions(data: Any, path: str) -> Restrictions:
    if data is None:
        return Restrictions()
    _require_mapping(data, path, TariffError)
    days = data.get("day_of_week") or []
    if not isinstance(days, list) or any(day not in DAYS_OF_WEEK for day in days):
        raise TariffError(f"{path}.day_of_week: must be a list of {', '.join(DAYS_OF_WEEK)}")
    reservation = data.get("reservation")
    return Restrictions(
        start_time=_local_time(data.get("start_time"), f"{path}.start_time"),
        end_time=_local_time(data.get("end_time"), f"{path}.end_time"),
        start_date=_local_date(data.get("start_date"), f"{path}.start_date"),
        end_date=_local_date(data.get("end_date"), f"{path}.end_date"),
        min_kwh=_optional_number(data, "min_kwh", path),
        max_kwh=_optional_number(data, "max_kwh", path),
        min_current=_optional_number(data, "min_current", path),
        max_current=_optional_number(data, "max_current", path),
        min_power=_optional_number(data, "min_power", path),
        max_power=_optional_number(data, "max_power", path),
        min_duration=_optional_seconds(data, "min_duration", path),
        max_duration=_optional_seconds(data, "max_duration", path),
        day_of_week=frozenset(DAYS_OF_WEEK.index(day) for day in days),
        reservation=None
        if reservation is None
        else _enum(reservation, ReservationRestriction, f"{path}.reservation", TariffError),
    )


def _limit(data: Any, path: str) -> PriceLimit | None:
    if data is None:
        return None
    _require_mapping(data, path, TariffError)
    incl = data.get("incl_vat")
    return PriceLimit(
        excl_vat=_number(data.get("excl_vat"), f"{path}.excl_vat", TariffError),
        incl_vat=None if incl is None else _number(incl, f"{path}.incl_vat", TariffError),
    )


def _local_time(value: Any, path: str) -> time | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _TIME.match(value):
        raise TariffError(f"{path}: must be HH:MM (24 h, leading zeros)")
    return time.fromisoformat(value)


def _local_date(value: Any, path: str) -> date | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str) or not _DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise TariffError(f"{path}: must be a date YYYY-MM-DD") from None


def _optional_number(data: Mapping[str, Any], name: str, path: str) -> Decimal | None:
    value = data.get(name)
    if value is None:
        return None
    number = _number(value, f"{path}.{name}", TariffError)
    if number < 0:
        raise TariffError(f"{path}.{name}: must not be negative")
    return number


def _optional_seconds(data: Mapping[str, Any], name: str, path: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TariffError(f"{path}.{name}: must be a whole number of seconds ≥ 0")
    return value


def timeline_from_ocpi(data: Mapping[str, Any]) -> Timeline:
    """The timeline of a CDR or Session object: its charging periods and its end.

    Without `end_date_time` (a running session, or a CDR that has only its periods) the end is
    the last period's start plus its time volumes, else `start_date_time` plus `total_time`.
    """
    _require_mapping(data, "CDR or session", TimelineError)
    raw = _list(data, "charging_periods", "", TimelineError, required=False)
    periods = tuple(_period(p, f"charging_periods[{i}]") for i, p in enumerate(raw))
    end = data.get("end_date_time")
    if end is not None:
        return Timeline(periods=periods, end=_instant(end, "end_date_time"))
    if periods:
        last = periods[-1]
        volume = sum((last.volume(kind) or Decimal(0) for kind in _TIME_VOLUMES), Decimal(0))
        if volume > 0:
            return Timeline(periods=periods, end=last.start_date_time + _duration(volume))
    start, total = data.get("start_date_time"), data.get("total_time")
    if start is not None and total is not None:
        hours = _number(total, "total_time", TimelineError)
        return Timeline(periods=periods, end=_instant(start, "start_date_time") + _duration(hours))
    raise TimelineError(
        "end_date_time is missing and cannot be derived: the last charging period has no "
        "TIME, PARKING_TIME or RESERVATION_TIME, and there is no start_date_time + total_time"
    )


def _period(data: Any, path: str) -> ChargingPeriod:
    _require_mapping(data, path, TimelineError)
    dimensions = _list(data, "dimensions", path, TimelineError, required=True)
    parsed = []
    for index, item in enumerate(dimensions):
        where = f"{path}.dimensions[{index}]"
        _require_mapping(item, where, TimelineError)
        kind = _enum(item.get("type"), CdrDimension, f"{where}.type", TimelineError)
        parsed.append(
            Dimension(kind, _number(item.get("volume"), f"{where}.volume", TimelineError))
        )
    tariff_id = data.get("tariff_id")
    return ChargingPeriod(
        start_date_time=_instant(data.get("start_date_time"), f"{path}.start_date_time"),
        dimensions=tuple(parsed),
        tariff_id=tariff_id if isinstance(tariff_id, str) else None,
    )


def _duration(hours: Decimal) -> timedelta:
    micros = (hours * 3_600_000_000).to_integral_value()
    return timedelta(microseconds=int(micros))


def _instant(value: Any, path: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TimelineError(f"{path}: must be an aware datetime")
        return value.astimezone(UTC)
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise TimelineError(f"{path}: {exc}") from None


def _require_mapping(value: Any, path: str, error: Error) -> None:
    if not isinstance(value, Mapping):
        raise error(f"{path}: must be a JSON object")


def _list(
    data: Mapping[str, Any], name: str, path: str, error: Error, *, required: bool
) -> list[Any]:
    where = f"{path}.{name}" if path else name
    value = data.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise error(f"{where}: must be a list")
    return list(value)


def _string(data: Mapping[str, Any], name: str, error: Error) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise error(f"{name}: must be a non-empty string")
    return value


def _number(value: Any, path: str, error: Error) -> Decimal:
    if isinstance(value, float):
        raise error(f"{path}: read JSON with Decimal numbers (ocpi.json.loads), not floats")
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise error(f"{path}: must be a number")
    number = Decimal(value)
    if not number.is_finite():
        raise error(f"{path}: must be a finite number")
    return number


def _enum(value: Any, kind: type[_E], path: str, error: Error) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise error(f"{path}: must be one of {allowed}") from None
