"""The charging periods the engine hands to the CDR builder (mod_cdrs, ChargingPeriod): split
wherever another price component becomes active, CDR dimensions only, the tariff's id."""

from datetime import UTC, datetime
from decimal import Decimal

from tariffs.engine import CdrDimension, ChargingPeriod, Dimension, price_session
from tests.tariffs.engine.builders import (
    BERLIN,
    at,
    charge,
    component,
    element,
    measured,
    park,
    session,
    spec_tariff,
    tariff,
)

EVENING = tariff(
    element(component("ENERGY", "0.20"), end_time="17:00"),
    element(component("ENERGY", "0.27"), start_time="17:00"),
)


def cdr_period(when: datetime, **volumes: str) -> ChargingPeriod:
    return ChargingPeriod(
        start_date_time=when.astimezone(UTC),
        dimensions=tuple(Dimension(CdrDimension(k), Decimal(v)) for k, v in volumes.items()),
        tariff_id="T",
    )


def test_a_period_is_split_where_the_price_changes_with_the_energy_up_to_then() -> None:
    cost = price_session(EVENING, session(at("2024-06-03 16:30"), charge(60, "10")), BERLIN)

    assert cost.charging_periods == (
        cdr_period(at("2024-06-03 16:30"), ENERGY="5", TIME="0.5"),
        cdr_period(at("2024-06-03 17:00"), ENERGY="5", TIME="0.5"),
    )


def test_a_period_is_split_at_the_interpolated_energy_crossing() -> None:
    tiers = tariff(
        element(component("ENERGY", "0.30"), max_kwh="20"),
        element(component("ENERGY", "0.20")),
    )

    cost = price_session(tiers, session(at("2024-06-03 10:00"), charge(60, "30")), BERLIN)

    assert cost.charging_periods == (
        cdr_period(at("2024-06-03 10:00"), ENERGY="20", TIME="0.6667"),
        cdr_period(at("2024-06-03 10:40"), ENERGY="10", TIME="0.3333"),
    )


def test_periods_priced_alike_stay_as_they_came() -> None:
    cost = price_session(
        EVENING, session(at("2024-06-03 10:00"), charge(20, "3"), charge(40, "7")), BERLIN
    )

    assert [p.start_date_time for p in cost.charging_periods] == [
        at("2024-06-03 10:00"),
        at("2024-06-03 10:20"),
    ]


def test_session_only_dimensions_are_dropped_and_power_limits_kept() -> None:
    timeline = session(
        at("2024-06-03 10:00"),
        measured(60, ENERGY="11", POWER="11", STATE_OF_CHARGE="80", MAX_POWER="11.5"),
    )

    cost = price_session(EVENING, timeline, BERLIN)

    assert cost.charging_periods == (
        cdr_period(at("2024-06-03 10:00"), ENERGY="11", TIME="1", MAX_POWER="11.5"),
    )


def test_a_period_with_charging_and_parking_time_is_split_in_that_order() -> None:
    one = session(
        at("2024-06-03 10:00"),
        (60, {CdrDimension.TIME: Decimal("0.75"), CdrDimension.PARKING_TIME: Decimal("0.25")}),
    )

    cost = price_session(EVENING, one, BERLIN)

    assert cost.charging_periods == (
        cdr_period(at("2024-06-03 10:00"), TIME="0.75"),
        cdr_period(at("2024-06-03 10:45"), PARKING_TIME="0.25"),
    )
    assert (cost.total_time, cost.total_parking_time) == (Decimal(1), Decimal("0.25"))


def test_rounded_volumes_add_up_to_the_rounded_total() -> None:
    """Three thirds of an hour: 0.3333 + 0.3334 + 0.3333 = 1.0000, not 0.9999."""
    thirds = tariff(
        element(component("TIME", "1"), end_time="10:20"),
        element(component("TIME", "2"), end_time="10:40"),
        element(component("TIME", "3")),
    )

    cost = price_session(thirds, session(at("2024-06-03 10:00"), charge(60, "1")), BERLIN)

    assert [p.volume(CdrDimension.TIME) for p in cost.charging_periods] == [
        Decimal("0.3333"),
        Decimal("0.3334"),
        Decimal("0.3333"),
    ]


def test_parking_is_split_where_it_becomes_free() -> None:
    """T18c's session: parking 19:52–20:00 is priced, 20:00–20:12 is not."""

    cost = price_session(
        spec_tariff("tariff_14_step_size.json"),
        session(at("2024-06-03 19:40"), charge(12, "2"), park(20)),
        BERLIN,
    )

    assert [(p.start_date_time, p.tariff_id) for p in cost.charging_periods] == [
        (at("2024-06-03 19:40"), "22"),
        (at("2024-06-03 19:52"), "22"),
        (at("2024-06-03 20:00"), "22"),
    ]
