"""Does a TariffElement's TariffRestrictions match at a moment? (mod_tariffs, TariffRestrictions)

Restrictions are AND-ed and evaluated continuously, not once per session. The half-open rules:
start_time/start_date/min_* are inclusive, end_time/end_date/max_* exclusive. Times and dates
are the location's local wall clock: in the autumn the hour repeated by daylight saving time
matches a window twice, in the spring the skipped hour never matches.

`reservation` is not evaluated here: which elements may price a reservation, and in which
order, is decided by the phase (pricing.py).
"""

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from tariffs.engine.model import Restrictions
from tariffs.engine.rounding import MICROS_PER_SECOND

MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND


@dataclass(frozen=True, slots=True)
class Moment:
    """The state of the session that restrictions look at."""

    local_date: date
    weekday: int  # date.weekday()
    time_of_day: int  # µs since local midnight, on the wall clock
    kwh: Decimal  # energy consumed in the session so far
    elapsed: int  # µs since the session (or the reservation) started
    power: Decimal | None  # kW; None when unknown
    current: Decimal | None  # A; None when unknown


def time_of_day(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * MICROS_PER_SECOND


def in_window(start: time | None, end: time | None, moment: int) -> bool:
    """[start_time, end_time) on the wall clock; it wraps past midnight when end < start.

    "To stop at end of the day use: 00:00": an end of 00:00 is 24:00. Equal start and end
    (after that reading) is the whole day.
    """
    low = 0 if start is None else time_of_day(start)
    high = MICROS_PER_DAY if end is None else (time_of_day(end) or MICROS_PER_DAY)
    if low < high:
        return low <= moment < high
    if low > high:
        return moment >= low or moment < high
    return True


def _at_least(limit: Decimal | None, value: Decimal | None) -> bool:
    """A min_* limit: an unknown value cannot be shown to reach it."""
    return limit is None or (value is not None and value >= limit)


def _below(limit: Decimal | None, value: Decimal | None) -> bool:
    """A max_* limit: an unknown value cannot be shown to stay below it."""
    return limit is None or (value is not None and value < limit)


def matches(restrictions: Restrictions, moment: Moment) -> bool:
    r = restrictions
    if r.day_of_week and moment.weekday not in r.day_of_week:
        return False
    if r.start_date is not None and moment.local_date < r.start_date:
        return False
    if r.end_date is not None and moment.local_date >= r.end_date:
        return False
    if (r.start_time is not None or r.end_time is not None) and not in_window(
        r.start_time, r.end_time, moment.time_of_day
    ):
        return False
    if not (_at_least(r.min_kwh, moment.kwh) and _below(r.max_kwh, moment.kwh)):
        return False
    if not (_at_least(r.min_power, moment.power) and _below(r.max_power, moment.power)):
        return False
    if not (_at_least(r.min_current, moment.current) and _below(r.max_current, moment.current)):
        return False
    if r.min_duration is not None and moment.elapsed < r.min_duration * MICROS_PER_SECOND:
        return False
    return not (r.max_duration is not None and moment.elapsed >= r.max_duration * MICROS_PER_SECOND)
