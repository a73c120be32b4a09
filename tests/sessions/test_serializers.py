"""The Session classes (mod_sessions; CdrToken, ChargingPeriod, CdrDimension, CdrLocation of
mod_cdrs): the spec's examples, lengths, cardinality and enums."""

import copy
from decimal import Decimal
from typing import Any

import pytest

from ocpi import json
from ocpi.exceptions import validation_message
from sessions.serializers import (
    CdrLocationSerializer,
    ChargingPeriodSerializer,
    ChargingPreferencesSerializer,
    SessionSerializer,
)
from tests.sessions.conftest import example, start


def errors(serializer: Any) -> Any:
    assert not serializer.is_valid()
    return json.loads(json.dumps(serializer.errors))


def session_payload(**overrides: Any) -> dict[str, Any]:
    """session_example_1_simple_start.json with a charging period, and `overrides`."""
    payload = copy.deepcopy(example("session_example_1_simple_start.json"))
    payload["kwh"] = Decimal("1.5")
    payload["charging_periods"] = [
        {
            "start_date_time": "2020-03-09T10:17:09Z",
            "dimensions": [
                {"type": "ENERGY", "volume": Decimal("1.5")},
                {"type": "TIME", "volume": Decimal("0.25")},
            ],
            "tariff_id": "12",
        }
    ]
    payload.update(overrides)
    return payload


def test_the_simple_start_example_is_a_valid_session_and_renders_back_unchanged() -> None:
    payload = example("session_example_1_simple_start.json")
    serializer = SessionSerializer(data=payload)

    assert serializer.is_valid(), serializer.errors
    rendered = SessionSerializer(serializer.validated_data).data
    assert json.loads(json.dumps(rendered)) == payload
    assert serializer.validated_data["total_cost"] == {"excl_vat": Decimal("2.5")}


def test_the_short_finished_example_is_refused_for_its_energy_in_wh() -> None:
    """ocpi-2.2.1.md §7: ENERGY volumes 120 and 41000 for a session of 41.12 kWh."""
    found = errors(SessionSerializer(data=example("session_example_2_short_finished.json")))

    assert found == {
        "charging_periods": [
            "Their ENERGY adds up to 41120 kWh, more than the session's kwh 41.12 "
            "(ENERGY volumes are kWh, not Wh)."
        ]
    }


def test_the_short_finished_example_with_its_energy_in_kwh_is_valid() -> None:
    payload = example("session_example_2_short_finished.json")
    payload["charging_periods"][0]["dimensions"][0]["volume"] = Decimal("0.12")
    payload["charging_periods"][1]["dimensions"][0]["volume"] = Decimal("41")

    serializer = SessionSerializer(data=payload)

    assert serializer.is_valid(), serializer.errors


def test_the_total_cost_patch_example_is_a_valid_partial_session() -> None:
    serializer = SessionSerializer(
        data=example("session_patch_example_total_cost.json"), partial=True
    )

    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["total_cost"] == {
        "excl_vat": Decimal("0.60"),
        "incl_vat": Decimal("0.66"),
    }


def test_the_charging_period_patch_example_has_the_same_wh_defect() -> None:
    """ENERGY 2200 in one period of a session at kwh 15.00: Wh again."""
    found = errors(
        SessionSerializer(data=example("session_patch_example_charging_period.json"), partial=True)
    )

    assert list(found) == ["charging_periods"]
    assert "not Wh" in found["charging_periods"][0]


def test_volumes_stay_exact() -> None:
    serializer = SessionSerializer(data=session_payload())

    assert serializer.is_valid(), serializer.errors
    [period] = serializer.validated_data["charging_periods"]
    assert period["dimensions"][0] == {"type": "ENERGY", "volume": Decimal("1.5")}
    assert json.dumps(ChargingPeriodSerializer(period).data) == (
        '{"start_date_time":"2020-03-09T10:17:09Z","dimensions":[{"type":"ENERGY","volume":1.5},'
        '{"type":"TIME","volume":0.25}],"tariff_id":"12"}'
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country_code", "NLD"),
        ("party_id", "STKX"),
        ("id", "i" * 37),
        ("authorization_reference", "a" * 37),
        ("location_id", "l" * 37),
        ("evse_uid", "e" * 37),
        ("connector_id", "c" * 37),
        ("meter_id", "m" * 256),
        ("currency", "eur"),
        ("status", "RESERVED"),  # the spec's text says so; the enum value is RESERVATION
        ("auth_method", "RFID"),
        ("kwh", Decimal("-1")),
        ("kwh", "1.5"),
        ("start_date_time", "2020-03-09T10:17:09+01:00"),
    ],
)
def test_limits_and_enums_are_enforced(field: str, value: Any) -> None:
    assert list(errors(SessionSerializer(data=session_payload(**{field: value})))) == [field]


