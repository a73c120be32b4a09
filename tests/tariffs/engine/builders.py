"""Build tariffs and session timelines for the engine's tests in a few words."""

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ocpi import json
from tariffs.engine import (
    CdrDimension,
    ChargingPeriod,
    Dimension,
    Price,
    Reservation,
    Tariff,
    Timeline,
    tariff_from_ocpi,
)

VECTORS = Path(__file__).resolve().parent / "vectors"
# The spec's examples are German tariffs (DE*ALL): local time is Berlin's.
BERLIN = ZoneInfo("Europe/Berlin")

# Restrictions that are numbers: given as strings here, exact Decimals in the tariff.
_NUMBERS = ("kwh", "power", "current")

Step = tuple[int | Decimal, dict[CdrDimension, Decimal]]


def vector(name: str) -> dict[str, Any]:
    """A spec example as a partner sends it, numbers read as exact Decimals."""
    loaded: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return loaded


def spec_tariff(name: str) -> Tariff:
    return tariff_from_ocpi(vector(name))


def tariff(*elements: dict[str, Any], **fields: Any) -> Tariff:
    """A tariff of the given OCPI elements, e.g. element(component("TIME", "2.00", 60))."""
    return tariff_from_ocpi({"id": "T", "currency": "EUR", "elements": list(elements), **fields})


def component(kind: str, price: str, step_size: int = 1, vat: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"type": kind, "price": Decimal(price), "step_size": step_size}
    if vat is not None:
        found["vat"] = Decimal(vat)
    return found


def element(*components: dict[str, Any], **restrictions: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"price_components": list(components)}
    if restrictions:
        found["restrictions"] = {
            name: Decimal(value) if name.endswith(_NUMBERS) else value
            for name, value in restrictions.items()
        }
    return found


def hours_of(minutes: int | Decimal) -> Decimal:
    """A time volume as a CDR carries it: hours, 4 decimals."""
    return (Decimal(minutes) / 60).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def charge(minutes: int | Decimal, kwh: str | int = 0, **extra: str | int) -> Step:
    dims = {CdrDimension.ENERGY: Decimal(kwh), CdrDimension.TIME: hours_of(minutes)}
    dims.update({CdrDimension(name): Decimal(value) for name, value in extra.items()})
    return minutes, dims


def measured(minutes: int | Decimal, **dimensions: str) -> Step:
    """Charging with the given dimensions (any CdrDimensionType) besides TIME."""
    dims = {CdrDimension.TIME: hours_of(minutes)}
    dims.update({CdrDimension(name): Decimal(value) for name, value in dimensions.items()})
    return minutes, dims


def park(minutes: int | Decimal) -> Step:
    return minutes, {CdrDimension.ENERGY: Decimal(0), CdrDimension.PARKING_TIME: hours_of(minutes)}


def reserve(minutes: int | Decimal) -> Step:
    return minutes, {CdrDimension.RESERVATION_TIME: hours_of(minutes)}


def period(start: datetime, dims: dict[CdrDimension, Decimal]) -> ChargingPeriod:
    return ChargingPeriod(start, tuple(Dimension(kind, volume) for kind, volume in dims.items()))


def session(start: datetime, *steps: Step, reservation: Reservation | None = None) -> Timeline:
    """Periods one after the other from `start`; the session ends when the last one does."""
    periods = []
    moment = start.astimezone(UTC)  # aware arithmetic in a zone would add wall-clock time
    for minutes, dims in steps:
        periods.append(period(moment, dims))
        moment += _minutes(minutes)
    return Timeline(periods=tuple(periods), end=moment, reservation=reservation)


def _minutes(minutes: int | Decimal) -> timedelta:
    return timedelta(microseconds=int(Decimal(minutes) * 60_000_000))


def at(text: str) -> datetime:
    """A local time in Berlin, e.g. at("2024-06-03 09:30") (a Monday)."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def price(excl: str, incl: str | None = None) -> Price:
    return Price(Decimal(excl), Decimal(excl if incl is None else incl))


def cents(value: Price) -> Price:
    """A total rounded to the cent, as the spec's examples print most amounts."""
    step = Decimal("0.01")
    return Price(
        value.excl_vat.quantize(step, rounding=ROUND_HALF_UP),
        value.incl_vat.quantize(step, rounding=ROUND_HALF_UP),
    )
