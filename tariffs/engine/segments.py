"""Cut the laid-out session into pieces and pick, per piece, the price component per dimension.

"When the list of Tariff Elements contains more than one Element that has a Price Component
for a certain dimension, then the first Tariff Element with a Price Component for that
dimension in the list with matching Tariff Restrictions will be used" (mod_tariffs, Tariff
object): the choice is made per dimension and per piece, so different dimensions may come from
different elements at once, and no match leaves the dimension free for that piece.

Which elements may price a piece depends on its phase (TariffRestrictions, `reservation`):
reservation time only by elements with a `reservation` restriction; for an expired
reservation, RESERVATION_EXPIRES elements before RESERVATION ones (mod_tariffs,
ReservationRestrictionType note: the expired reservation's time is priced by the
RESERVATION_EXPIRES element); charging and parking only by elements without one.
"""

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal

from tariffs.engine.cuts import (
    clock_cuts,
    crossing,
    duration_cuts,
    durations,
    energy_thresholds,
    wall_times,
)
from tariffs.engine.model import ReservationRestriction, Restrictions, Tariff, TariffDimension
from tariffs.engine.restrictions import Moment, matches
from tariffs.engine.rounding import CONTEXT, ENERGY_GRID, MICROS_PER_SECOND
from tariffs.engine.timeline import Layout, Phase, Slice, from_micros

Choice = tuple[int, int]  # (element index, component index)

# The dimensions a piece of each phase is priced in (FLAT: a fee that becomes active).
_PRICED = {
    Phase.RESERVATION: (TariffDimension.TIME, TariffDimension.FLAT),
    Phase.CHARGING: (TariffDimension.ENERGY, TariffDimension.TIME, TariffDimension.FLAT),
    Phase.PARKING: (TariffDimension.ENERGY, TariffDimension.PARKING_TIME, TariffDimension.FLAT),
}


@dataclass(frozen=True, slots=True)
class Segment:
    start: int  # µs since the epoch
    end: int
    slice: Slice
    energy_before: Decimal  # kWh consumed in the session before this piece
    energy: Decimal  # kWh consumed in it
    choices: dict[TariffDimension, Choice]  # the price component per dimension, if any


class _Selector:
    """First matching element per dimension, in the order the phase allows."""

    def __init__(self, tariff: Tariff, expired: bool) -> None:
        self.tariff = tariff
        by_kind: dict[ReservationRestriction | None, list[int]] = {}
        for index, element in enumerate(tariff.elements):
            by_kind.setdefault(element.restrictions.reservation, []).append(index)
        reserved = by_kind.get(ReservationRestriction.RESERVATION, [])
        if expired:
            reserved = by_kind.get(ReservationRestriction.RESERVATION_EXPIRES, []) + reserved
        orders = {
            Phase.RESERVATION: reserved,
            Phase.CHARGING: by_kind.get(None, []),
            Phase.PARKING: by_kind.get(None, []),
        }
        self.candidates = {
            phase: {kind: self._candidates(order, kind) for kind in TariffDimension}
            for phase, order in orders.items()
        }
        self.unrestricted = [element.restrictions == Restrictions() for element in tariff.elements]

    def _candidates(self, order: list[int], kind: TariffDimension) -> list[Choice]:
        found = []
        for index in order:
            components = self.tariff.elements[index].price_components
            position = next((j for j, c in enumerate(components) if c.type == kind), None)
            if position is not None:
                found.append((index, position))
        return found

    def choose(
        self, phase: Phase, moment: Moment, energy: Decimal
    ) -> dict[TariffDimension, Choice]:
        matched: dict[int, bool] = {}
        choices: dict[TariffDimension, Choice] = {}
        for kind in _PRICED[phase]:
            if kind == TariffDimension.ENERGY and phase == Phase.PARKING and energy == 0:
                continue
            for element, component in self.candidates[phase][kind]:
                if element not in matched:
                    matched[element] = self.unrestricted[element] or matches(
                        self.tariff.elements[element].restrictions, moment
                    )
                if matched[element]:
                    choices[kind] = (element, component)
                    break
        return choices


def segments(tariff: Tariff, layout: Layout, zone: tzinfo) -> list[Segment]:
    selector = _Selector(tariff, layout.expired)
    fixed = sorted(
        clock_cuts(layout.start, layout.end, zone, wall_times(tariff))
        | duration_cuts(
            layout.start,
            layout.end,
            {layout.session_origin, layout.reservation_origin},
            durations(tariff),
        )
    )
    thresholds = energy_thresholds(tariff)
    pieces: list[Segment] = []
    consumed = Decimal(0)
    for part in layout.slices:
        inside = fixed[bisect_right(fixed, part.start) : bisect_left(fixed, part.end)]
        bounds, energies = _bounds(part, consumed, inside, thresholds)
        for index in range(len(bounds) - 1):
            start, end = bounds[index], bounds[index + 1]
            before, after = energies[index], energies[index + 1]
            moment = _moment(layout, part, start, end, before, after, zone)
            pieces.append(
                Segment(
                    start=start,
                    end=end,
                    slice=part,
                    energy_before=before,
                    energy=after - before,
                    choices=selector.choose(part.phase, moment, after - before),
                )
            )
        consumed += part.energy
    return pieces


def _bounds(
    part: Slice, consumed: Decimal, inside: list[int], thresholds: list[Decimal]
) -> tuple[list[int], list[Decimal]]:
    """The slice's cut instants and the session's cumulative energy at each of them."""
    reached: dict[int, Decimal] = {}
    total = consumed + part.energy
    for limit in thresholds:
        if consumed < limit < total:
            instant = crossing(part.start, part.end, consumed, part.energy, limit)
            if part.start < instant < part.end:
                reached[instant] = max(limit, reached.get(instant, limit))
    instants = sorted(set(inside) | set(reached))
    bounds = [part.start, *instants, part.end]
    energies = [consumed]
    width = Decimal(part.end - part.start)
    for instant in instants:
        if instant in reached:
            value = reached[instant]
        else:
            share = CONTEXT.divide(
                CONTEXT.multiply(part.energy, Decimal(instant - part.start)), width
            )
            value = (consumed + share).quantize(ENERGY_GRID, context=CONTEXT)
        energies.append(min(max(value, energies[-1]), total))
    energies.append(total)
    return bounds, energies


def _moment(
    layout: Layout,
    part: Slice,
    start: int,
    end: int,
    before: Decimal,
    after: Decimal,
    zone: tzinfo,
) -> Moment:
    """The piece's state, read in its middle: no cut's rounding can tip it over a limit."""
    middle = (start + end) // 2
    local = from_micros(middle).astimezone(zone)
    origin = layout.reservation_origin if part.phase == Phase.RESERVATION else layout.session_origin
    return Moment(
        local_date=local.date(),
        weekday=local.weekday(),
        time_of_day=((local.hour * 60 + local.minute) * 60 + local.second) * MICROS_PER_SECOND
        + local.microsecond,
        kwh=CONTEXT.divide(before + after, Decimal(2)),
        elapsed=middle - origin,
        power=part.power,
        current=part.current,
    )
