"""The web process's ASGI application (ocpi/asgi.py): Django's handler, one thread hop.

Driven as uvicorn drives it (ASGI messages), on the test URLconf.
"""

import asyncio
import json
import threading
from typing import Any

import pytest
from asgiref.sync import iscoroutinefunction
from asgiref.testing import ApplicationCommunicator

from credentials.models import PartnerPlatform
from ocpi.asgi import SyncChainASGIHandler
from tests.conftest import authorization
from tests.ocpi.conftest import REGISTERED_TOKEN

# transaction: the application runs the view in a thread of its own, whose database
# connection sees only what the test committed.
pytestmark = [pytest.mark.urls("tests.ocpi.testapp.urls"), pytest.mark.django_db(transaction=True)]

Reply = tuple[int, dict[str, str], Any]


async def _call(app: SyncChainASGIHandler, path: str, headers: dict[str, str]) -> Reply:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(10)
    body = b""
    while True:
        message = await communicator.receive_output(10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(10)
    received = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return start["status"], received, json.loads(body)


def get(path: str, **headers: str) -> Reply:
    return asyncio.run(_call(SyncChainASGIHandler(), path, headers))


def test_the_middleware_chain_is_loaded_synchronous() -> None:
    assert not iscoroutinefunction(SyncChainASGIHandler()._middleware_chain)  # type: ignore[attr-defined]


def test_a_request_is_answered_through_middleware_and_view(
    registered_partner: PartnerPlatform,
) -> None:
    status, headers, body = get(
        "/ocpi/versions",
        Authorization=authorization(REGISTERED_TOKEN),
        **{"X-Request-ID": "req-asgi"},
    )

    assert (status, body["status_code"]) == (200, 1000)
    assert body["data"][0]["version"] == "2.2.1"
    assert headers["x-request-id"] == "req-asgi"
    assert headers["content-type"] == "application/json"


def test_the_view_runs_in_a_worker_thread_not_the_event_loop() -> None:
    status, _, body = get("/ocpi/test/thread")

    assert status == 200
    assert body["data"]["thread"] != threading.get_ident()


def test_an_unknown_token_is_refused() -> None:
    status, _, body = get("/ocpi/versions", Authorization=authorization("nobody"))

    assert (status, body["status_code"]) == (401, 2000)


def test_a_crash_answers_the_envelope_with_http_500() -> None:
    status, headers, body = get("/ocpi/test/crash")

    assert (status, body["status_code"]) == (500, 3000)
    assert "x-request-id" in headers
