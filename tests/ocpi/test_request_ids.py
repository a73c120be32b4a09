"""X-Request-ID and X-Correlation-ID (transport_and_format.asciidoc, Request/response headers).

Echoed when sent, generated (UUID) when absent, on every answer under /ocpi/, errors included.
"""

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from ocpi.context import current_correlation_id, current_request_id

pytestmark = [pytest.mark.urls("tests.ocpi.testapp.urls"), pytest.mark.django_db]

SENT = {"X-Request-ID": "req-7a1", "X-Correlation-ID": "corr-42b"}


def is_uuid(value: str) -> bool:
    return str(uuid.UUID(value)) == value


def ids_of(response: Any) -> tuple[str, str]:
    return response["X-Request-ID"], response["X-Correlation-ID"]


def test_ids_are_echoed_on_success(partner_client: APIClient) -> None:
    response = partner_client.get("/ocpi/versions", headers=SENT)

    assert response.status_code == 200
    assert ids_of(response) == ("req-7a1", "corr-42b")


def test_ids_are_generated_when_absent(partner_client: APIClient) -> None:
    first = ids_of(partner_client.get("/ocpi/versions"))
    second = ids_of(partner_client.get("/ocpi/versions"))

    assert all(is_uuid(value) for value in first + second)
    assert len(set(first + second)) == 4


def test_header_names_are_case_insensitive(partner_client: APIClient) -> None:
    response = partner_client.get(
        "/ocpi/versions", headers={"x-request-id": "req-lower", "X-CORRELATION-ID": "corr-upper"}
    )

    assert ids_of(response) == ("req-lower", "corr-upper")


@pytest.mark.parametrize(
    ("method", "path", "body", "http_status"),
    [
        ("get", "/ocpi/nothing", None, 404),
        ("post", "/ocpi/cpo/2.2.1/testecho", b"{not json", 400),
        ("post", "/ocpi/versions", None, 405),
    ],
)
def test_ids_are_echoed_on_errors(
    partner_client: APIClient, method: str, path: str, body: bytes | None, http_status: int
) -> None:
    response = getattr(partner_client, method)(
        path, data=body, content_type="application/json", headers=SENT
    )

    assert response.status_code == http_status
    assert ids_of(response) == ("req-7a1", "corr-42b")


def test_ids_are_echoed_on_401(api_client: APIClient) -> None:
    response = api_client.get("/ocpi/versions", headers=SENT)

    assert response.status_code == 401
    assert ids_of(response) == ("req-7a1", "corr-42b")


def test_ids_are_generated_on_errors(api_client: APIClient) -> None:
    response = api_client.get("/ocpi/nothing")

    assert response.status_code == 401
    assert all(is_uuid(value) for value in ids_of(response))


@pytest.mark.parametrize("unsafe", ["has space", "x" * 256, "tab\there", "naÃ¯ve", ""])
def test_unsafe_incoming_ids_are_replaced(partner_client: APIClient, unsafe: str) -> None:
    response = partner_client.get(
        "/ocpi/versions",
        headers={"X-Request-ID": unsafe, "X-Correlation-ID": unsafe},
    )

    assert all(is_uuid(value) for value in ids_of(response))


def test_the_ids_are_known_while_the_view_runs_and_cleared_after(
    partner_client: APIClient,
) -> None:
    response = partner_client.get("/ocpi/cpo/2.2.1/testecho", headers=SENT)

    assert response.json()["data"] == {
        "routing": None,
        "request_id": "req-7a1",
        "correlation_id": "corr-42b",
    }
    assert (current_request_id.get(), current_correlation_id.get()) == (None, None)


def test_urls_outside_ocpi_carry_no_ids(db: None, api_client: APIClient) -> None:
    response = api_client.get("/healthz", headers=SENT)

    assert response.status_code == 200
    assert ("X-Request-ID" in response, "X-Correlation-ID" in response) == (False, False)
