"""Lay a session's charging periods out on the time line, as slices of one activity each.

A ChargingPeriod lasts from its start until the next period starts, the last one until the
session ends (mod_cdrs, ChargingPeriod). Its dimensions say what happened in it:

- Time is measured on the clock, from the period's boundaries (exact to the microsecond).
  TIME, PARKING_TIME and RESERVATION_TIME volumes (4 decimals of an hour, 0.36 s) only say
  which activity the period held: a period with just TIME is charging from start to end. A
  period holding several shares its duration among them in proportion to their volumes, in the
  order reservation, charging, parking (a reservation ends when charging starts, parking
  follows charging).
- A period without any time dimension is charging when energy flowed or power/current was
  drawn, else parking (the vehicle did not request power: PARKING_TIME, errata definition).
- ENERGY (else the session-only ENERGY_IMPORT) is consumed linearly over the period's
  charging slice (mod_cdrs: a crossing point "can be interpolated … using the metering
  information before and after that moment"). Net export (negative ENERGY) is not billed:
  OCPI 2.2.1 prices no export, so it counts as 0.
- The power and current a restriction compares with are those of the period's charging slice
  (see `_representative_power`), and 0 while parking or reserved.

Periods that start at the same instant are one period (their volumes added); a last period of
no duration is folded into the one before it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from tariffs.engine.model import CdrDimension, ChargingPeriod, Timeline, TimelineError
from tariffs.engine.rounding import CONTEXT, MICROS_PER_HOUR

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
_ZERO = Decimal(0)

Dimensions = Mapping[CdrDimension, Decimal]

_ADDED = frozenset(
    {
        CdrDimension.ENERGY,
        CdrDimension.ENERGY_EXPORT,
        CdrDimension.ENERGY_IMPORT,
        CdrDimension.TIME,
        CdrDimension.PARKING_TIME,
        CdrDimension.RESERVATION_TIME,
    }
)
_HIGHEST = frozenset({CdrDimension.MAX_CURRENT, CdrDimension.MAX_POWER})
_LOWEST = frozenset({CdrDimension.MIN_CURRENT, CdrDimension.MIN_POWER})
_TIME_DIMENSIONS = (CdrDimension.RESERVATION_TIME, CdrDimension.TIME, CdrDimension.PARKING_TIME)


class Phase(StrEnum):
    RESERVATION = "RESERVATION"
    CHARGING = "CHARGING"
    PARKING = "PARKING"


_PHASE_OF = {
    CdrDimension.RESERVATION_TIME: Phase.RESERVATION,
    CdrDimension.TIME: Phase.CHARGING,
    CdrDimension.PARKING_TIME: Phase.PARKING,
}


@dataclass(frozen=True, slots=True)
class Slice:
    start: int  # µs since the epoch
    end: int
    phase: Phase
    period: int  # index in Layout.periods; -1 for an explicit Reservation
    energy: Decimal  # kWh consumed in the slice, ≥ 0
    power: Decimal | None  # kW the restrictions see; None when unknown
    current: Decimal | None  # A (all phases); None when unknown


@dataclass(frozen=True)
class Layout:
    slices: tuple[Slice, ...]
    periods: tuple[Dimensions, ...]  # each period's dimensions, after merging
    start: int
    end: int
    session_origin: int  # durations (min/max_duration) count from here: the session's start
    reservation_origin: int  # … and from here while reserved
    expired: bool  # a reservation that never became a charging session


def to_micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise TimelineError(f"{moment!r} has no time zone; instants must be aware")
    return (moment - EPOCH) // _ONE_MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def lay_out(timeline: Timeline) -> Layout:
    starts, periods = _merged_periods(timeline.periods)
    end = to_micros(timeline.end)
    if starts and end < starts[-1]:
        raise TimelineError("the session ends before its last charging period starts")
    if len(starts) > 1 and starts[-1] == end:  # a last period of no duration
        starts.pop()
        periods[-2] = _merge(periods[-2], periods.pop())
    slices: list[Slice] = []
    reservation = timeline.reservation
    if reservation is not None:
        begin, until = to_micros(reservation.start), to_micros(reservation.end)
        if until < begin or (starts and until > starts[0]):
            raise TimelineError("the reservation must end before the first charging period")
        if until > begin:
            slices.append(Slice(begin, until, Phase.RESERVATION, -1, _ZERO, _ZERO, _ZERO))
    bounds = [*starts[1:], end] if starts else []
    for index, (start, stop) in enumerate(zip(starts, bounds, strict=True)):
        slices.extend(_period_slices(index, start, stop, periods[index]))
    first = slices[0].start if slices else (starts[0] if starts else end)
    session = [s.start for s in slices if s.phase != Phase.RESERVATION]
    reserved = any(s.phase == Phase.RESERVATION for s in slices)
    if reservation is not None:
        expired = reservation.expired
    else:
        expired = reserved and not session and all(s.energy == 0 for s in slices)
    return Layout(
        slices=tuple(slices),
        periods=tuple(periods),
        start=first,
        end=max(end, first, *(s.end for s in slices[-1:])),
        session_origin=session[0] if session else first,
        reservation_origin=first,
        expired=expired,
    )


def _merged_periods(
    periods: tuple[ChargingPeriod, ...],
) -> tuple[list[int], list[dict[CdrDimension, Decimal]]]:
    starts: list[int] = []
    merged: list[dict[CdrDimension, Decimal]] = []
    for index, period in enumerate(periods):
        start = to_micros(period.start_date_time)
        dimensions = _dimensions(index, period)
        if starts and start < starts[-1]:
            raise TimelineError(f"charging period {index} starts before the one before it")
        if starts and start == starts[-1]:
            merged[-1] = _merge(merged[-1], dimensions)
            continue
        starts.append(start)
        merged.append(dimensions)
    return starts, merged


def _dimensions(index: int, period: ChargingPeriod) -> dict[CdrDimension, Decimal]:
    values: dict[CdrDimension, Decimal] = {}
    for dimension in period.dimensions:
        if dimension.type in values:
            raise TimelineError(f"charging period {index} has {dimension.type} twice")
        if dimension.type in _TIME_DIMENSIONS and dimension.volume < 0:
            raise TimelineError(f"charging period {index} has a negative {dimension.type}")
        values[dimension.type] = dimension.volume
    return values


def _merge(earlier: Dimensions, later: Dimensions) -> dict[CdrDimension, Decimal]:
    """Two readings of one instant: volumes add up, extremes stay extreme, the rest is newer."""
    merged = dict(earlier)
    for kind, volume in later.items():
        if kind not in merged:
            merged[kind] = volume
        elif kind in _ADDED:
            merged[kind] = merged[kind] + volume
        elif kind in _HIGHEST:
            merged[kind] = max(merged[kind], volume)
        elif kind in _LOWEST:
            merged[kind] = min(merged[kind], volume)
        else:
            merged[kind] = volume
    return merged


def period_energy(dimensions: Dimensions) -> Decimal | None:
    """kWh charged in a period: ENERGY, else the session-only ENERGY_IMPORT; None if neither."""
    energy = dimensions.get(CdrDimension.ENERGY, dimensions.get(CdrDimension.ENERGY_IMPORT))
    return None if energy is None else max(energy, _ZERO)


def _period_slices(index: int, start: int, stop: int, dimensions: Dimensions) -> list[Slice]:
    energy = period_energy(dimensions) or _ZERO
    widths = _phase_widths(stop - start, dimensions, energy)
    if not widths:
        return []
    receiver = next(
        (p for p in (Phase.CHARGING, Phase.PARKING, Phase.RESERVATION) if p in widths), None
    )
    slices = []
    offset = start
    for phase, width in widths.items():
        charging = phase == Phase.CHARGING
        slice_energy = energy if phase == receiver else _ZERO
        slices.append(
            Slice(
                start=offset,
                end=offset + width,
                phase=phase,
                period=index,
                energy=slice_energy,
                power=_representative_power(dimensions, slice_energy, width) if charging else _ZERO,
                current=_representative_current(dimensions) if charging else _ZERO,
            )
        )
        offset += width
    return slices


def _phase_widths(duration: int, dimensions: Dimensions, energy: Decimal) -> dict[Phase, int]:
    """The period's duration (µs) per activity, in the order the activities happen."""
    if duration <= 0:
        return {}
    volumes = {
        _PHASE_OF[kind]: dimensions.get(kind, _ZERO)
        for kind in _TIME_DIMENSIONS
        if dimensions.get(kind, _ZERO) > 0
    }
    if not volumes:
        drawing = (
            energy > 0
            or _positive(dimensions.get(CdrDimension.POWER))
            or _positive(dimensions.get(CdrDimension.CURRENT))
            or _positive(dimensions.get(CdrDimension.MAX_POWER))
            or _positive(dimensions.get(CdrDimension.MAX_CURRENT))
        )
        return {Phase.CHARGING if drawing else Phase.PARKING: duration}
    total = sum(volumes.values(), _ZERO)
    widths: dict[Phase, int] = {}
    left = duration
    phases = list(volumes)
    for phase in phases[:-1]:
        share = CONTEXT.divide(CONTEXT.multiply(Decimal(duration), volumes[phase]), total)
        width = int(share.to_integral_value(ROUND_HALF_EVEN))
        widths[phase] = width
        left -= width
    widths[phases[-1]] = left
    return {phase: width for phase, width in widths.items() if width > 0}


