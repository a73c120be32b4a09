"""A tiny central system for the simulator's tests, on the ocpp library's server side.

It runs in a thread of its own (its own event loop, a real websockets server on a free port),
answers what charge points send (after the library validated it against the OCPP schemas:
an invalid message gets a CALLERROR, recorded in `errors`), records every CALL it receives,
and sends calls to charge points for the test. FleetThread runs simulated charge points in
another thread, so that a test can watch and drive both.
"""

import asyncio
import base64
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from ocpp.exceptions import InternalError
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from chargers.simulator.fleet import Fleet
from chargers.simulator.station import EvseSpec, Options, StationSpec

WAIT = 10.0  # seconds a test waits for something to happen


@dataclass(frozen=True)
class Frame:
    identity: str
    connection: int  # which of the charge point's connections carried it (1, 2, …)
    action: str
    payload: dict[str, Any]
    at: float  # time.monotonic() when it arrived


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class CentralSystem:
    def __init__(
        self,
        *,
        heartbeat_interval: int = 300,
        valid_tokens: tuple[str, ...] = ("TOKEN-1",),
        passwords: dict[str, str] | None = None,
        boot_answers: tuple[str, ...] = ("Accepted",),
    ) -> None:
        self.heartbeat_interval = heartbeat_interval
        self.status_delay = 0.0  # seconds each 1.6 StatusNotification waits for its answer
        # Each boot's answer, the last one for every later boot; "CALLERROR": a CALLERROR.
        self.boot_answers = list(boot_answers)
        self.valid_tokens = valid_tokens
        self.passwords = passwords  # identity → password; None: anyone is let in
        self.frames: list[Frame] = []
        self.errors: list[Any] = []  # CALLERRORs we sent
        self.authorizations: list[str | None] = []  # each handshake's Authorization header
        # Handshakes still to refuse with HTTP 503 and this Retry-After (a gateway in a storm).
        self.busy_answers: list[str] = []
        self.charge_points: dict[str, Any] = {}  # identity → its latest connection's ChargePoint
        self.connections: dict[str, int] = {}
        self._transaction_ids = itertools.count(1001)
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    def start(self) -> "CentralSystem":
        self._thread.start()
        self._server = self.run(self._serve())
        return self

    async def _serve(self) -> Server:
        return await serve(
            self._handle,
            "127.0.0.1",
            0,
            subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
            process_request=self._check_password,
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self.run(self._server.wait_closed())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(WAIT)

    def run(self, work: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(_awaited(work), self._loop).result(WAIT)

    def call(self, identity: str, payload: Any) -> Any:
        """Send a call to the charge point and wait for its answer."""
        return self.run(self.charge_points[identity].call(payload, suppress=False))

    # --- what the tests read --------------------------------------------------------------

    def received(self, action: str | None = None, identity: str | None = None) -> list[Frame]:
        return [
            frame
            for frame in list(self.frames)
            if (action is None or frame.action == action)
            and (identity is None or frame.identity == identity)
        ]

    def payloads(self, action: str, identity: str | None = None) -> list[dict[str, Any]]:
        return [frame.payload for frame in self.received(action, identity)]

    def wait_for(self, condition: Callable[[], object], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            assert time.monotonic() < deadline, f"gave up waiting for {what}"
            time.sleep(0.02)

    def boot_answer(self) -> str:
        answer = self.boot_answers.pop(0) if len(self.boot_answers) > 1 else self.boot_answers[0]
        if answer == "CALLERROR":
            raise InternalError(description="the boot failed")
        return answer

    # --- the server -------------------------------------------------------------------------

    def _check_password(self, connection: ServerConnection, request: Request) -> Response | None:
        header = request.headers.get("Authorization")
        self.authorizations.append(header)
        if self.busy_answers:
            response = connection.respond(503, "Busy\n")
            response.headers["Retry-After"] = self.busy_answers.pop(0)
            return response
        if self.passwords is None:
            return None
        identity = unquote(request.path.rsplit("/", 1)[-1])
        expected = f"{identity}:{self.passwords.get(identity)}".encode()
        if header != "Basic " + base64.b64encode(expected).decode():
            return connection.respond(401, "Unauthorized\n")
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        identity = unquote(connection.request.path.rsplit("/", 1)[-1])
        self.connections[identity] = self.connections.get(identity, 0) + 1
        version = Central16 if connection.subprotocol == "ocpp1.6" else Central201
        charge_point = version(identity, connection, self, self.connections[identity])
        self.charge_points[identity] = charge_point
        with suppress(ConnectionClosed):
            await charge_point.start()


async def _awaited(work: Any) -> Any:
    return await work


class _Recording:
    """Records each CALL received (as on the wire) and each CALLERROR sent."""

    central: CentralSystem
    connection_number: int
    id: str

    async def route_message(self, raw_msg: str) -> None:
        message = json.loads(raw_msg)
        if message[0] == 2:
            frame = Frame(self.id, self.connection_number, message[2], message[3], time.monotonic())
            self.central.frames.append(frame)
        await super().route_message(raw_msg)  # type: ignore[misc]

    async def _send(self, message: str) -> None:
        if json.loads(message)[0] == 4:
            self.central.errors.append(json.loads(message))
        await super()._send(message)  # type: ignore[misc]


class Central16(_Recording, ChargePoint16):  # type: ignore[misc]
    def __init__(self, identity: str, connection: Any, central: CentralSystem, n: int) -> None:
        super().__init__(identity, connection)
        self.central, self.connection_number = central, n

    def _tag_info(self, id_tag: str) -> dict[str, str]:
        return {"status": "Accepted" if id_tag in self.central.valid_tokens else "Invalid"}

    @on("BootNotification")
    def on_boot(self, **_: Any) -> Any:
        return result16.BootNotification(
            current_time=now(),
            interval=self.central.heartbeat_interval,
            status=self.central.boot_answer(),
        )

    @on("Heartbeat")
    def on_heartbeat(self, **_: Any) -> Any:
        return result16.Heartbeat(current_time=now())

    @on("StatusNotification")
    async def on_status(self, **_: Any) -> Any:
        if self.central.status_delay:
            await asyncio.sleep(self.central.status_delay)
        return result16.StatusNotification()

    @on("Authorize")
    def on_authorize(self, id_tag: str, **_: Any) -> Any:
        return result16.Authorize(id_tag_info=self._tag_info(id_tag))

    @on("StartTransaction")
    def on_start(self, id_tag: str, **_: Any) -> Any:
        return result16.StartTransaction(
            transaction_id=next(self.central._transaction_ids), id_tag_info=self._tag_info(id_tag)
        )

    @on("MeterValues")
    def on_meter_values(self, **_: Any) -> Any:
        return result16.MeterValues()

    @on("StopTransaction")
    def on_stop(self, **_: Any) -> Any:
        return result16.StopTransaction()


class Central201(_Recording, ChargePoint201):  # type: ignore[misc]
    def __init__(self, identity: str, connection: Any, central: CentralSystem, n: int) -> None:
        super().__init__(identity, connection)
        self.central, self.connection_number = central, n

    def _token_info(self, id_token: dict[str, str]) -> dict[str, str]:
        valid = id_token["id_token"] in self.central.valid_tokens
        return {"status": "Accepted" if valid else "Invalid"}

    @on("BootNotification")
    def on_boot(self, **_: Any) -> Any:
        return result201.BootNotification(
            current_time=now(),
            interval=self.central.heartbeat_interval,
            status=self.central.boot_answer(),
        )

    @on("Heartbeat")
    def on_heartbeat(self, **_: Any) -> Any:
        return result201.Heartbeat(current_time=now())

    @on("StatusNotification")
    def on_status(self, **_: Any) -> Any:
        return result201.StatusNotification()

    @on("Authorize")
    def on_authorize(self, id_token: dict[str, str], **_: Any) -> Any:
        return result201.Authorize(id_token_info=self._token_info(id_token))

    @on("TransactionEvent")
    def on_transaction_event(self, id_token: dict[str, str] | None = None, **_: Any) -> Any:
        if id_token is None:
            return result201.TransactionEvent()
        return result201.TransactionEvent(id_token_info=self._token_info(id_token))

    @on("MeterValues")
    def on_meter_values(self, **_: Any) -> Any:
        return result201.MeterValues()

    @on("ReservationStatusUpdate")
    def on_reservation_status_update(self, **_: Any) -> Any:
        return result201.ReservationStatusUpdate()


def station_spec(
    central: CentralSystem | str,
    identity: str = "SIM-0001",
    evses: int = 1,
    password: str | None = None,
) -> StationSpec:
    """A charge point of `evses` EVSEs connecting to `central` (or to that base URL)."""
    base = central if isinstance(central, str) else central.url
    return StationSpec(
        identity=identity,
        url=f"{base}/ocpp/{identity}",
        password=password,
        evses=tuple(EvseSpec(n) for n in range(1, evses + 1)),
    )


class FleetThread:
    """A Fleet running in a thread of its own until stop(); its lines in `lines`."""

    def __init__(self, specs: list[StationSpec], version: str, options: Options, **kw: Any) -> None:
        self.lines: list[str] = []
        self.fleet = Fleet(
            specs, version=version, options=options, print_line=self.lines.append, **kw
        )
        self.failures: list[str] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.failures = self._loop.run_until_complete(self.fleet.run())

    def start(self) -> "FleetThread":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self.fleet.request_stop)
        self._thread.join(WAIT)
        assert not self._thread.is_alive(), "the fleet did not stop"
        self._loop.close()

    def run(self, work: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(_awaited(work), self._loop).result(WAIT)

    def call(self, act: Callable[[], Any]) -> Any:
        """Call `act` in the fleet's loop (stations are not thread-safe) and return its result."""

        async def acting() -> Any:
            return act()

        return self.run(acting())


@contextmanager
def running(
    specs: list[StationSpec], version: str, options: Options, **kw: Any
) -> Iterator[FleetThread]:
    fleet = FleetThread(specs, version, options, **kw).start()
    try:
        yield fleet
    finally:
        fleet.stop()


def run_once(
    specs: list[StationSpec], version: str, options: Options, token: str | None = None, **kw: Any
) -> tuple[list[str], list[str]]:
    """A finite run in this thread: (its lines, the charge points that gave up)."""
    lines: list[str] = []
    fleet = Fleet(specs, version=version, options=options, print_line=lines.append, **kw)
    failures = asyncio.run(asyncio.wait_for(fleet.run(token=token, once=True), 4 * WAIT))
    return lines, failures
