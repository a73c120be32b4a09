"""The CDR classes checked and rendered (mod_cdrs.asciidoc, Object description, Data types)."""

import copy
from decimal import Decimal
from typing import Any

import pytest

from cdrs.models import Cdr
from cdrs.serializers import CdrSerializer
from ocpi import json
from tests.cdrs.conftest import CDR_EXAMPLE
from tests.examples import load


def example(**overrides: Any) -> dict[str, Any]:
    return {**copy.deepcopy(load(CDR_EXAMPLE)), **overrides}


def errors(payload: dict[str, Any]) -> dict[str, Any]:
    serializer = CdrSerializer(data=payload)
    assert not serializer.is_valid()
    return dict(serializer.errors)


def round_trip(payload: dict[str, Any]) -> Any:
    serializer = CdrSerializer(data=payload)
    assert serializer.is_valid(), serializer.errors
    return json.loads(json.dumps(CdrSerializer(Cdr(**serializer.validated_data)).data))


def test_the_spec_example_round_trips_with_its_swapped_coordinates_as_sent() -> None:
    """cdr_example.json puts Gent at latitude 3.73, longitude 51.05 (checklist §7). Both are
    within range, so nothing can tell them apart from a real place: they are kept as sent,
    not "fixed"; the location's own data is what our CDRs carry."""
    payload = example()

    assert round_trip(payload) == payload
    assert payload["cdr_location"]["coordinates"] == {
        "latitude": "3.729944",
        "longitude": "51.047599",
    }


def test_numbers_are_json_numbers_with_their_digits() -> None:
    text = json.dumps(round_trip(example()))

    assert '"total_cost":{"excl_vat":4,"incl_vat":4.4}' in text
    assert '"total_energy":15.342' in text
    assert '{"type":"TIME","volume":1.973}' in text


@pytest.mark.parametrize("kind", ["CURRENT", "ENERGY_EXPORT", "ENERGY_IMPORT", "POWER"])
def test_session_only_dimensions_are_refused(kind: str) -> None:
    payload = example()
    payload["charging_periods"][0]["dimensions"].append({"type": kind, "volume": 1})

    assert "Session-only" in str(errors(payload)["charging_periods"])


def test_a_cdr_needs_a_charging_period() -> None:
    assert "charging_periods" in errors(example(charging_periods=[]))


def test_an_id_of_37_is_for_credit_cdrs_only() -> None:
    long_id = "X" * 37

    assert errors(example(id=long_id))["id"] == [
        "A CDR that is no credit CDR has an id of at most 36."
    ]
    assert round_trip(example(id=long_id, credit=True, credit_reference_id="X" * 36))["id"] == (
        long_id
    )
    assert "id" in errors(example(id="X" * 40, credit=True, credit_reference_id="X"))


def test_a_credit_cdr_names_the_cdr_it_credits() -> None:
    assert errors(example(credit=True))["credit_reference_id"] == ["Required for a credit CDR."]
    assert "credit_reference_id" in errors(example(credit_reference_id="12344"))


def test_credit_costs_are_negative_and_credit_false_is_not_written() -> None:
    credit = round_trip(
        example(
            id="12345-C",
            credit=True,
            credit_reference_id="12345",
            total_cost={"excl_vat": Decimal("-4.00"), "incl_vat": Decimal("-4.40")},
        )
    )
    plain = round_trip(example(credit=False))

    assert credit["total_cost"] == {"excl_vat": Decimal(-4), "incl_vat": Decimal("-4.4")}
    assert "credit" not in plain
    assert "credit_reference_id" not in plain


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("address", "A" * 46),  # CdrLocation keeps string(45): the errata widened Location's
        ("state", "S" * 21),
        ("postal_code", "1" * 11),
        ("evse_id", "E" * 49),
        ("country", "BE"),
        ("connector_standard", "IEC_62196_T9"),
    ],
)
def test_cdr_location_has_its_own_lengths_and_values(field: str, value: str) -> None:
    payload = example()
    payload["cdr_location"][field] = value

    assert field in errors(payload)["cdr_location"]


def test_coordinates_are_checked_like_a_locations() -> None:
    payload = example()
    payload["cdr_location"]["coordinates"] = {"latitude": "91.000000", "longitude": "3.729944"}

    assert "coordinates" in errors(payload)["cdr_location"]


def test_signed_data_is_kept() -> None:
    signed = {
        "encoding_method": "OCMF",
        "encoding_method_version": 1,
        "signed_values": [{"nature": "Start", "plain_data": "x" * 5000, "signed_data": "c2ln"}],
    }

    assert round_trip(example(signed_data=signed))["signed_data"] == signed
    assert "signed_data" in errors(example(signed_data={**signed, "signed_values": []}))


def test_optional_fields_sent_as_null_are_absent() -> None:
    payload = example(
        session_id=None,
        authorization_reference=None,
        total_fixed_cost=None,
        tariffs=None,
        remark=None,
        credit=None,
        home_charging_compensation=None,
    )

    assert round_trip(payload) == {
        name: value for name, value in payload.items() if value is not None and name != "tariffs"
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("currency", "eur"),
        ("end_date_time", "2015-06-29T20:00:00Z"),  # before the start
        ("last_updated", "2015-06-29T22:01:13+01:00"),  # offsets are not UTC
        ("total_cost", {"incl_vat": Decimal("4.40")}),
        ("total_energy", "15.342"),  # a string, not a number
        ("total_energy", Decimal("15.34201")),  # more than the 4 decimals we keep
        ("credit", "true"),
        ("auth_method", "RFID"),
    ],
)
def test_wrong_values_are_refused(field: str, value: Any) -> None:
    assert field in errors(example(**{field: value}))
