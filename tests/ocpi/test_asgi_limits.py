"""Bounded input at the ASGI entry point (ocpi/asgi.py; issue 10, finding 5 and Build 4).

Driven as uvicorn drives it. A refused request is answered while its body is still arriving:
the tests send the first part of a body with more_body=True and never the rest, so an
application that waited to read it all would never answer (the test fails on its timeout).
"""

import asyncio
import json
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator

from credentials.models import Invitation
from ocpi.asgi import PooledThreadASGIHandler
from tests.conftest import authorization
from tests.ocpi.answers import ERROR_KEYS, http_scope, read_reply

# transaction: the application runs the view in a thread of its own, whose database
# connection sees only what the test committed.
pytestmark = [pytest.mark.urls("tests.ocpi.testapp.urls"), pytest.mark.django_db(transaction=True)]

CREDENTIALS = "/ocpi/2.2.1/credentials"
Reply = tuple[int, dict[str, str], Any]


async def exchange(
    path: str, headers: dict[str, str], chunks: list[bytes], *, ends: bool, method: str = "POST"
) -> tuple[int, dict[str, str], bytes]:
    """Send the request head and `chunks` of its body (the last one final if `ends`)."""
    scope = http_scope(path, headers, method=method)
    communicator = ApplicationCommunicator(PooledThreadASGIHandler(), scope)
    for index, chunk in enumerate(chunks):
        final = ends and index == len(chunks) - 1
        await communicator.send_input(
            {"type": "http.request", "body": chunk, "more_body": not final}
        )
    return await read_reply(communicator, 5)


def send(path: str, headers: dict[str, str], chunks: list[bytes], *, ends: bool) -> Reply:
    status, received, body = asyncio.run(exchange(path, headers, chunks, ends=ends))
    return status, received, json.loads(body)


def assert_refused(reply: Reply, http_status: int, message: str) -> None:
    status, headers, body = reply
    assert status == http_status
    assert headers["content-type"] == "application/json"
    assert "x-request-id" in headers
    assert list(body) == ERROR_KEYS
    assert (body["status_code"], body["status_message"]) == (2000, message)


@pytest.fixture
def small_limit(settings: Any) -> int:
    settings.OCPI_MAX_BODY_BYTES = 1000
    return 1000


def test_ten_megabytes_announced_are_413_before_a_byte_is_read(
    invitation: tuple[Invitation, str],
) -> None:
    headers = {"Authorization": authorization(invitation[1]), "Content-Length": str(10 * 2**20)}

    reply = send(CREDENTIALS, headers, [b"[" * 1000], ends=False)

    assert_refused(reply, 413, "Request body is larger than 4194304 bytes")


def test_a_streamed_body_is_413_as_soon_as_it_passes_the_limit(
    invitation: tuple[Invitation, str], small_limit: int
) -> None:
    headers = {"Authorization": authorization(invitation[1])}

    # 1200 bytes arrive, then the client would go on: the application stops reading.
    reply = send(CREDENTIALS, headers, [b"x" * 400] * 3, ends=False)

    assert_refused(reply, 413, "Request body is larger than 1000 bytes")


def test_a_body_of_the_limit_in_parts_is_read_whole(
    invitation: tuple[Invitation, str], small_limit: int
) -> None:
    headers = {"Authorization": authorization(invitation[1]), "Content-Length": "1000"}

    status, _, body = send(CREDENTIALS, headers, [b"{" + b" " * 598, b" " * 400 + b"}"], ends=True)

    # Read and parsed whole: the credentials view says what is missing.
    assert (status, body["status_code"]) == (200, 2001)


def test_a_request_without_a_token_is_401_before_its_body_is_read() -> None:
    headers = {"Content-Length": str(2**20)}

    reply = send(CREDENTIALS, headers, [b"{"], ends=False)

    status, response_headers, _ = reply
    assert_refused(reply, 401, "Authentication credentials were not provided.")
    assert response_headers["www-authenticate"] == "Token"


def test_a_header_of_a_megabyte_is_431() -> None:
    headers = {"X-Padding": "x" * 2**20}

    reply = send("/ocpi/versions", headers, [b""], ends=True)

    assert_refused(reply, 431, "Request headers are larger than 32768 bytes")


def test_headers_outside_ocpi_over_the_limit_are_431_too() -> None:
    status, headers, body = asyncio.run(
        exchange("/healthz", {"Cookie": "x" * 40_000}, [b""], ends=True, method="GET")
    )

    assert (status, headers["content-type"], body) == (
        431,
        "text/plain",
        b"Request headers are larger than 32768 bytes",
    )
