"""Restrictions evaluated continuously (mod_tariffs, TariffRestrictions): boundaries, local
time across midnight and daylight saving time, interpolated energy and duration crossings."""

from datetime import UTC, datetime
from decimal import Decimal

from tariffs.engine import price_session
from tests.tariffs.engine.builders import (
    BERLIN,
    at,
    charge,
    component,
    element,
    measured,
    park,
    price,
    session,
    spec_tariff,
    tariff,
)


def test_a_time_window_wraps_past_midnight() -> None:
    """22:00–06:00 at 2.00/h, else 1.00/h; 21:00 → 07:00 is 8 h night and 2 h day: 18.00."""
    night = tariff(
        element(component("TIME", "2.00"), start_time="22:00", end_time="06:00"),
        element(component("TIME", "1.00")),
    )

    cost = price_session(night, session(at("2024-06-03 21:00"), charge(600, "60")), BERLIN)

    assert cost.total_time_cost == price("18.00")


def test_end_time_0000_means_until_the_end_of_the_day() -> None:
    """20:00–00:00 at 3.00/h: 23:00 → 01:00 is one hour at 3.00 and one at 1.00."""
    evening = tariff(
        element(component("TIME", "3.00"), start_time="20:00", end_time="00:00"),
        element(component("TIME", "1.00")),
    )

    cost = price_session(evening, session(at("2024-06-03 23:00"), charge(120, "20")), BERLIN)

    assert cost.total_time_cost == price("4.00")


def test_day_of_week_is_the_local_weekday() -> None:
    """Weekend 2.00/h: Friday 23:00 → Saturday 01:00 (local) is one hour at each price."""
    weekend = tariff(
        element(component("TIME", "2.00"), day_of_week=["SATURDAY", "SUNDAY"]),
        element(component("TIME", "1.00")),
    )

    cost = price_session(weekend, session(at("2024-06-07 23:00"), charge(120, "20")), BERLIN)

    assert cost.total_time_cost == price("3.00")


def test_start_date_is_inclusive_and_end_date_exclusive_in_local_dates() -> None:
    """2.00/h on 4 June only: 3 June 23:00 → 5 June 01:00 is 1 h + 24 h at 2.00 + 1 h = 50.00."""
    one_day = tariff(
        element(component("TIME", "2.00"), start_date="2024-06-04", end_date="2024-06-05"),
        element(component("TIME", "1.00")),
    )

    cost = price_session(one_day, session(at("2024-06-03 23:00"), charge(26 * 60, "99")), BERLIN)

    assert cost.total_time_cost == price("50.00")


def test_the_hour_repeated_in_autumn_matches_twice() -> None:
    """27 Oct 2024, Berlin: 02:00–03:00 happens in CEST and again in CET, 2 h at 1.00/h."""
    repeated = tariff(element(component("TIME", "1.00"), start_time="02:00", end_time="03:00"))
    start = datetime(2024, 10, 26, 22, 30, tzinfo=UTC)  # 00:30 CEST

    cost = price_session(repeated, session(start, charge(300, "30")), BERLIN)

    assert cost.total_time_cost == price("2.00")
    assert cost.total_time == 5


def test_the_hour_skipped_in_spring_never_matches() -> None:
    """31 Mar 2024, Berlin: 02:00 jumps to 03:00; a 02:00–03:00 window never opens."""
    skipped = tariff(element(component("TIME", "1.00"), start_time="02:00", end_time="03:00"))
    start = datetime(2024, 3, 30, 23, 0, tzinfo=UTC)  # 00:00 CET

    cost = price_session(skipped, session(start, charge(300, "30")), BERLIN)

    assert cost.total_time_cost == price("0")


def test_a_window_starting_in_the_skipped_hour_opens_at_the_jump() -> None:
    """02:30–04:00 on the spring day opens at the jump (03:00 CEST) and lasts 1 h."""
    late = tariff(element(component("TIME", "1.00"), start_time="02:30", end_time="04:00"))
    start = datetime(2024, 3, 30, 23, 0, tzinfo=UTC)

    cost = price_session(late, session(start, charge(300, "30")), BERLIN)

    assert cost.total_time_cost == price("1.00")


def test_max_kwh_crossing_is_interpolated_within_a_period() -> None:
    """0.30/kWh below 20 kWh, then 0.20: 30 kWh in one period is 20 × 0.30 + 10 × 0.20."""
    tiers = tariff(
        element(component("ENERGY", "0.30"), max_kwh="20"),
        element(component("ENERGY", "0.20")),
    )

    cost = price_session(tiers, session(at("2024-06-03 10:00"), charge(60, "30")), BERLIN)

    assert cost.total_energy_cost == price("8.00")


def test_min_kwh_crossing_starts_a_time_price_at_the_interpolated_moment() -> None:
    """TIME 6.00/h from 20 kWh on: 30 kWh in 60 min reaches 20 kWh at minute 40 → 2.00."""
    after_20 = tariff(element(component("TIME", "6.00"), min_kwh="20"))

    cost = price_session(after_20, session(at("2024-06-03 10:00"), charge(60, "30")), BERLIN)

    assert cost.total_time_cost == price("2.00")


def test_max_duration_crossing_is_interpolated_within_a_period() -> None:
    """The T17 tariff with 6.2 kWh in one 40-minute period: 4.65 kWh free, 1.55 × 0.25."""
    cost = price_session(
        spec_tariff("tariffrestriction_example_max_duration.json"),
        session(at("2024-06-03 10:00"), charge(40, "6.2")),
        BERLIN,
    )

    assert cost.total_cost == price("0.3875", "0.465")


def test_durations_count_from_the_session_start_not_from_parking() -> None:
    """Parking 1.00/h from 1 h into the session: charge 50 min, park 30 → 20 min billed."""
    late_parking = tariff(element(component("PARKING_TIME", "1.00"), min_duration=3600))

    cost = price_session(
        late_parking, session(at("2024-06-03 10:00"), charge(50, "10"), park(30)), BERLIN
    )

    assert cost.total_parking_cost == price("0.3333")


def test_an_unknown_current_matches_neither_min_nor_max_current() -> None:
    """T10's tariff without any current reading: no TIME element can be shown to apply."""
    cost = price_session(
        spec_tariff("tariff_4_complex.json"),
        session(at("2024-06-03 09:30"), charge(165, "20"), park(42)),
        BERLIN,
    )

    assert cost.total_time_cost == price("0")
    assert cost.total_cost == price("6.25", "7.00")


def test_the_session_only_average_current_is_used() -> None:
    """T10's Monday with CURRENT 40 A (a Session dimension): weekday ≥ 32 A, 2.00/h → 5.50."""
    cost = price_session(
        spec_tariff("tariff_4_complex.json"),
        session(at("2024-06-03 09:30"), charge(165, "60", CURRENT=40), park(42)),
        BERLIN,
    )

    assert cost.total_time_cost == price("5.50", "6.60")


def test_session_only_power_and_imported_energy_are_used() -> None:
    """T16 from a Session's POWER and ENERGY_IMPORT instead of a CDR's ENERGY."""
    timeline = session(
        at("2024-06-03 10:00"),
        measured(10, ENERGY_IMPORT="1", POWER="6"),
        measured(50, ENERGY_IMPORT="40", POWER="48"),
        measured(Decimal("7.5"), ENERGY_IMPORT="0.5", POWER="4"),
    )

    cost = price_session(spec_tariff("tariffrestriction_example_max_power.json"), timeline, BERLIN)

    assert cost.total_cost == price("20.30", "24.36")
    assert cost.total_energy == Decimal("41.5")
