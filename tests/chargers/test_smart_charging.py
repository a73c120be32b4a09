"""OCPI ChargingProfile ↔ OCPP charging schedules: units, phases, rounding, round trips, and the
payloads checked against each OCPP version's schema."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ocpp.messages import MessageType

from chargers.gateway import validation
from chargers.models import ChargerTransaction, OcppVersion
from chargers.smart_charging import (
    Period,
    Profile,
    Supply,
    capped,
    clear_profile_payload,
    composite_of,
    composite_schedule_payload,
    constant,
    from_watts,
    in_unit,
    ocpp_schedule,
    profile_from_ocpi,
    profile_from_ocpp,
    profile_to_ocpi,
    set_profile_payload,
    supply_of,
    to_watts,
    unit_for,
)
from locations.models import Connector

THREE_PHASE = Supply(Decimal(230), 3)
ONE_PHASE = Supply(Decimal(230), 1)
DC = Supply(Decimal(400), 1, direct_current=True)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def transaction(transaction_id: str = "1001", pk: int = 42) -> ChargerTransaction:
    return ChargerTransaction(pk=pk, transaction_id=transaction_id, ocpp_evse_id=2)


def test_the_supply_of_a_connector_by_its_power_type() -> None:
    def of(power_type: str, volts: int) -> Supply:
        return supply_of(Connector(power_type=power_type, max_voltage=volts, max_amperage=32))

    assert of("AC_3_PHASE", 230) == Supply(Decimal(230), 3)
    assert of("AC_1_PHASE", 230) == Supply(Decimal(230), 1)
    assert of("AC_2_PHASE_SPLIT", 120) == Supply(Decimal(120), 2)
    assert of("DC", 400) == Supply(Decimal(400), 1, direct_current=True)


def test_amperes_per_phase_and_watts_in_total() -> None:
    assert to_watts(Decimal(16), "A", THREE_PHASE) == Decimal(11_040)
    assert to_watts(Decimal(16), "A", ONE_PHASE) == Decimal(3_680)
    assert to_watts(Decimal(100), "A", DC) == Decimal(40_000)
    assert to_watts(Decimal(7_000), "W", THREE_PHASE) == Decimal(7_000)
    # 7000 W / 690 V = 10.1449… A, rounded down: a ceiling never rises by rounding.
    assert from_watts(Decimal(7_000), "A", THREE_PHASE) == Decimal("10.1")
    assert from_watts(Decimal("7000.09"), "W", THREE_PHASE) == Decimal("7000.0")
    assert unit_for(THREE_PHASE) == "A"
    assert unit_for(DC) == "W"


def test_an_ocpi_profile_converts_between_units_with_its_minimum() -> None:
    profile = profile_from_ocpi(
        {
            "charging_rate_unit": "W",
            "min_charging_rate": Decimal(1_380),
            "charging_profile_period": [
                {"start_period": 1800, "limit": Decimal(3_680)},
                {"start_period": 0, "limit": Decimal(11_040)},
            ],
        }
    )

    amperes = in_unit(profile, "A", THREE_PHASE)

    assert amperes.unit == "A"
    assert amperes.periods == (Period(0, Decimal(16)), Period(1800, Decimal("5.3")))
    assert amperes.min_rate == Decimal(2)
    assert in_unit(amperes, "A", THREE_PHASE) is amperes


def test_the_limit_at_a_moment_of_the_profile() -> None:
    profile = Profile(
        unit="A",
        periods=(Period(60, Decimal(16)), Period(600, Decimal(8))),
        duration=3600,
    )

    assert profile.limit_at(0) is None
    assert profile.limit_at(60) == Decimal(16)
    assert profile.limit_at(599) == Decimal(16)
    assert profile.limit_at(600) == Decimal(8)
    assert profile.limit_at(3600) is None


def test_a_cap_lowers_every_period_and_the_minimum() -> None:
    profile = Profile(
        unit="A", periods=(Period(0, Decimal(32)), Period(900, Decimal(6))), min_rate=Decimal(10)
    )

    result = capped(profile, Decimal(6_900), THREE_PHASE)  # 10 A on three phases

    assert result.periods == (Period(0, Decimal(10)), Period(900, Decimal(6)))
    assert result.min_rate == Decimal(10)
    assert capped(Profile(unit="W", periods=()), Decimal(5_000), DC).periods == (
        Period(0, Decimal(5_000)),
    )
    assert constant(Decimal(7_360), "A", ONE_PHASE).periods == (Period(0, Decimal(32)),)


def test_ocpi_to_ocpp_names_the_fields_and_the_phases() -> None:
    profile = Profile(
        unit="A",
        periods=(Period(0, Decimal(16)), Period(1800, Decimal("6.5"))),
        start=START,
        duration=7200,
        min_rate=Decimal(6),
    )

    assert ocpp_schedule(profile, ONE_PHASE) == {
        "chargingRateUnit": "A",
        "startSchedule": "2026-03-02T09:00:00Z",
        "duration": 7200,
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 16.0, "numberPhases": 1},
            {"startPeriod": 1800, "limit": 6.5, "numberPhases": 1},
        ],
        "minChargingRate": 6.0,
    }
    in_watts = ocpp_schedule(in_unit(profile, "W", DC), DC)
    assert in_watts["chargingSchedulePeriod"][0] == {"startPeriod": 0, "limit": 6400.0}


limits = st.integers(0, 5000).map(lambda n: Decimal(n) / 10)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 86_400), limits), min_size=1, max_size=5, unique_by=lambda p: p[0]
    ),
    st.sampled_from(["A", "W"]),
    st.one_of(st.none(), st.integers(1, 86_400)),
    st.one_of(st.none(), limits),
    st.booleans(),
)
def test_ocpi_ocpp_ocpi_is_the_same_profile(
    periods: list[tuple[int, Decimal]],
    unit: str,
    duration: int | None,
    minimum: Decimal | None,
    absolute: bool,
) -> None:
    ocpi: dict[str, Any] = {
        "charging_rate_unit": unit,
        "charging_profile_period": [{"start_period": s, "limit": v} for s, v in periods],
    }
    if absolute:
        ocpi["start_date_time"] = START
    if duration is not None:
        ocpi["duration"] = duration
    if minimum is not None:
        ocpi["min_charging_rate"] = minimum
    profile = profile_from_ocpi(ocpi)

    back = profile_from_ocpp(ocpp_schedule(profile, THREE_PHASE))

    assert back == profile
    assert profile_from_ocpi(profile_to_ocpi(back)) == profile


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 640).map(lambda n: Decimal(n) / 10))
def test_amperes_to_watts_and_back_never_rises(amperes: Decimal) -> None:
    profile = Profile(unit="A", periods=(Period(0, amperes),))

    back = in_unit(in_unit(profile, "W", THREE_PHASE), "A", THREE_PHASE)

    assert back.periods[0].limit == amperes  # 690 V × a tenth of an ampere: whole watts


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
def test_the_payloads_match_the_ocpp_schemas(version: str) -> None:
    profile = Profile(
        unit="A", periods=(Period(0, Decimal("16.3")),), start=START, min_rate=Decimal("6.1")
    )
    payloads = {
        "SetChargingProfile": set_profile_payload(version, transaction(), profile, THREE_PHASE),
        "ClearChargingProfile": clear_profile_payload(version, transaction()),
        "GetCompositeSchedule": composite_schedule_payload(version, transaction(), 900, "W"),
    }

    for action, payload in payloads.items():
        assert validation.problems(MessageType.Call, action, version, payload) == [], action


def test_set_charging_profile_1_6_is_a_tx_profile_of_the_integer_transaction() -> None:
    payload = set_profile_payload(
        OcppVersion.V16, transaction(), Profile("W", (Period(0, Decimal(5000)),)), THREE_PHASE
    )

    assert payload == {
        "connectorId": 2,
        "csChargingProfiles": {
            "chargingProfileId": 42,
            "transactionId": 1001,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 5000.0}],
            },
        },
    }


def test_set_charging_profile_2_0_1_names_the_evse_and_the_transaction() -> None:
    payload = set_profile_payload(
        OcppVersion.V201,
        transaction("b3c1-tx"),
        Profile("A", (Period(0, Decimal(10)),), start=START),
        THREE_PHASE,
    )

    assert payload["evseId"] == 2
    assert payload["chargingProfile"] == {
        "id": 42,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute",
        "transactionId": "b3c1-tx",
        "chargingSchedule": [
            {
                "id": 42,
                "chargingRateUnit": "A",
                "startSchedule": "2026-03-02T09:00:00Z",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0, "numberPhases": 3}],
            }
        ],
    }


def test_the_composite_schedule_of_each_version() -> None:
    periods = [{"startPeriod": 0, "limit": 11040}, {"startPeriod": 600, "limit": 3680.04}]
    answer_16 = {
        "status": "Accepted",
        "connectorId": 2,
        "scheduleStart": "2026-03-02T09:00:00Z",
        "chargingSchedule": {
            "duration": 900,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": periods,
        },
    }
    answer_201 = {
        "status": "Accepted",
        "schedule": {
            "evseId": 2,
            "duration": 900,
            "scheduleStart": "2026-03-02T09:00:00Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": periods,
        },
    }
    expected = Profile(
        unit="W",
        periods=(Period(0, Decimal(11040)), Period(600, Decimal("3680.0"))),
        start=START,
        duration=900,
    )

    assert composite_of(OcppVersion.V16, answer_16) == expected
    assert composite_of(OcppVersion.V201, answer_201) == expected
    assert composite_of(OcppVersion.V16, {"status": "Rejected"}) is None
    assert composite_of(OcppVersion.V201, None) is None
