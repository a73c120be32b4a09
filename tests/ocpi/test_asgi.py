"""The web process's ASGI application (ocpi/asgi.py): each request's synchronous work in one
call to a pool of long-lived threads.

Driven as uvicorn drives it (ASGI messages), on the test URLconf.
"""

import asyncio
import hashlib
import inspect
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import iscoroutinefunction
from asgiref.testing import ApplicationCommunicator
from django.core import signals
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.db import connection

from credentials.models import PartnerPlatform
from ocpi.asgi import PooledThreadASGIHandler
from tests.conftest import authorization
from tests.ocpi.answers import http_scope, read_reply
from tests.ocpi.conftest import REGISTERED_TOKEN

# transaction: the application runs the view in a thread of its own, whose database
# connection sees only what the test committed.
pytestmark = [pytest.mark.urls("tests.ocpi.testapp.urls"), pytest.mark.django_db(transaction=True)]

Reply = tuple[int, dict[str, str], Any]

# The source of what PooledThreadASGIHandler reimplements (handle, read_body) or calls in
# Django's stead (create_request, send_response), as Django 5.2 has it: a digest of each.
# When an upgrade changes one, this fails: read Django's new code, bring ocpi/asgi.py in
# line with it (bench/RESULTS.md, "Overrides kept"), then write the new digests here.
REIMPLEMENTED = {
    "handle": "98faeb5bef800331",
    "read_body": "cf4aa904631d5410",
    "create_request": "5eae59c6696013ff",
    "send_response": "77eda2b08689b44e",
}


async def call(app: PooledThreadASGIHandler, path: str, **headers: str) -> Reply:
    communicator = ApplicationCommunicator(app, http_scope(path, headers))
    await communicator.send_input({"type": "http.request", "body": b""})
    status, received, body = await read_reply(communicator, 10)
    await communicator.wait(10)
    return status, received, json.loads(body)


def get(path: str, **headers: str) -> Reply:
    return asyncio.run(call(PooledThreadASGIHandler(), path, **headers))


@pytest.fixture
def finished() -> Iterator[list[int]]:
    """The thread of each request_finished sent."""
    threads: list[int] = []

    def receiver(**kwargs: Any) -> None:
        threads.append(threading.get_ident())

    signals.request_finished.connect(receiver)
    yield threads
    signals.request_finished.disconnect(receiver)


def test_the_middleware_chain_is_loaded_synchronous() -> None:
    chain = PooledThreadASGIHandler()._middleware_chain  # type: ignore[attr-defined]

    assert not iscoroutinefunction(chain)


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


def test_requests_run_in_a_pooled_thread_that_the_next_request_reuses(
    finished: list[int], settings: Any
) -> None:
    # A pool of one thread: with more, the second request may start before the first's
    # thread counts itself idle (ThreadPoolExecutor marks a worker idle only after the
    # future it completed has woken the event loop) and the pool then starts another one.
    # One thread still tells a long-lived pooled thread from a thread per request.
    settings.WEB_THREADS = 1
    app = PooledThreadASGIHandler()

    async def twice() -> list[Reply]:
        return [await call(app, "/ocpi/test/thread"), await call(app, "/ocpi/test/thread")]

    first, second = asyncio.run(twice())

    assert first[2]["data"]["thread"] == second[2]["data"]["thread"] != threading.get_ident()
    assert finished == [first[2]["data"]["thread"], second[2]["data"]["thread"]]


def test_the_database_connection_is_given_back_when_the_request_ends(
    registered_partner: PartnerPlatform,
) -> None:
    app = PooledThreadASGIHandler()

    async def request_then_look() -> Any:
        await call(app, "/ocpi/versions", Authorization=authorization(REGISTERED_TOKEN))
        # The one idle thread of the pool: the one that ran the request.
        return await asyncio.get_running_loop().run_in_executor(
            app.executor, lambda: (threading.get_ident(), connection.connection)
        )

    _, left_open = asyncio.run(request_then_look())

    assert left_open is None


# Django's own handler warns the same: a file's iterator is synchronous.
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
def test_a_streaming_response_is_sent_whole_then_closed(finished: list[int]) -> None:
    status, headers, body = get("/ocpi/test/stream")

    assert (status, body) == (200, {"streamed": True})
    assert headers["content-type"] == "application/json"
    assert len(finished) == 1


def test_an_unknown_token_is_refused() -> None:
    status, _, body = get("/ocpi/versions", Authorization=authorization("nobody"))

    assert (status, body["status_code"]) == (401, 2000)


def test_a_crash_answers_the_envelope_with_http_500(finished: list[int]) -> None:
    status, headers, body = get("/ocpi/test/crash")

    assert (status, body["status_code"]) == (500, 3000)
    assert "x-request-id" in headers
    assert len(finished) == 1


def test_the_django_code_the_handler_reimplements_is_the_code_it_was_written_from() -> None:
    digests = {
        name: hashlib.sha256(inspect.getsource(getattr(ASGIHandler, name)).encode()).hexdigest()
        for name in REIMPLEMENTED
    }

    assert {name: digest[:16] for name, digest in digests.items()} == REIMPLEMENTED
    assert list(inspect.signature(BaseHandler.load_middleware).parameters) == ["self", "is_async"]
