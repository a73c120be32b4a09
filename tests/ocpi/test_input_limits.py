"""Bounded input (issue 10, finding 3 and Build 4), through Django's test client (WSGI).

Deep JSON is refused before the parser recurses, integers in the query before they reach the
database, and a body larger than OCPI_MAX_BODY_BYTES before it is parsed. What the ASGI entry
point refuses before reading (Content-Length, streamed bodies, headers) is tested in
test_asgi_limits.py.
"""

from typing import Any

import pytest
from rest_framework.test import APIClient

from credentials.models import Invitation
from ocpi.limits import json_depth_exceeds
from tests.conftest import client_for
from tests.ocpi.answers import assert_error
from tests.partners import only_local_party, registered_emsp

pytestmark = pytest.mark.django_db

TOKEN = "limits-emsp-token"
TOKEN_URL = "/ocpi/cpo/2.2.1/tokens/DE/TNM/TOKEN1"
# 2**63: one past the largest integer a 64-bit database column (and SQLite) can hold.
HUGE = "9223372036854775808"
LARGEST = "9223372036854775807"


@pytest.fixture
def emsp_client() -> APIClient:
    only_local_party()
    registered_emsp("Limits eMSP", TOKEN, ("DE", "TNM"))
    return client_for(TOKEN)


def nested(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


# --- JSON nested deeper than OCPI ever nests: HTTP 400, 2001, never a RecursionError ---------

DEEP_MESSAGE = "Request body is nested deeper than 32 levels"


def test_deep_json_on_credentials_post_with_token_a_is_refused(
    invitation: tuple[Invitation, str],
) -> None:
    response = client_for(invitation[1]).post(
        "/ocpi/2.2.1/credentials", data=nested(1000), content_type="application/json"
    )

    assert_error(response, 400, 2001, DEEP_MESSAGE)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/ocpi/2.2.1/credentials"),
        ("put", TOKEN_URL),
        ("patch", TOKEN_URL),
    ],
)
@pytest.mark.parametrize("levels", [33, 1000, 100_000])
def test_deep_json_from_a_partner_is_refused(
    emsp_client: APIClient, method: str, url: str, levels: int
) -> None:
    response = getattr(emsp_client, method)(
        url, data=nested(levels), content_type="application/json"
    )

    assert_error(response, 400, 2001, DEEP_MESSAGE)


def test_json_as_deep_as_the_limit_is_parsed(emsp_client: APIClient) -> None:
    response = emsp_client.put(TOKEN_URL, data=nested(32), content_type="application/json")

    # Parsed, then refused as a Token (a list is not one): the depth let it through.
    assert (response.status_code, response.json()["status_code"]) == (200, 2001)
    assert response.json()["status_message"].startswith("body: Invalid data.")


@pytest.mark.parametrize(
    ("text", "exceeds"),
    [
        (b'{"a": [1, {"b": []}]}', False),
        (b"[" * 33 + b"]" * 33, True),
        (b"[" * 32 + b"]" * 32, False),
        # Arrays and objects alternating: each pair one level, whichever kind is innermost.
        (b"[{" * 16 + b"[" + b"]" + b"}]" * 16, True),
        (b"[{" * 16 + b"}]" * 16, False),
        (b"{[" * 31 + b"{}" + b"]}" * 31, True),
        # Brackets inside strings are text, not nesting.
        (b'["' + b"[" * 100 + b'"]', False),
        (b'["\\"' + b"{" * 100 + b'"]', False),
        (b'["\\\\", "' + b"[" * 100 + b'"]', False),
        (b'["\\\\\\"' + b"[" * 100 + b'"]', False),
        # Many brackets side by side are wide, not deep.
        (b"[" + b"[]," * 1000 + b"[]]", False),
        # Unbalanced brackets are not JSON at all: left to the parser to say so.
        (b"[" * 40, True),
        (b"]" * 40 + b"[" * 40, True),
    ],
)
def test_depth_is_measured_outside_strings(text: bytes, exceeds: bool) -> None:
    assert json_depth_exceeds(text, 32) is exceeds


# --- Integers in the query: out of range is 2001, never a database error ----------------------


@pytest.mark.parametrize(
    "url",
    [
        "/ocpi/cpo/2.2.1/locations",
        "/ocpi/cpo/2.2.1/tariffs",
        "/ocpi/cpo/2.2.1/sessions",
        "/ocpi/cpo/2.2.1/cdrs",
    ],
)
@pytest.mark.parametrize("name", ["offset", "limit", "after"])
def test_an_integer_past_64_bits_is_2001(emsp_client: APIClient, url: str, name: str) -> None:
    response = emsp_client.get(url, {name: HUGE, "date_from": "2026-01-01T00:00:00Z"})

    assert_error(response, 200, 2001, f"{name} must be an integer from 0 to {LARGEST}")


@pytest.mark.parametrize("name", ["offset", "after"])
def test_the_largest_64_bit_integer_reads_an_empty_page(emsp_client: APIClient, name: str) -> None:
    response = emsp_client.get("/ocpi/cpo/2.2.1/locations", {name: LARGEST})

    assert (response.status_code, response.json()["status_code"]) == (200, 1000)
    assert response.json()["data"] == []


@pytest.mark.parametrize("value", ["٣", "+1", " 1", "1_000", "0x10", "1" * 5000])
def test_only_plain_decimal_digits_are_integers(emsp_client: APIClient, value: str) -> None:
    response = emsp_client.get("/ocpi/cpo/2.2.1/locations", {"offset": value})

    assert_error(response, 200, 2001, f"offset must be an integer from 0 to {LARGEST}")


# --- Bodies larger than OCPI_MAX_BODY_BYTES: HTTP 413 before parsing -------------------------


def test_a_body_over_the_limit_is_413_before_it_is_parsed(
    emsp_client: APIClient, settings: Any
) -> None:
    settings.OCPI_MAX_BODY_BYTES = 1000
    body = b'{"uid": "' + b"x" * 1000 + b'"}'

    response = emsp_client.put(TOKEN_URL, data=body, content_type="application/json")

    assert_error(response, 413, 2000, "Request body is larger than 1000 bytes")


def test_a_body_of_the_limit_is_parsed(emsp_client: APIClient, settings: Any) -> None:
    settings.OCPI_MAX_BODY_BYTES = 1000
    body = b'{"uid": "' + b"x" * (1000 - 11) + b'"}'

    response = emsp_client.put(TOKEN_URL, data=body, content_type="application/json")

    assert (response.status_code, response.json()["status_code"]) == (200, 2001)