def _positive(value: Decimal | None) -> bool:
    return value is not None and value > 0


def _mean(low: Decimal | None, high: Decimal | None) -> Decimal | None:
    if low is not None and high is not None:
        return CONTEXT.divide(low + high, Decimal(2))
    return low if low is not None else high


def _representative_power(dimensions: Dimensions, energy: Decimal, width: int) -> Decimal | None:
    """The power min_power/max_power compare with: the period's average.

    POWER (the session-only average) when given; else energy over charging time, the same
    linear consumption the engine interpolates with; else the middle of MIN_POWER and
    MAX_POWER (or the one given). A period that crosses a threshold must be split by the CPO
    (mod_cdrs, ChargingPeriod), so one value per period is all a restriction needs.
    """
    if CdrDimension.POWER in dimensions:
        return dimensions[CdrDimension.POWER]
    if period_energy(dimensions) is not None and width > 0:
        # One division: exact whenever the average is, so that splitting a period evenly
        # leaves the average power of its halves exactly that of the whole.
        return CONTEXT.divide(CONTEXT.multiply(energy, Decimal(MICROS_PER_HOUR)), Decimal(width))
    return _mean(dimensions.get(CdrDimension.MIN_POWER), dimensions.get(CdrDimension.MAX_POWER))


def _representative_current(dimensions: Dimensions) -> Decimal | None:
    """CURRENT (the average) when given, else the middle of MIN_/MAX_CURRENT (or the one)."""
    if CdrDimension.CURRENT in dimensions:
        return dimensions[CdrDimension.CURRENT]
    return _mean(dimensions.get(CdrDimension.MIN_CURRENT), dimensions.get(CdrDimension.MAX_CURRENT))
