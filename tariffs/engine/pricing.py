"""Price a session: quantities per price component, step_size, VAT, min/max price, CDR totals.

The rules (mod_tariffs; mod_cdrs, CDR object "step_size"), and the choices OCPI leaves open:

- Quantities: ENERGY in kWh; TIME is time charging; PARKING_TIME is time parked (the vehicle
  requests no power); reservation time is priced by the TIME component of a `reservation`
  element. A piece whose dimension has no active component costs nothing in it.
  total_time is charging plus parking time; reservation time, before the session, is not in it.
- step_size rounds up once per session and per group, never per period or per element switch,
  and the surplus is billed at the price of the group's last component:
  - ENERGY (in Wh), with the step of the last ENERGY component active while charging, even if
    that piece drew no energy (the step then depends on the clock, not on the amounts, so more
    energy at one price never costs less);
  - TIME and PARKING_TIME together: only the dimension of the last piece priced by a time
    component is rounded, with that component's step (charging followed by parking rounds the
    parking total only). A piece counts when a component is active, even at price 0; a piece
    without one does not (the free-parking example, T18c: 8 billable minutes round to 15).
- Reservation time is its own step group (ours; the spec's examples round it alone, and it is
  a separate CDR total): rounded with the step of its last TIME component, never together with
  charging time.
- FLAT: each distinct FLAT component that becomes active during the session is billed once,
  however long or often it stays active (checklist §5.2 step 3). With a plain tariff that is
  the start fee, plus the reservation element's fee when a reservation came first, as in the
  spec's reservation examples. A FLAT first active while reserved counts to
  total_reservation_cost, first active while parked to total_parking_cost (CDR: "including
  fixed price components"), otherwise to total_fixed_cost.
- VAT per component: incl = excl × (1 + vat/100). An absent `vat` means "no VAT applicable"
  (PriceComponent): that component's incl_vat equals its excl_vat, so incl_vat is always known.
- min_price/max_price clamp total_cost's excl_vat and incl_vat separately (Tariff object
  notes); a limit without incl_vat leaves incl_vat unclamped. The category totals are not
  clamped.
- Money: see rounding.py.
"""

from collections.abc import Iterable
from datetime import tzinfo
from decimal import Decimal, localcontext

from tariffs.engine.model import (
    CostCategory,
    CostLine,
    Price,
    PriceComponent,
    PriceLimit,
    SessionCost,
    Tariff,
    TariffDimension,
    Timeline,
)
from tariffs.engine.periods import cdr_periods
from tariffs.engine.rounding import (
    CONTEXT,
    MICROS_PER_HOUR,
    hours,
    round_number,
    step_up_energy,
    step_up_micros,
)
from tariffs.engine.segments import Choice, Segment, segments
from tariffs.engine.timeline import Phase, lay_out

LineKey = tuple[CostCategory, int, int]  # (category, element index, component index)

_ZERO = Decimal(0)
_FLAT_CATEGORY = {
    Phase.RESERVATION: CostCategory.RESERVATION,
    Phase.CHARGING: CostCategory.FIXED,
    Phase.PARKING: CostCategory.PARKING,
}


def price_session(tariff: Tariff, timeline: Timeline, time_zone: tzinfo) -> SessionCost:
    """The cost of `timeline` under `tariff`, with local times read in `time_zone`.

    `time_zone` is the Location's `time_zone` (restrictions are in local time); pass a
    zoneinfo.ZoneInfo so that daylight saving time is followed.
    """
    with localcontext(CONTEXT):
        layout = lay_out(timeline)
        pieces = segments(tariff, layout, time_zone)
        quantities = _quantities(tariff, pieces)
        lines = [_line(tariff, key, quantity) for key, quantity in quantities.items()]
        by_category = {category: _sum(lines, category) for category in CostCategory}
        exact = _sum(lines)
        charging = sum((s.end - s.start for s in layout.slices if s.phase == Phase.CHARGING), 0)
        parking = sum((s.end - s.start for s in layout.slices if s.phase == Phase.PARKING), 0)
        return SessionCost(
            currency=tariff.currency,
            total_cost=_rounded(_clamped(exact, tariff.min_price, tariff.max_price)),
            total_fixed_cost=_rounded(by_category[CostCategory.FIXED]),
            total_energy=round_number(sum((s.energy for s in layout.slices), _ZERO)),
            total_energy_cost=_rounded(by_category[CostCategory.ENERGY]),
            total_time=round_number(hours(charging + parking)),
            total_time_cost=_rounded(by_category[CostCategory.TIME]),
            total_parking_time=round_number(hours(parking)),
            total_parking_cost=_rounded(by_category[CostCategory.PARKING]),
            total_reservation_cost=_rounded(by_category[CostCategory.RESERVATION]),
            charging_periods=cdr_periods(pieces, layout, tariff.id),
            lines=tuple(lines),
        )


