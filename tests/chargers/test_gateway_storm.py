"""A reconnect storm at the gateway's door: connections the kernel queues while the gateway is
busy, handshakes while every handler thread is, and what a new connection costs the handler
threads before its first CALL is read."""

import selectors
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidMessage
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from chargers.gateway.server import Gateway
from chargers.models_maintenance import ConnectionEvent
from tests.chargers.gatewayrunner import (
    HEARTBEATS,
    PASSWORD,
    RunningGateway,
    basic,
    call,
    charge_point,
    connect_as,
    slow_admission,
    use_handlers,
)

pytestmark = pytest.mark.django_db(transaction=True)

# More connections at once than asyncio's default backlog (100) lets the kernel queue.
STORM = 300


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningGateway]:
    use_handlers(monkeypatch, HEARTBEATS)
    with RunningGateway("gw-storm") as running:
        yield running


def established_within(port: int, count: int, seconds: float) -> int:
    """How many of `count` TCP connections to `port` the kernel completes within `seconds`
    (a SYN it drops for a full accept queue is retried only after 1 s)."""
    selector = selectors.DefaultSelector()
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            selector.register(sock, selectors.EVENT_WRITE)
            sockets.append(sock)
        done = 0
        deadline = time.monotonic() + seconds
        while done < count and (left := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(left):
                selector.unregister(key.fileobj)
                if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:  # type: ignore[union-attr]
                    done += 1
        return done
    finally:
        selector.close()
        for sock in sockets:
            sock.close()


def test_the_kernel_queues_a_storm_of_connections_while_the_gateway_is_busy(
    gateway: RunningGateway,
) -> None:
    # The event loop busy (as with a storm's frames): nobody accepts for a moment.
    gateway.loop.call_soon_threadsafe(time.sleep, 1.5)
    time.sleep(0.1)

    assert established_within(gateway.port, STORM, 1.0) == STORM


def test_a_handshake_does_not_wait_for_the_handler_threads(
    gateway: RunningGateway, settings: Any
) -> None:
    charge_point("EARLY")
    assert gateway.gateway is not None
    release = threading.Event()
    for _ in range(settings.OCPP_GATEWAY_THREADS):  # every handler thread busy for now
        gateway.gateway.pool.submit(release.wait, 30)
    try:
        with connect(
            gateway.url("EARLY"),
            open_timeout=3,
            subprotocols=[Subprotocol("ocpp1.6")],
            additional_headers={"Authorization": basic("EARLY", PASSWORD)},
        ) as websocket:
            assert websocket.subprotocol == "ocpp1.6"
            release.set()
            assert call(websocket, "1", "Heartbeat", {})[0] == 3
    finally:
        release.set()


def test_a_connection_is_recorded_in_one_task_of_the_handler_threads(
    gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each task waits its turn behind a storm's CALLs before the charge point's first is read.
    tasks: list[str] = []
    in_pool = Gateway.in_pool

    async def counted(self: Gateway, function: Any, *args: Any) -> Any:
        tasks.append(getattr(function, "func", function).__name__)
        return await in_pool(self, function, *args)

    monkeypatch.setattr(Gateway, "in_pool", counted)
    cp = charge_point("COUNTED")

    with connect_as(gateway.url("COUNTED")) as websocket:
        assert call(websocket, "1", "Heartbeat", {})[0] == 3
        before_its_first_call = tasks[: tasks.index("answer")]

    assert before_its_first_call == ["_connected"]
    assert ConnectionEvent.objects.filter(charge_point=cp, kind="CONNECTED").count() == 1


def test_a_handshake_may_wait_for_its_admission_as_long_as_the_setting_says(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    # websockets' own 10 s cut off a reconnect storm's handshakes queued for admission.
    settings.OCPP_OPEN_TIMEOUT_SECONDS = 0.5
    use_handlers(monkeypatch, HEARTBEATS)
    slow_admission(monkeypatch, 1.0)
    charge_point("PATIENT")

    with RunningGateway("gw-open-timeout") as gateway:
        with pytest.raises((ConnectionClosed, InvalidMessage)):
            connect_as(gateway.url("PATIENT"))
        settings.OCPP_OPEN_TIMEOUT_SECONDS = 5.0
    with RunningGateway("gw-open-timeout") as gateway, connect_as(gateway.url("PATIENT")) as ws:
        assert call(ws, "1", "Heartbeat", {})[0] == 3
