"""Real OCPP gateways for tests, and charge points to connect to them.

`RunningGateway` serves chargers.gateway.server.Gateway on a free loopback port from a thread
with its own event loop: its worker threads use the test database, so tests use
`django_db(transaction=True)` (rows committed, seen by every thread; SQLite's test database is
a file). `GatewayProcess` runs `manage.py ocpp_gateway` as a process of its own on the same
database. Charge points are `websockets` clients (the sync client, from the test's thread).
"""

import asyncio
import base64
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import pytest
from django.utils import timezone
from websockets.asyncio.server import Server
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from chargers import handlers
from chargers.connections import set_password
from chargers.gateway.auth import Admission
from chargers.gateway.server import Gateway
from chargers.models import ChargePoint
from tests.live import LiveProcess
from tests.push.worker import worker_environment

T = TypeVar("T")
TIMEOUT = 10.0
PASSWORD = "secret-password-0123"
LISTENING = re.compile(r"listening on wss?://[^:]+:(\d+)/ocpp/")


class RunningGateway:
    def __init__(self, gateway_id: str = "test-gateway") -> None:
        self.gateway_id = gateway_id
        self.loop = asyncio.new_event_loop()
        self.stop_event = asyncio.Event()
        self.started = threading.Event()
        self.failure: BaseException | None = None
        self.port = 0
        self.gateway: Gateway | None = None
        self._thread = threading.Thread(target=self._run, name=f"gateway-{gateway_id}")

    def __enter__(self) -> Self:
        self._thread.start()
        if not self.started.wait(TIMEOUT) or self.failure is not None:
            raise RuntimeError(f"Gateway {self.gateway_id} did not start") from self.failure
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
            self._thread.join(TIMEOUT)
        assert not self._thread.is_alive(), "the gateway did not stop"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.gateway = Gateway(self.gateway_id)
            self.loop.run_until_complete(
                self.gateway.run("127.0.0.1", 0, self.stop_event, self._listening)
            )
        except BaseException as error:
            self.failure = error
            self.started.set()
            raise
        finally:
            self.loop.close()

    def _listening(self, server: Server) -> None:
        self.port = server.sockets[0].getsockname()[1]
        self.started.set()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the gateway's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(TIMEOUT)

    def url(self, identity: str, scheme: str = "ws") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/ocpp/{identity}"


class GatewayProcess:
    """`manage.py ocpp_gateway --port 0 --id ID` on the test database."""

    def __init__(self, gateway_id: str, log_dir: Path, env: Mapping[str, str] | None = None):
        self.gateway_id = gateway_id
        self.process = LiveProcess(
            f"gateway-{gateway_id}",
            [sys.executable, "manage.py", "ocpp_gateway", "--port", "0", "--id", gateway_id],
            worker_environment(env),
            log_dir / f"gateway-{gateway_id}.log",
        )
        self.port = self._wait_listening()

    def _wait_listening(self) -> int:
        deadline = time.monotonic() + 30
        while not (found := LISTENING.search(self.process.log_path.read_text(errors="replace"))):
            if not self.process.running() or time.monotonic() > deadline:
                raise self.process.fail("did not start listening")
            time.sleep(0.05)
        return int(found.group(1))

    def url(self, identity: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/{identity}"


def use_handlers(monkeypatch: pytest.MonkeyPatch, registry: Mapping[tuple[str, str], Any]) -> None:
    """Make `registry` ({(version, action): handler}) the only handlers for this test: the real
    handler modules are neither loaded nor disturbed, and nothing stays registered after it."""
    monkeypatch.setattr(handlers, "_HANDLERS", {})
    monkeypatch.setattr(handlers, "_loaded", True)
    for (version, action), handler in registry.items():
        handlers.handles(version, action)(handler)


def slow_admission(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Every handshake's admission takes `seconds` longer (its row read and password check)."""
    admit = Admission.admit

    def slow(self: Admission, *args: Any) -> Any:
        time.sleep(seconds)
        return admit(self, *args)

    monkeypatch.setattr(Admission, "admit", slow)


def heartbeat(context: handlers.Context, payload: handlers.Payload) -> handlers.Payload:
    return {"currentTime": timezone.now().isoformat().replace("+00:00", "Z")}


HEARTBEATS = {("1.6", "Heartbeat"): heartbeat, ("2.0.1", "Heartbeat"): heartbeat}


def charge_point(
    identity: str,
    *,
    version: str = "1.6",
    password: str | None = PASSWORD,
    **fields: Any,
) -> ChargePoint:
    made = ChargePoint.objects.create(identity=identity, ocpp_version=version, **fields)
    if password is not None:
        set_password(made, password)
    return made


def connect_as(
    url: str,
    version: str = "1.6",
    *,
    user: str | None = None,
    password: str | None = PASSWORD,
    **options: Any,
) -> ClientConnection:
    """A charge point's websocket to `url`, offering `version`'s subprotocol, with Basic auth
    (user: the identity in the URL) unless `password` is None."""
    if password is not None:
        identity = user if user is not None else url.rsplit("/", 1)[-1]
        options.setdefault("additional_headers", {})
        options["additional_headers"]["Authorization"] = basic(identity, password)
    options.setdefault("subprotocols", [Subprotocol(f"ocpp{version}")])
    options.setdefault("open_timeout", TIMEOUT)
    return connect(url, **options)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def call(websocket: ClientConnection, unique_id: str, action: str, payload: Any) -> list[Any]:
    """Send a CALL, return the frame that answers it."""
    websocket.send(json.dumps([2, unique_id, action, payload]))
    return receive(websocket)


def receive(websocket: ClientConnection) -> list[Any]:
    frame: list[Any] = json.loads(websocket.recv(timeout=TIMEOUT))
    return frame


def eventually(check: Callable[[], T | None], timeout: float = TIMEOUT) -> T:
    """`check()` once it is truthy (polled), or AssertionError."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{check} still false after {timeout} s")
        time.sleep(0.02)
    return result


def row(identity: str) -> ChargePoint:
    return ChargePoint.objects.get(identity=identity)
