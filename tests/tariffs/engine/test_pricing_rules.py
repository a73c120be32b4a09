"""The decisions OCPI leaves open (checklist §5.4), pinned: FLAT, VAT absent, min/max price,
reservation time and step_size, rounding."""

from datetime import timedelta
from decimal import Decimal

from tariffs.engine import CostCategory, Reservation, price_session
from tests.tariffs.engine.builders import (
    BERLIN,
    at,
    charge,
    component,
    element,
    park,
    price,
    session,
    tariff,
)


def test_each_flat_component_that_becomes_active_is_billed_once() -> None:
    """A start fee of 1.00 before 17:00 and 2.00 after: a session across 17:00 pays both."""
    fees = tariff(
        element(component("FLAT", "1.00", 0), end_time="17:00"),
        element(component("FLAT", "2.00", 0), start_time="17:00"),
    )

    cost = price_session(fees, session(at("2024-06-03 16:30"), charge(60, "10")), BERLIN)

    assert cost.total_fixed_cost == price("3.00")


def test_a_flat_component_active_again_is_not_billed_again() -> None:
    """Low power, high power, low power again: the low-power fee is billed once."""
    low_power_fee = tariff(element(component("FLAT", "1.00", 0), max_power="10"))

    cost = price_session(
        low_power_fee,
        session(at("2024-06-03 10:00"), charge(60, "5"), charge(60, "20"), charge(60, "5")),
        BERLIN,
    )

    assert cost.total_fixed_cost == price("1.00")


def test_a_flat_fee_first_active_while_parked_is_a_parking_cost() -> None:
    """An overstay fee from 2 h into the session, reached while parked."""
    overstay = tariff(element(component("FLAT", "5.00", 0), min_duration=7200))

    cost = price_session(
        overstay, session(at("2024-06-03 10:00"), charge(60, "20"), park(90)), BERLIN
    )

    assert cost.total_parking_cost == price("5.00")
    assert cost.total_fixed_cost == price("0")


def test_absent_vat_means_no_vat_on_that_component() -> None:
    """FLAT 1.00 without vat, 20 kWh at 0.25 with 10 %: incl 1.00 + 5.50."""
    mixed = tariff(element(component("FLAT", "1.00", 0), component("ENERGY", "0.25", vat="10")))

    cost = price_session(mixed, session(at("2024-06-03 10:00"), charge(60, "20")), BERLIN)

    assert cost.total_cost == price("6.00", "6.50")


def test_min_price_without_incl_vat_leaves_incl_vat_alone() -> None:
    minimum = tariff(
        element(component("ENERGY", "0.25", vat="10")),
        min_price={"excl_vat": Decimal("1.00")},
    )

    cost = price_session(minimum, session(at("2024-06-03 10:00"), charge(10, "1")), BERLIN)

    assert cost.total_cost == price("1.00", "0.275")


def test_max_price_clamps_excl_and_incl_separately() -> None:
    """42 kWh at 0.25 + 10 %: 10.50 / 11.55, capped at 10.00 / 10.50."""
    capped = tariff(
        element(component("ENERGY", "0.25", vat="10")),
        max_price={"excl_vat": Decimal("10.00"), "incl_vat": Decimal("10.50")},
    )

    cost = price_session(capped, session(at("2024-06-03 10:00"), charge(120, "42")), BERLIN)

    assert cost.total_cost == price("10.00", "10.50")
    assert cost.total_energy_cost == price("10.50", "11.55")


def test_reservation_time_is_stepped_on_its_own() -> None:
    """Reservation 5 min at 5.00/h per 15 min → 15 min (1.25); then 61 min charging at 2.00/h
    per minute, not rounded with the reservation: 2.0333."""
    both = tariff(
        element(component("TIME", "5.00", 900), reservation="RESERVATION"),
        element(component("TIME", "2.00", 60)),
    )
    start = at("2024-06-03 10:05")

    cost = price_session(
        both,
        session(
            start,
            charge(61, "10"),
            reservation=Reservation(start - timedelta(minutes=5), start),
        ),
        BERLIN,
    )

    assert cost.total_reservation_cost == price("1.25")
    assert cost.total_time_cost == price("2.0333")


def test_an_element_without_reservation_restriction_does_not_price_reservation_time() -> None:
    plain = tariff(element(component("TIME", "2.00", 60)))
    start = at("2024-06-03 10:30")

    cost = price_session(
        plain,
        session(
            start, charge(60, "10"), reservation=Reservation(start - timedelta(hours=1), start)
        ),
        BERLIN,
    )

    assert cost.total_reservation_cost == price("0")
    assert cost.total_time_cost == price("2.00")


def test_a_zero_priced_component_counts_towards_the_step_but_no_component_does_not() -> None:
    """Energy free in the first 30 min (step 1 Wh), then 0.50/kWh per kWh (step 1000 Wh).

    0.4 kWh free + 0.3 kWh paid = 0.7 kWh billable → 1 kWh, surplus 0.3 at 0.50: 0.30.
    """
    free_first = tariff(
        element(component("ENERGY", "0"), max_duration=1800),
        element(component("ENERGY", "0.50", 1000)),
    )

    cost = price_session(
        free_first, session(at("2024-06-03 10:00"), charge(30, "0.4"), charge(30, "0.3")), BERLIN
    )

    assert cost.total_energy_cost == price("0.30")
    assert [line.quantity for line in cost.lines] == [Decimal("0.4"), Decimal("0.6")]


def test_each_total_is_rounded_once_to_four_decimals_half_up() -> None:
    """Three lines of 0.00005: 0.00015 rounds to 0.0002; rounding per line would give 0.0003."""
    tiny = tariff(
        element(component("ENERGY", "0.0001"), end_time="10:20"),
        element(component("ENERGY", "0.0001"), end_time="10:40"),
        element(component("ENERGY", "0.0001")),
    )

    cost = price_session(
        tiny,
        session(at("2024-06-03 10:00"), charge(20, "0.5"), charge(20, "0.5"), charge(20, "0.5")),
        BERLIN,
    )

    assert [line.cost.excl_vat for line in cost.lines] == [Decimal("0.00005")] * 3
    assert cost.total_cost == price("0.0002")
    assert {line.category for line in cost.lines} == {CostCategory.ENERGY}


def test_the_energy_step_is_that_of_the_last_component_active_while_charging() -> None:
    """Step 1 kWh until 10:30, 1 Wh after; 0.2 kWh before 10:30 and none after, still charging.

    The later component sets the step even though it priced no energy: 0.2 kWh, not 1 kWh.
    Otherwise 0.1 kWh more after 10:30 would lower the cost from 1.00 to 0.30.
    """
    coarse_then_fine = tariff(
        element(component("ENERGY", "1.00", 1000), end_time="10:30"),
        element(component("ENERGY", "1.00", 1)),
    )

    cost = price_session(
        coarse_then_fine,
        session(at("2024-06-03 10:00"), charge(30, "0.2"), charge(30, "0")),
        BERLIN,
    )

    assert cost.total_energy_cost == price("0.20")
