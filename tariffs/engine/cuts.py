"""The instants at which some restriction of some element could change its answer.

Cutting the session there leaves pieces over which every restriction holds or fails
throughout (checklist §5.2, step 2): wall-clock times named by start_time/end_time and local
midnights (day_of_week, start_date/end_date), daylight saving time jumps, session start plus
min/max_duration, and the moments cumulative energy reaches min/max_kwh. Power and current
only change at period boundaries, which are cuts already. Cutting too often costs nothing but
time; missing a cut would price a piece with the wrong element.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_CEILING, Decimal

from tariffs.engine.model import Tariff
from tariffs.engine.rounding import CONTEXT, MICROS_PER_SECOND
from tariffs.engine.timeline import from_micros, to_micros

_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0, 0)
# Energy crossings are put on whole milliseconds, the finest instant a DateTime carries.
_MILLISECOND = 1_000


def wall_times(tariff: Tariff) -> set[time]:
    times = {_MIDNIGHT}
    for element in tariff.elements:
        restrictions = element.restrictions
        times.update(t for t in (restrictions.start_time, restrictions.end_time) if t is not None)
    return times


def energy_thresholds(tariff: Tariff) -> list[Decimal]:
    limits = {
        limit
        for element in tariff.elements
        for limit in (element.restrictions.min_kwh, element.restrictions.max_kwh)
        if limit is not None and limit > 0
    }
    return sorted(limits)


def durations(tariff: Tariff) -> set[int]:
    return {
        seconds
        for element in tariff.elements
        for seconds in (element.restrictions.min_duration, element.restrictions.max_duration)
        if seconds is not None
    }


def clock_cuts(start: int, end: int, zone: tzinfo, times: Iterable[time]) -> set[int]:
    """Instants in (start, end) where the local clock shows one of `times`, or jumps.

    Both readings of an ambiguous wall time (fold 0 and 1) are cuts; a wall time that does not
    exist (skipped in spring) yields an instant too, which is a harmless extra cut. The jumps
    themselves are found per local day whose UTC offset changes.
    """
    cuts: set[int] = set()
    day = from_micros(start).astimezone(zone).date() - _ONE_DAY
    last = from_micros(end).astimezone(zone).date() + _ONE_DAY
    while day <= last:
        for wall in times:
            for fold in (0, 1):
                instant = to_micros(datetime.combine(day, wall, tzinfo=zone).replace(fold=fold))
                if start < instant < end:
                    cuts.add(instant)
        jump = _offset_change(day, zone)
        if jump is not None and start < jump < end:
            cuts.add(jump)
        day += _ONE_DAY
    return cuts


def _offset_change(day: date, zone: tzinfo) -> int | None:
    """The instant (µs) the UTC offset changes during local `day`, if it does."""
    low = to_micros(datetime.combine(day, _MIDNIGHT, tzinfo=zone)) // MICROS_PER_SECOND
    high = to_micros(datetime.combine(day + _ONE_DAY, _MIDNIGHT, tzinfo=zone)) // MICROS_PER_SECOND
    before = _offset(low, zone)
    if before == _offset(high, zone):
        return None
    while high - low > 1:  # the first second with the new offset; zones jump on whole seconds
        middle = (low + high) // 2
        if _offset(middle, zone) == before:
            low = middle
        else:
            high = middle
    return high * MICROS_PER_SECOND


def _offset(second: int, zone: tzinfo) -> timedelta | None:
    return from_micros(second * MICROS_PER_SECOND).astimezone(zone).utcoffset()


def duration_cuts(start: int, end: int, origins: Iterable[int], seconds: Iterable[int]) -> set[int]:
    values = list(seconds)
    return {
        instant
        for origin in origins
        for duration in values
        if start < (instant := origin + duration * MICROS_PER_SECOND) < end
    }


def crossing(start: int, end: int, before: Decimal, energy: Decimal, limit: Decimal) -> int:
    """When cumulative energy reaches `limit` inside [start, end), consumed linearly.

    Rounded up to the millisecond, so that the piece from the crossing on has reached it.
    """
    share = CONTEXT.divide(CONTEXT.multiply(limit - before, Decimal(end - start)), energy)
    exact = int((Decimal(start) + share).to_integral_value(ROUND_CEILING))
    return -(-exact // _MILLISECOND) * _MILLISECOND