@pytest.mark.parametrize("field", ["cdr_token", "kwh", "status", "currency", "last_updated"])
def test_required_fields(field: str) -> None:
    payload = session_payload()
    del payload[field]

    assert list(errors(SessionSerializer(data=payload))) == [field]


@pytest.mark.parametrize(
    ("field", "value"),
    [("country_code", "N"), ("party_id", "T"), ("uid", ""), ("type", "CARD"), ("contract_id", "")],
)
def test_the_cdr_token_is_complete(field: str, value: str) -> None:
    payload = session_payload()
    payload["cdr_token"][field] = value

    found = errors(SessionSerializer(data=payload))

    assert (list(found), list(found["cdr_token"])) == (["cdr_token"], [field])


def test_a_reservation_without_evse_names_none() -> None:
    serializer = SessionSerializer(
        data=session_payload(status="RESERVATION", evse_uid="#NA", connector_id="#NA")
    )

    assert serializer.is_valid(), serializer.errors


@pytest.mark.parametrize(
    ("dimensions", "message"),
    [
        ([], "This list may not be empty."),
        ([{"type": "ENERGY_WH", "volume": 1}], '"ENERGY_WH" is not a valid choice.'),
        ([{"type": "TIME", "volume": Decimal("-0.1")}], "TIME cannot be negative."),
        ([{"type": "STATE_OF_CHARGE", "volume": 101}], "STATE_OF_CHARGE is 0 to 100 %."),
        (
            [{"type": "ENERGY", "volume": 1}, {"type": "ENERGY", "volume": 2}],
            "Each dimension type may appear once per period: ENERGY repeats.",
        ),
    ],
)
def test_charging_period_dimensions(dimensions: list[dict[str, Any]], message: str) -> None:
    serializer = ChargingPeriodSerializer(
        data={"start_date_time": "2020-03-09T10:17:09Z", "dimensions": dimensions}
    )

    assert not serializer.is_valid()
    assert message in validation_message(serializer.errors)


def test_net_export_is_a_negative_energy() -> None:
    serializer = ChargingPeriodSerializer(
        data={
            "start_date_time": "2020-03-09T10:17:09Z",
            "dimensions": [{"type": "ENERGY", "volume": Decimal("-2")}],
        }
    )

    assert serializer.is_valid(), serializer.errors


def test_periods_are_in_time_order_and_a_session_ends_after_it_starts() -> None:
    first, second = (
        {"start_date_time": moment, "dimensions": [{"type": "TIME", "volume": 1}]}
        for moment in ("2020-03-09T11:00:00Z", "2020-03-09T10:30:00Z")
    )
    found = errors(
        SessionSerializer(
            data=session_payload(
                charging_periods=[first, second], end_date_time="2020-03-09T10:00:00Z"
            )
        )
    )

    assert found == {
        "end_date_time": ["Must not be before start_date_time."],
        "charging_periods": ["Must be in order of start_date_time."],
    }


@pytest.mark.parametrize(
    ("payload", "valid"),
    [
        ({"profile_type": "FAST"}, True),
        (
            {"profile_type": "CHEAP", "departure_time": "2026-01-01T18:00:00Z", "energy_need": 30},
            True,
        ),
        ({"profile_type": "SLOW"}, False),
        ({"profile_type": "REGULAR", "energy_need": -1}, False),
        ({"profile_type": "REGULAR", "discharge_allowed": "false"}, False),
        ({"profile_type": "REGULAR", "discharge_allowed": False}, True),
        ({"departure_time": "2026-01-01T18:00:00Z"}, False),
    ],
)
def test_charging_preferences(payload: dict[str, Any], valid: bool) -> None:
    assert ChargingPreferencesSerializer(data=payload).is_valid() is valid


@pytest.mark.usefixtures("location")
def test_the_frozen_cdr_location_is_a_valid_cdr_location() -> None:
    frozen = start().cdr_location

    assert CdrLocationSerializer(data=frozen).is_valid()
    assert list(errors(CdrLocationSerializer(data={**frozen, "address": "A" * 46}))) == ["address"]
