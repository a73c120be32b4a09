"""Properties of the engine over generated tariffs and sessions (hypothesis).

Sessions are pieces of constant activity: so many seconds charging at so many mWh per second
(exact Decimal energy), or parked. Tariffs mix every restriction kind.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffs.engine import (
    CdrDimension,
    ChargingPeriod,
    Dimension,
    Reservation,
    SessionCost,
    Tariff,
    Timeline,
    price_session,
    tariff_from_ocpi,
)
from tests.tariffs.engine.builders import BERLIN, hours_of

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
STEPS = {"ENERGY": [1, 100, 500, 1000], "TIME": [1, 60, 300, 900], "PARKING_TIME": [1, 60, 900]}


@st.composite
def pieces(draw: st.DrawFn) -> list[tuple[int, bool, int, int | None]]:
    """(seconds, charging?, mWh per second, current A or None), one after the other."""
    return draw(
        st.lists(
            st.tuples(
                st.integers(60, 4 * 3600),
                st.booleans(),
                st.integers(0, 20_000),
                st.none() | st.integers(0, 64),
            ),
            min_size=1,
            max_size=6,
        )
    )


def money(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda cents: Decimal(cents) / 100)


def clock() -> st.SearchStrategy[str]:
    return st.sampled_from([f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 15, 30, 45)])


@st.composite
def restrictions(draw: st.DrawFn, *, amounts: bool = True) -> dict[str, Any]:
    """Any mix of restrictions; `amounts=False` leaves out those depending on energy or power."""
    found: dict[str, Any] = {}
    if draw(st.booleans()):
        found["start_time"] = draw(clock())
    if draw(st.booleans()):
        found["end_time"] = draw(clock())
    if draw(st.booleans()):
        found["day_of_week"] = draw(st.lists(st.sampled_from(DAYS), min_size=1, unique=True))
    if draw(st.booleans()):
        low = draw(st.integers(0, 4 * 3600))
        found["min_duration" if draw(st.booleans()) else "max_duration"] = low
    if amounts:
        for name, high in (("kwh", 60), ("power", 80), ("current", 64)):
            if draw(st.booleans()):
                side = draw(st.sampled_from(["min", "max"]))
                found[f"{side}_{name}"] = Decimal(draw(st.integers(0, high)))
    return found


@st.composite
def components(draw: st.DrawFn, kinds: list[str]) -> list[dict[str, Any]]:
    chosen = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=len(kinds), unique=True))
    found = []
    for kind in chosen:
        component: dict[str, Any] = {
            "type": kind,
            "price": draw(money(0, 500)),
            "step_size": 0 if kind == "FLAT" else draw(st.sampled_from(STEPS[kind])),
        }
        vat = draw(st.none() | money(0, 2500))
        if vat is not None:
            component["vat"] = vat
        found.append(component)
    return found


@st.composite
def any_tariff(draw: st.DrawFn) -> Tariff:
    elements = []
    for _ in range(draw(st.integers(1, 5))):
        element: dict[str, Any] = {
            "price_components": draw(components(["ENERGY", "TIME", "PARKING_TIME", "FLAT"]))
        }
        if draw(st.booleans()):
            element["restrictions"] = draw(restrictions())
        elements.append(element)
    if draw(st.booleans()):
        elements.append(
            {
                "price_components": draw(components(["TIME", "FLAT"])),
                "restrictions": {
                    "reservation": draw(st.sampled_from(["RESERVATION", "RESERVATION_EXPIRES"]))
                },
            }
        )
    tariff: dict[str, Any] = {"id": "P", "currency": "EUR", "elements": elements}
    if draw(st.booleans()):
        excl = draw(money(0, 500))
        tariff["min_price"] = {"excl_vat": excl, "incl_vat": excl + draw(money(0, 100))}
    if draw(st.booleans()):
        excl = draw(money(0, 5000))
        tariff["max_price"] = {"excl_vat": excl}
        if draw(st.booleans()):
            tariff["max_price"]["incl_vat"] = excl + draw(money(0, 1000))
    return tariff_from_ocpi(tariff)


def starts() -> st.SearchStrategy[datetime]:
    """Any quarter of an hour in 2024 (both daylight saving time changes included)."""
    first = datetime(2024, 1, 1, tzinfo=UTC)
    return st.integers(0, 366 * 96).map(lambda quarter: first + timedelta(minutes=15 * quarter))


def period(
    start: datetime, seconds: int, charging: bool, rate: int, current: int | None
) -> ChargingPeriod:
    dimensions = [
        Dimension(
            CdrDimension.ENERGY, Decimal(rate * seconds) / 1_000_000 if charging else Decimal(0)
        ),
        Dimension(
            CdrDimension.TIME if charging else CdrDimension.PARKING_TIME,
            hours_of(Decimal(seconds) / 60),
        ),
    ]
    if current is not None and charging:
        dimensions.append(Dimension(CdrDimension.MAX_CURRENT, Decimal(current)))
    return ChargingPeriod(start, tuple(dimensions))


def timeline(
    start: datetime,
    parts: list[tuple[int, bool, int, int | None]],
    reservation: int = 0,
    expired: bool = False,
) -> Timeline:
    periods = []
    moment = start
    for seconds, charging, rate, current in parts:
        periods.append(period(moment, seconds, charging, rate, current))
        moment += timedelta(seconds=seconds)
    booked = (
        Reservation(start - timedelta(seconds=reservation), start, expired) if reservation else None
    )
    return Timeline(tuple(periods), moment, booked)


def costs(cost: SessionCost) -> dict[str, object]:
    return cost.totals()


@PROPERTY
@given(any_tariff(), starts(), pieces(), st.data())
def test_splitting_a_period_at_constant_consumption_does_not_change_the_cost(
    tariff: Tariff,
    start: datetime,
    parts: list[tuple[int, bool, int, int | None]],
    data: st.DataObject,
) -> None:
    """Cutting a period in two, consumption unchanged on both sides, moves no restriction
    boundary: the session costs exactly the same."""
    index = data.draw(st.integers(0, len(parts) - 1))
    seconds, charging, rate, current = parts[index]
    cut = data.draw(st.integers(1, seconds - 1))
    split = [
        *parts[:index],
        (cut, charging, rate, current),
        (seconds - cut, charging, rate, current),
        *parts[index + 1 :],
    ]

    whole = price_session(tariff, timeline(start, parts), BERLIN)
    halves = price_session(tariff, timeline(start, split), BERLIN)

    assert costs(halves) == costs(whole)


@st.composite
def energy_tariff(draw: st.DrawFn) -> Tariff:
    """ENERGY at one price and VAT everywhere (steps and time restrictions vary), a FLAT fee
    maybe, min/max price maybe.

    One price because step_size is not monotonic otherwise: the spec bills the rounding surplus
    at the price of the last component, so more energy at a cheap time can lower the surplus
    billed at a dear one (0.2 kWh at 0.10 and 0.2 at 0.50, step 1 kWh: 0.42; with 0.5 kWh
    at 0.10: 0.30).
    """
    price, vat = draw(money(1, 100)), draw(st.none() | money(0, 2500))
    elements = []
    for _ in range(draw(st.integers(1, 4))):
        component: dict[str, Any] = {
            "type": "ENERGY",
            "price": price,
            "step_size": draw(st.sampled_from(STEPS["ENERGY"])),
        }
        if vat is not None:
            component["vat"] = vat
        element: dict[str, Any] = {"price_components": [component]}
        if draw(st.booleans()):
            element["restrictions"] = draw(restrictions(amounts=False))
        elements.append(element)
    if draw(st.booleans()):
        elements.insert(
            0,
            {"price_components": [{"type": "FLAT", "price": draw(money(0, 300)), "step_size": 0}]},
        )
    tariff: dict[str, Any] = {"id": "E", "currency": "EUR", "elements": elements}
    if draw(st.booleans()):
        tariff["min_price"] = {"excl_vat": draw(money(0, 500))}
    if draw(st.booleans()):
        tariff["max_price"] = {"excl_vat": draw(money(0, 5000))}
    return tariff_from_ocpi(tariff)


@PROPERTY
@given(energy_tariff(), starts(), pieces(), st.data())
def test_more_energy_never_costs_less_on_an_energy_tariff(
    tariff: Tariff,
    start: datetime,
    parts: list[tuple[int, bool, int, int | None]],
    data: st.DataObject,
) -> None:
    index = data.draw(st.integers(0, len(parts) - 1))
    seconds, _, rate, current = parts[index]
    more = data.draw(st.integers(0, 20_000 - rate))
    richer = [*parts[:index], (seconds, True, rate + more, current), *parts[index + 1 :]]
    charging = [*parts[:index], (seconds, True, rate, current), *parts[index + 1 :]]

    before = price_session(tariff, timeline(start, charging), BERLIN).total_cost
    after = price_session(tariff, timeline(start, richer), BERLIN).total_cost

    assert after.excl_vat >= before.excl_vat
    assert after.incl_vat >= before.incl_vat


@PROPERTY
@given(
    any_tariff(),
    starts(),
    pieces(),
    st.sampled_from([0, 0, 600, 5400]),
    st.booleans(),
)
def test_incl_vat_is_never_below_excl_vat(
    tariff: Tariff,
    start: datetime,
    parts: list[tuple[int, bool, int, int | None]],
    reserved: int,
    expired: bool,
) -> None:
    """Every VAT is ≥ 0 (absent VAT is none), and min/max prices have incl ≥ excl."""
    cost = price_session(tariff, timeline(start, parts, reserved, expired), BERLIN)

    totals = [
        cost.total_cost,
        cost.total_fixed_cost,
        cost.total_energy_cost,
        cost.total_time_cost,
        cost.total_parking_cost,
        cost.total_reservation_cost,
    ]
    assert all(total.incl_vat >= total.excl_vat >= 0 for total in totals)
