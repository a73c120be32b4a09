"""The response envelope (transport_and_format.asciidoc, Response format)."""

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from credentials.models import Invitation
from ocpi.responses import envelope, ocpi_response
from ocpi.status import OcpiStatus
from ocpi.time import now, parse_datetime

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")


def test_envelope_carries_data_code_message_and_timestamp() -> None:
    body = envelope(OcpiStatus.SUCCESS, data=[{"version": "2.2.1"}], message="ok")

    assert list(body) == ["data", "status_code", "status_message", "timestamp"]
    assert body["data"] == [{"version": "2.2.1"}]
    assert body["status_code"] == 1000
    assert type(body["status_code"]) is int
    assert body["status_message"] == "ok"


def test_envelope_leaves_data_out_when_unspecified() -> None:
    """d2: where the spec says nothing about data, send no data field at all."""
    assert list(envelope(OcpiStatus.SUCCESS)) == ["status_code", "timestamp"]


@pytest.mark.parametrize("data", [None, [], {}, "", 0])
def test_envelope_keeps_data_that_was_given(data: object) -> None:
    assert envelope(OcpiStatus.SUCCESS, data=data)["data"] == data


def test_envelope_timestamp_is_utc_with_z_and_current() -> None:
    before = now()
    body = envelope(OcpiStatus.SUCCESS)
    after = now()

    assert TIMESTAMP.match(body["timestamp"])
    assert before <= parse_datetime(body["timestamp"]) <= after


def test_envelope_timestamp_is_taken_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    moments = iter(
        [
            datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
            datetime(2026, 3, 1, 12, 0, 1, 250000, tzinfo=UTC),
        ]
    )
    monkeypatch.setattr("ocpi.responses.now", lambda: next(moments))

    stamps = [envelope(OcpiStatus.SUCCESS)["timestamp"], envelope(OcpiStatus.SUCCESS)["timestamp"]]

    assert stamps == ["2026-03-01T12:00:00Z", "2026-03-01T12:00:01.250Z"]


def test_ocpi_response_sets_http_status_and_headers() -> None:
    response = ocpi_response(
        {"id": "1"},
        status_code=OcpiStatus.INVALID_PARAMETERS,
        message="bad",
        http_status=201,
        headers={"Location": "https://x.example/1"},
    )

    assert response.status_code == 201
    assert response["Location"] == "https://x.example/1"
    assert response.data["data"] == {"id": "1"}
    assert response.data["status_code"] == 2001
    assert response.data["status_message"] == "bad"


def test_ocpi_response_defaults_to_success_without_data() -> None:
    response = ocpi_response()

    assert (response.status_code, list(response.data)) == (200, ["status_code", "timestamp"])


def test_an_endpoint_answers_the_envelope_as_application_json(
    client_with_token: Callable[[str], APIClient], invitation: tuple[Invitation, str]
) -> None:
    client = client_with_token(invitation[1])

    response = client.get("/ocpi/versions")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["data", "status_code", "timestamp"]
    assert body["status_code"] == 1000
    assert TIMESTAMP.match(body["timestamp"])