class _StepGroup:
    """A quantity that step_size rounds once per session, and the last component billing it."""

    def __init__(self) -> None:
        self.totals: dict[TariffDimension, Decimal | int] = {}
        self.last: tuple[TariffDimension, LineKey] | None = None

    def add(self, kind: TariffDimension, key: LineKey, quantity: Decimal | int) -> None:
        self.totals[kind] = self.totals.get(kind, 0) + quantity
        self.last = (kind, key)


def _quantities(tariff: Tariff, pieces: list[Segment]) -> dict[LineKey, Decimal | int]:
    """Billed quantity per line: µs for time, kWh for energy, 1 for FLAT; steps applied."""
    quantities: dict[LineKey, Decimal | int] = {}
    energy, time, reservation = _StepGroup(), _StepGroup(), _StepGroup()
    flats: set[Choice] = set()

    def bill(group: _StepGroup, kind: TariffDimension, key: LineKey, amount: Decimal | int) -> None:
        quantities[key] = quantities.get(key, 0) + amount
        group.add(kind, key, amount)

    for piece in pieces:
        phase, choices, width = piece.slice.phase, piece.choices, piece.end - piece.start
        if phase == Phase.RESERVATION and TariffDimension.TIME in choices:
            key = (CostCategory.RESERVATION, *choices[TariffDimension.TIME])
            bill(reservation, TariffDimension.TIME, key, width)
        if phase == Phase.CHARGING and TariffDimension.TIME in choices:
            key = (CostCategory.TIME, *choices[TariffDimension.TIME])
            bill(time, TariffDimension.TIME, key, width)
        if phase == Phase.PARKING and TariffDimension.PARKING_TIME in choices:
            key = (CostCategory.PARKING, *choices[TariffDimension.PARKING_TIME])
            bill(time, TariffDimension.PARKING_TIME, key, width)
        if TariffDimension.ENERGY in choices and (phase == Phase.CHARGING or piece.energy > 0):
            key = (CostCategory.ENERGY, *choices[TariffDimension.ENERGY])
            bill(energy, TariffDimension.ENERGY, key, piece.energy)
        flat = choices.get(TariffDimension.FLAT)
        if flat is not None and flat not in flats:
            flats.add(flat)
            quantities[(_FLAT_CATEGORY[phase], *flat)] = 1
    for group in (energy, time, reservation):
        _step_up(tariff, group, quantities)
    return {key: quantity for key, quantity in quantities.items() if quantity != 0}


def _step_up(tariff: Tariff, group: _StepGroup, quantities: dict[LineKey, Decimal | int]) -> None:
    if group.last is None:
        return
    kind, key = group.last
    step = _component(tariff, key).step_size
    total = group.totals[kind]
    if isinstance(total, int):
        surplus: Decimal | int = step_up_micros(total, step) - total
    else:
        surplus = step_up_energy(total, step) - total
    quantities[key] = quantities[key] + surplus


def _component(tariff: Tariff, key: LineKey) -> PriceComponent:
    _, element, component = key
    return tariff.elements[element].price_components[component]


def _line(tariff: Tariff, key: LineKey, quantity: Decimal | int) -> CostLine:
    category, element, index = key
    component = _component(tariff, key)
    if component.type in (TariffDimension.TIME, TariffDimension.PARKING_TIME):
        billed = hours(int(quantity))
        excl = component.price * Decimal(quantity) / MICROS_PER_HOUR
    else:
        billed = Decimal(quantity)
        excl = component.price * billed
    incl = excl if component.vat is None else excl * (100 + component.vat) / 100
    return CostLine(
        category=category,
        element=element,
        component=index,
        type=component.type,
        unit_price=component.price,
        vat=component.vat,
        quantity=billed,
        cost=Price(excl_vat=excl, incl_vat=incl),
    )


def _sum(lines: Iterable[CostLine], category: CostCategory | None = None) -> Price:
    chosen = [line.cost for line in lines if category is None or line.category == category]
    return Price(
        excl_vat=sum((cost.excl_vat for cost in chosen), _ZERO),
        incl_vat=sum((cost.incl_vat for cost in chosen), _ZERO),
    )


def _clamped(total: Price, low: PriceLimit | None, high: PriceLimit | None) -> Price:
    excl, incl = total.excl_vat, total.incl_vat
    if low is not None:
        excl = max(excl, low.excl_vat)
        incl = incl if low.incl_vat is None else max(incl, low.incl_vat)
    if high is not None:
        excl = min(excl, high.excl_vat)
        incl = incl if high.incl_vat is None else min(incl, high.incl_vat)
    return Price(excl_vat=excl, incl_vat=incl)


def _rounded(price: Price) -> Price:
    return Price(excl_vat=round_number(price.excl_vat), incl_vat=round_number(price.incl_vat))
