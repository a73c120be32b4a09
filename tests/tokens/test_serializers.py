"""The Tokens module's classes (mod_tokens, Object description): lengths, cardinality, enums."""

from typing import Any

import pytest

from ocpi import json
from tests.tokens.conftest import example, token_payload
from tokens.authorization import LocationReferences
from tokens.serializers import (
    AuthorizationInfoSerializer,
    LocationReferencesSerializer,
    TokenSerializer,
)


def errors(serializer_class: Any, data: Any) -> Any:
    serializer = serializer_class(data=data)
    assert not serializer.is_valid()
    return json.loads(json.dumps(serializer.errors))


@pytest.mark.parametrize(
    "name",
    ["token_example_1_app_user.json", "token_example_2_full_rfid.json", "token_put_example.json"],
)
def test_the_spec_examples_are_valid_tokens(name: str) -> None:
    serializer = TokenSerializer(data=example(name))

    assert serializer.is_valid(), serializer.errors


def test_the_patch_example_is_a_valid_partial_token() -> None:
    serializer = TokenSerializer(data=example("token_patch_example.json"), partial=True)

    assert serializer.is_valid(), serializer.errors


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country_code", "DEU"),
        ("party_id", "TN"),
        ("contract_id", "C" * 37),
        ("visual_number", "V" * 65),
        ("issuer", "I" * 65),
        ("group_id", "G" * 37),
        ("language", "ita"),
        ("default_profile_type", "SLOW"),
        ("type", "rfid"),
        ("uid", "tab\there"),
    ],
)
def test_limits_and_enums_are_enforced(field: str, value: str) -> None:
    assert list(errors(TokenSerializer, token_payload(**{field: value}))) == [field]


def test_optional_fields_may_be_absent_null_or_empty() -> None:
    payload = token_payload(visual_number=None, group_id="", energy_contract=None)
    del payload["language"]

    serializer = TokenSerializer(data=payload)

    assert serializer.is_valid(), serializer.errors


def test_authorization_info_needs_a_complete_token_and_an_allowed_type() -> None:
    found = errors(AuthorizationInfoSerializer, {"allowed": "MAYBE", "token": {"uid": "X"}})

    assert sorted(found) == ["allowed", "token"]
    assert "country_code" in found["token"]


def test_authorization_info_with_every_field_is_valid() -> None:
    data = {
        "allowed": "ALLOWED",
        "token": token_payload(),
        "location": {"location_id": "LOC1", "evse_uids": ["E1", "E2"]},
        "authorization_reference": "R" * 36,
        "info": {"language": "nl", "text": "Welkom"},
    }

    serializer = AuthorizationInfoSerializer(data=data)

    assert serializer.is_valid(), serializer.errors
    assert json.loads(json.dumps(serializer.data)) == data


def test_an_authorization_reference_longer_than_36_is_invalid() -> None:
    found = errors(
        AuthorizationInfoSerializer,
        {"allowed": "ALLOWED", "token": token_payload(), "authorization_reference": "R" * 37},
    )

    assert list(found) == ["authorization_reference"]


def test_location_references_round_trip() -> None:
    serializer = LocationReferencesSerializer(data={"location_id": "LOC1", "evse_uids": None})
    assert serializer.is_valid(), serializer.errors

    references = LocationReferences.from_ocpi(serializer.validated_data)

    assert references == LocationReferences("LOC1")
    assert references.as_ocpi() == {"location_id": "LOC1"}
    assert LocationReferences("L", ("E1",)).as_ocpi() == {"location_id": "L", "evse_uids": ["E1"]}
