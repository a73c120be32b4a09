"""The eMSP's AuthorizationInfo checked by one AuthorizationInfoSerializer per thread
(tokens.realtime.validate_authorization_info): the serializer's verdict, every time."""

from typing import Any

import pytest
from rest_framework.exceptions import ValidationError

from ocpi.exceptions import validation_message
from tests.tokens.conftest import token_payload
from tokens.realtime import validate_authorization_info
from tokens.serializers import AuthorizationInfoSerializer

VALID = {
    "allowed": "ALLOWED",
    "token": token_payload(),
    "location": {"location_id": "LOC1", "evse_uids": ["LOC1-E1"]},
    "authorization_reference": "REF-1",
}
INVALID = [
    {**VALID, "allowed": "MAYBE"},
    {key: value for key, value in VALID.items() if key != "token"},
    {**VALID, "token": {**token_payload(), "uid": ""}},
    {**VALID, "authorization_reference": "R" * 37},
    ["not", "an", "object"],
]


def serializer_says(data: Any) -> tuple[dict[str, Any] | None, str]:
    serializer = AuthorizationInfoSerializer(data=data)
    if serializer.is_valid():
        return dict(serializer.validated_data), ""
    return None, validation_message(serializer.errors)


@pytest.mark.parametrize("data", [VALID, *INVALID])
def test_the_verdict_is_the_serializers(data: Any) -> None:
    assert validate_authorization_info(data) == serializer_says(data)


def test_one_answer_leaves_nothing_behind_for_the_next() -> None:
    verdicts = [validate_authorization_info(data) for data in (INVALID[0], VALID, INVALID[1])]

    assert [info is not None for info, _ in verdicts] == [False, True, False]
    assert verdicts[1] == serializer_says(VALID)
    assert verdicts[2] == serializer_says(INVALID[1])


def state(field: Any) -> list[dict[str, Any]]:
    """The attributes of a field and of every field under it, depth first."""
    children = field.fields.values() if hasattr(field, "fields") else ()
    return [dict(vars(field)), *(part for child in children for part in state(child))]


def test_drf_validation_keeps_no_state_on_the_serializer() -> None:
    """What the per-thread serializer relies on (bench/RESULTS.md, "Overrides kept"): DRF's
    run_validation() leaves the serializer and its fields as it found them, whatever it
    validated."""
    serializer = AuthorizationInfoSerializer()
    serializer.run_validation(VALID)  # binds the fields, once
    before = state(serializer)

    with pytest.raises(ValidationError):
        serializer.run_validation(INVALID[2])
    serializer.run_validation({**VALID, "authorization_reference": "REF-2"})

    assert state(serializer) == before
