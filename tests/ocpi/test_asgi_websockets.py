"""Websocket connections at the ASGI entry point (ocpi/asgi.py): routed per path prefix to the
application mounted there, refused at the handshake everywhere else, HTTP unaffected.

Served by a real uvicorn server on 127.0.0.1 and reached with the `websockets` client, as a
charge point would reach the OCPP gateway.
"""

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from asgiref.testing import ApplicationCommunicator
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from ocpi.asgi import NOT_ROUTED, PooledThreadASGIHandler, Receive, Scope, Send

# transaction: the HTTP request runs in a thread of the application's pool, whose database
# connection sees only what the test committed.
pytestmark = [pytest.mark.urls("tests.ocpi.testapp.urls"), pytest.mark.django_db(transaction=True)]


OCPP16 = [Subprotocol("ocpp1.6")]


def echo(name: str) -> Any:
    """A websocket application that accepts, then answers each text with its name, the
    connection's path and the text."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept", "subprotocol": "ocpp1.6"})
        while (message := await receive())["type"] == "websocket.receive":
            await send(
                {"type": "websocket.send", "text": f"{name} {scope['path']} {message['text']}"}
            )

    return app


@pytest.fixture
def server() -> Iterator[str]:
    """The application under uvicorn on a free port, with two websocket mounts: its ws:// base."""
    app = PooledThreadASGIHandler(
        websockets={"/ocpp/": echo("ocpp"), "/ocpp/2.0.1/": echo("ocpp201")}
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run)
    thread.start()
    while not running.started:
        thread.join(0.01)
    (port,) = {s.getsockname()[1] for server in running.servers for s in server.sockets}
    yield f"127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)


def test_a_websocket_under_a_mounted_prefix_reaches_its_application(server: str) -> None:
    with connect(f"ws://{server}/ocpp/CP-1", subprotocols=OCPP16) as websocket:
        websocket.send("hello")
        answer = websocket.recv(5)

    assert (websocket.subprotocol, answer) == ("ocpp1.6", "ocpp /ocpp/CP-1 hello")


def test_the_longest_mounted_prefix_wins(server: str) -> None:
    with connect(f"ws://{server}/ocpp/2.0.1/CP-2", subprotocols=OCPP16) as websocket:
        websocket.send("hello")
        answer = websocket.recv(5)

    assert answer == "ocpp201 /ocpp/2.0.1/CP-2 hello"


def test_a_websocket_under_no_prefix_is_refused_with_404(server: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://{server}/ocpi/versions")

    response = refused.value.response
    assert (response.status_code, response.body) == (404, NOT_ROUTED)


def test_a_prefix_matches_whole_leading_text_only(server: str) -> None:
    # "/ocpp" without its slash is not under "/ocpp/".
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://{server}/ocpp")

    assert refused.value.response.status_code == 404


def test_http_is_served_beside_the_websockets(server: str) -> None:
    with urllib.request.urlopen(f"http://{server}/ocpi/test/thread", timeout=5) as response:  # noqa: S310 (loopback)
        body = json.load(response)

    assert (response.status, body["status_code"]) == (200, 1000)


def refusal_without_denial_response(first: dict[str, Any]) -> list[dict[str, Any]]:
    """What the application sends for a websocket under no prefix, on a server without the
    websocket denial response extension, after the client's first message `first`."""

    async def exchange() -> list[dict[str, Any]]:
        scope = {"type": "websocket", "path": "/nowhere", "headers": [], "extensions": {}}
        communicator = ApplicationCommunicator(PooledThreadASGIHandler(), scope)
        await communicator.send_input(first)
        await communicator.wait(5)  # the application has returned
        sent = []
        while not await communicator.receive_nothing():
            sent.append(await communicator.receive_output())
        return sent

    return asyncio.run(exchange())


def test_without_the_denial_extension_the_handshake_is_closed_unaccepted() -> None:
    sent = refusal_without_denial_response({"type": "websocket.connect"})

    # Closed before websocket.accept: the server answers the handshake with HTTP 403.
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": NOT_ROUTED.decode()}]


def test_a_client_gone_before_its_handshake_is_answered_gets_nothing() -> None:
    sent = refusal_without_denial_response({"type": "websocket.disconnect", "code": 1006})

    assert sent == []
