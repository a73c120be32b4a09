"""What every simulated charge point does, whatever its OCPP version (v16.py, v201.py say how).

A station connects, and reconnects with back-off whenever the connection is lost; it boots
(again after every reboot), heartbeats at the interval the central system answered, and
reports each EVSE's status. Transaction messages go through its outbox: sent in order while it
is connected, kept while it is not and replayed on reconnection, never dropped unless the
central system refuses them (a CALLERROR: retrying gets the same answer). That is the queue the
scenarios play with: sent twice, replayed shuffled, timestamped at 1970.

Calls from the central system are answered by the version's link (a `ocpp` library
ChargePoint); what they set off (a charge, a status report, a reboot) starts only after the
answer has been sent (answered()), as OCPP asks of TriggerMessage and the like.
"""

import asyncio
import base64
import logging
import random
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ocpp.exceptions import OCPPError, UnknownCallErrorCodeError, ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from chargers.simulator.clock import StationClock
from chargers.simulator.maintenance import Maintenance
from chargers.simulator.meter import Meter, Reading
from chargers.simulator.reserving import Reservations
from chargers.simulator.scenarios import Behaviour

RESPONSE_TIMEOUT = 15.0  # seconds the central system has to answer a call
RECONNECT_FIRST, RECONNECT_MAX = 1.0, 30.0  # back-off after a lost or refused connection
REFUSED_FOR_GOOD = {401, 403, 404}  # handshake answers a retry would get again
REBOOT_SECONDS = 1.0  # how long a reboot keeps the charge point offline
UNPLUG_SECONDS = 1.0  # the driver unplugs this long after the transaction ends, at most
DEFAULT_HEARTBEAT = 300  # when the central system answers an interval of 0
STOP_TIMEOUT = 5.0  # a clean stop waits this long for transactions to end and be delivered
SETTLE_POLL = 0.05

# Every frame both ways, at INFO (the ocpp library's own logging): `simulate_chargers -v 2`.
WIRE = logging.getLogger("chargers.simulator.wire")

VENDOR = "OCPI-Platform"
MODEL = "Simulator"
FIRMWARE = "sim-1.0"

Report = Callable[[str, str], None]  # (identity, what happened)


def retry_after(value: str | None) -> int | None:
    """An HTTP Retry-After in seconds (RFC 9110 §10.2.3; the date form is not used by
    gateways), or None."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


@dataclass(frozen=True)
class EvseSpec:
    ocpp_id: int  # 1.6 connector id, 2.0.1 EVSE id
    max_power_w: int = 11_040
    phases: int = 3  # 1 to 3: AC; 0: DC


@dataclass(frozen=True)
class StationSpec:
    identity: str
    url: str  # the full websocket URL, …/ocpp/<identity>
    password: str | None  # HTTP Basic auth (security profile 1); None: none sent
    evses: tuple[EvseSpec, ...]


@dataclass(frozen=True)
class Options:
    behaviour: Behaviour = field(default_factory=Behaviour)
    meter_interval: float = 10.0  # seconds between meter values of a transaction
    duration: float = 60.0  # seconds a transaction charges unless stopped earlier


class EvseState(StrEnum):
    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    FINISHING = "Finishing"
    UNAVAILABLE = "Unavailable"
    RESERVED = "Reserved"


class StopCause(StrEnum):
    """Why a transaction ended, by its OCPP 1.6 Reason (v201.py maps them to 2.0.1's)."""

    LOCAL = "Local"
    REMOTE = "Remote"
    HARD_RESET = "HardReset"
    SOFT_RESET = "SoftReset"
    UNLOCK = "UnlockCommand"
    DEAUTHORIZED = "DeAuthorized"


@dataclass(frozen=True)
class Start:
    """What starts a charge: the token (2.0.1: of the type a remote start sent), and the
    remote start that asked for it."""

    id_token: str
    id_token_type: str = ""
    remote_start_id: int | None = None


@dataclass
class Transaction:
    evse_id: int
    id_token: str
    local_id: str  # 2.0.1: its transactionId (the charge point's own)
    meter_start_wh: float
    remote_start_id: int | None = None  # 2.0.1: of the RequestStartTransaction that began it
    id_token_type: str = ""  # 2.0.1: as the RequestStartTransaction sent it ("": ISO14443)
    ocpp_id: int | None = None  # 1.6: what the central system answered StartTransaction with
    reservation_id: int | None = None  # the reservation it used (chargers.simulator.reserving)
    seq_no: int = 0  # 2.0.1: the next TransactionEvent's seqNo
    cause: StopCause | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def next_seq_no(self) -> int:
        self.seq_no += 1
        return self.seq_no - 1

    def request_stop(self, cause: StopCause) -> None:
        if self.cause is None:
            self.cause = cause
        self.stop.set()


@dataclass
class Evse:
    ocpp_id: int
    meter: Meter
    state: EvseState = EvseState.AVAILABLE
    operative: bool = True
    inoperative_when_idle: bool = False  # ChangeAvailability answered Scheduled
    transaction: Transaction | None = None
    task: "asyncio.Task[None] | None" = None  # the charge on it

    @property
    def free(self) -> bool:
        return self.operative and self.state == EvseState.AVAILABLE


@dataclass(eq=False)
class Outgoing:
    """A transaction message in the outbox. Built when sent: 1.6 messages carry the
    transaction id the central system answered the start with, maybe after they were queued."""

    what: str
    build: Callable[[], Any]  # the library's call payload; None: it can no longer be sent
    answered: Callable[[Any], None] | None = None


class Station(ABC):
    subprotocol: str

    def __init__(self, spec: StationSpec, options: Options, report: Report) -> None:
        self.spec = spec
        self.identity = spec.identity
        self.options = options
        self.behaviour = options.behaviour
        # The same identity misbehaves the same way in every run.
        self.rng = random.Random(spec.identity)  # noqa: S311 (a simulation, not secrets)
        self.clock = StationClock(never_set=self.behaviour.clock_never_set)
        self.evses = {
            evse.ocpp_id: Evse(
                evse.ocpp_id, Meter(max_power_w=evse.max_power_w, phases=evse.phases, rng=self.rng)
            )
            for evse in spec.evses
        }
        self.outbox: deque[Outgoing] = deque()
        self.maintenance = Maintenance(connectors=len(spec.evses))
        self.accepted = asyncio.Event()  # connected, and its boot accepted
        self.failed: str | None = None  # why it gave up connecting
        self.heartbeat_interval = DEFAULT_HEARTBEAT
        self.boot_reason = "PowerUp"  # 2.0.1 BootReason of the next BootNotification
        self._report = report
        self._queued = asyncio.Event()
        self._stopped = asyncio.Event()
        self._connection: ClientConnection | None = None
        self._link: Any = None
        self._needs_boot = True
        self._offline_until = 0.0
        self._shuffle_backlog = False
        self._after_answer: list[Callable[[], object]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.reservations = Reservations(self)

    # --- what each OCPP version says how --------------------------------------------------

    @abstractmethod
    def link(self, connection: ClientConnection) -> Any:
        """The library's ChargePoint answering the central system on this connection."""

    @abstractmethod
    def boot_message(self) -> Any: ...

    @abstractmethod
    def heartbeat_message(self) -> Any: ...

    @abstractmethod
    def status_messages(self, evse_ids: Iterable[int] | None) -> list[Any]:
        """StatusNotifications of these EVSEs (None: of all, and 1.6's connector 0)."""

    @abstractmethod
    def authorize_message(self, id_token: str, id_token_type: str = "") -> Any: ...

    @abstractmethod
    def authorization_status(self, result: Any) -> str: ...

    @abstractmethod
    def started(self, evse: Evse, tx: Transaction, reading: Reading) -> Outgoing: ...

    @abstractmethod
    def updated(self, evse: Evse, tx: Transaction, reading: Reading) -> Outgoing: ...

    @abstractmethod
    def ended(self, evse: Evse, tx: Transaction, reading: Reading) -> Outgoing: ...

    def reservation_ended_messages(self, reservation_id: int, *, expired: bool) -> list[Any]:
        """What it sends when it ends a reservation itself (1.6: nothing but the status)."""
        return []

    # --- the connection ---------------------------------------------------------------------

    def report(self, text: str) -> None:
        self._report(self.identity, text)

    @property
    def offline(self) -> bool:
        return not self.accepted.is_set()

    async def run(self) -> None:
        """Stay connected until stop(); give up only when the central system refuses this
        charge point for good (unknown, wrong password, another OCPP version)."""
        delay = RECONNECT_FIRST
        while not self._stopped.is_set() and self.failed is None:
            await self._stay_offline()
            if self._stopped.is_set():
                break
            try:
                async with connect(
                    self.spec.url,
                    subprotocols=[Subprotocol(self.subprotocol)],
                    additional_headers=self._headers(),
                    open_timeout=RESPONSE_TIMEOUT,
                    compression=None,  # charge points rarely offer permessage-deflate
                    proxy=None,  # straight to the central system, whatever the environment
                ) as connection:
                    if await self._serve(connection):
                        delay = RECONNECT_FIRST  # back-off only while it is not accepted
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in REFUSED_FOR_GOOD:
                    self.give_up(f"refused with HTTP {status}")
                    break
                told = retry_after(exc.response.headers.get("Retry-After"))
                if told is not None:  # a gateway spreading a storm (HTTP 503): its moment
                    self.report(f"refused with HTTP {status}: told to retry in {told} s")
                    await self._sleep(told + self.rng.random())
                    continue
                self.report(f"refused with HTTP {status}: retrying in {delay:.0f} s")
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                self.report(
                    f"cannot connect ({exc or type(exc).__name__}): retrying in {delay:.0f} s"
                )
            if self._offline_until > time.monotonic() or self.failed is not None:
                continue  # a planned absence (offline, reboot): no back-off
            await self._sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX)

    async def stop(self) -> None:
        """Stop cleanly: the drivers end their transactions, what is queued is delivered (for
        a few seconds at most), then the connection is closed."""
        if self.accepted.is_set():
            for evse in self.evses.values():
                if evse.transaction is not None:
                    evse.transaction.request_stop(StopCause.LOCAL)
            with suppress(TimeoutError):
                await asyncio.wait_for(self._charges_done(), STOP_TIMEOUT)
            with suppress(TimeoutError):
                await asyncio.wait_for(self.delivered(), STOP_TIMEOUT)
        self._stopped.set()
        if self._connection is not None:
            await self._connection.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def disconnect(self, offline_for: float) -> None:
        """Drop the connection and stay away for `offline_for` seconds."""
        self._offline_until = time.monotonic() + offline_for
        self.accepted.clear()
        if self._connection is not None:
            await self._connection.close()

    def _headers(self) -> dict[str, str]:
        if self.spec.password is None:
            return {}
        pair = f"{self.identity}:{self.spec.password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}

    async def _stay_offline(self) -> None:
        while (wait := self._offline_until - time.monotonic()) > 0 and not self._stopped.is_set():
            await self._sleep(wait)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, or less when stop() is called."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    async def _serve(self, connection: ClientConnection) -> bool:
        """Use the connection until it closes; whether the station was accepted on it."""
        if connection.subprotocol != self.subprotocol:
            self.give_up(f"the central system did not agree to {self.subprotocol}")
            return False
        self._connection = connection
        link = self._link = self.link(connection)
        self.report(f"connected to {self.spec.url} ({self.subprotocol})")
        reader = asyncio.create_task(link.start())
        session = asyncio.create_task(self._session(link))
        try:
            await asyncio.wait({reader, session}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            accepted = self.accepted.is_set() or not self._needs_boot
            self.accepted.clear()
            self._link = self._connection = None
            reader.cancel()
            session.cancel()
            outcomes = await asyncio.gather(reader, session, return_exceptions=True)
            self.answered()  # what it already accepted still happens
        problems = [o for o in outcomes if isinstance(o, Exception)]
        problems = [p for p in problems if not isinstance(p, ConnectionClosed)]
        planned = self._offline_until > time.monotonic() or self._stopped.is_set()
        if problems:
            self.report(f"connection closed after {problems[0]!r}")
        elif not planned:
            self.report("connection lost")
        return accepted

    def give_up(self, why: str) -> None:
        """Stop trying to connect: the central system refuses this charge point for good."""
        self.failed = why
        self.report(f"{why}: not retrying")

    async def _session(self, link: Any) -> None:
        if self._needs_boot:
            await self._boot(link)
        for message in self.status_messages(None):  # before anything else is sent
            await self._call(link, message)
        self.accepted.set()
        if self._shuffle_backlog:
            self._shuffle_backlog = False
            self._shuffle_outbox()
        await asyncio.gather(self._heartbeats(), self._drain(link))

    async def _boot(self, link: Any) -> None:
        while True:
            result = await link.call(self.boot_message(), suppress=False)
            self.heartbeat_interval = result.interval if result.interval > 0 else DEFAULT_HEARTBEAT
            self.report(
                f"BootNotification: {result.status} (heartbeat every {self.heartbeat_interval} s)"
            )
            if result.status == "Accepted":
                self._needs_boot = False
                self.boot_reason = "PowerUp"
                return
            await asyncio.sleep(self.heartbeat_interval)  # Pending, Rejected: ask again then

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            await self.send_now(self.heartbeat_message())

    async def _drain(self, link: Any) -> None:
        """Send the outbox in order; an entry leaves it once answered (or refused)."""
        while True:
            if not self.outbox:
                self._queued.clear()
                await self._queued.wait()
                continue
            entry = self.outbox[0]
            payload = entry.build()
            if payload is None:
                self.outbox.popleft()
                self.report(f"{entry.what}: dropped, its transaction was never started")
                continue
            problem = None
            try:
                result = await link.call(payload, suppress=False)
                if self.behaviour.send_twice:
                    await link.call(payload, suppress=False)
            except ValidationError as exc:  # ours breaks the schema: it never will pass
                problem = f"not sent, invalid: {exc}"
            except (OCPPError, UnknownCallErrorCodeError) as exc:
                problem = f"refused: {exc}"
            self.outbox.popleft()
            if problem is not None:
                self.report(f"{entry.what} {problem}")
            elif entry.answered is not None:
                entry.answered(result)

    def _shuffle_outbox(self) -> None:
        """Replay what was queued offline in another order (the `out-of-order` scenario)."""
        queued = list(self.outbox)
        shuffled = queued[:]
        while len(queued) > 1 and shuffled == queued:
            self.rng.shuffle(shuffled)
        self.outbox = deque(shuffled)
        self.report(f"replaying {len(shuffled)} queued messages out of order")

    def enqueue(self, entry: Outgoing) -> None:
        self.outbox.append(entry)
        self._queued.set()

    async def _flushed(self, entry: Outgoing) -> None:
        """Queue `entry` and wait until it is sent, unless offline (then it waits in the
        outbox): a status change follows the transaction message, as on a real one."""
        self.enqueue(entry)
        while entry in self.outbox and not self.offline:
            await asyncio.sleep(SETTLE_POLL)

    async def delivered(self) -> None:
        """Until the outbox is empty."""
        while self.outbox:
            await asyncio.sleep(SETTLE_POLL)

    async def settled(self) -> None:
        """Until it is connected and accepted, charges nothing and has delivered everything."""
        while self.offline or self.outbox or self._charging():
            await asyncio.sleep(SETTLE_POLL)

    def _charging(self) -> bool:
        return any(e.task is not None and not e.task.done() for e in self.evses.values())

    async def _charges_done(self) -> None:
        while self._charging():
            await asyncio.sleep(SETTLE_POLL)

    # --- messages sent now (not queued) -----------------------------------------------------

    async def send_now(self, message: Any) -> Any:
        """Send while connected; None when offline, the connection drops, or it is refused
        (a status is sent again on reconnection anyway). Connected with its first reports
        still going out (each waiting for its answer), it sends after them, not never: a
        status change, or what a TriggerMessage answered during them asked for."""
        if self._link is not None and not self.accepted.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self.accepted.wait(), RESPONSE_TIMEOUT)
        link = self._link
        if link is None or self.offline:
            return None
        try:
            return await self._call(link, message)
        except (ConnectionClosed, TimeoutError):
            return None

    async def _call(self, link: Any, message: Any) -> Any:
        """The answer, or None when the central system refuses the message (reported)."""
        try:
            return await link.call(message, suppress=False)
        except (OCPPError, UnknownCallErrorCodeError) as exc:
            self.report(f"{type(message).__name__} refused: {exc}")
            return None

    async def notify_status(self, evse_ids: Iterable[int] | None) -> None:
        for message in self.status_messages(evse_ids):
            await self.send_now(message)

    async def set_state(self, evse: Evse, state: EvseState) -> None:
        evse.state = state
        await self.notify_status([evse.ocpp_id])

    # --- what the central system's calls set off, after the answer -----------------------

    def after_answer(self, then: Callable[[], object]) -> None:
        self._after_answer.append(then)

    def later(self, work: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Start `work` once the answer is out."""
        self.after_answer(lambda: self.spawn(work()))

    def answered(self) -> None:
        """The link has answered a call: start what it set off."""
        follow_ups, self._after_answer = self._after_answer, []
        for then in follow_ups:
            then()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> "asyncio.Task[Any]":
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: "asyncio.Task[Any]") -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.report(f"failed: {task.exception()!r}")

    # --- charging -----------------------------------------------------------------------------

    def tap(self, id_token: str) -> Evse | None:
        """A driver taps `id_token` at the EVSE it reserved, else at the first free EVSE: it
        authorizes, then charges."""
        evse = self.reservations.for_token(id_token)
        if evse is None or evse.state != EvseState.RESERVED:
            evse = next((e for e in self.evses.values() if e.free), None)
        if evse is not None:
            self.charge(evse, id_token)
        return evse

    def charge(
        self,
        evse: Evse,
        id_token: str,
        *,
        remote_start_id: int | None = None,
        gate: asyncio.Event | None = None,
        id_token_type: str = "",
        authorize: bool = True,
    ) -> None:
        """Charge on `evse` (once `gate` opens, when given), asking Authorize first unless
        told not to."""
        evse.state = EvseState.PREPARING  # taken at once: a second start finds it busy
        start = Start(id_token, id_token_type, remote_start_id)
        evse.task = self.spawn(self._charge(evse, start, gate, authorize))

    def remote_start(
        self,
        id_token: str,
        evse_id: int | None,
        remote_start_id: int | None,
        id_token_type: str = "",
    ) -> bool:
        """Accept a remote start on a free EVSE (any, without `evse_id`); it charges once the
        answer is sent: authorized first with AuthorizeRemoteTxRequests (the behaviour's
        authorize_remote_start), else at once with the token sent. Refused when the
        behaviour refuses remote calls."""
        if self.behaviour.refuse_remote:
            self.report(f"remote start for {id_token} rejected (scripted)")
            return False
        if evse_id is None:
            evse = next((e for e in self.evses.values() if e.free), None)
        else:
            evse = self.evses.get(evse_id)
        reserved = evse is not None and self.reservations.for_token(id_token) is evse
        if evse is None or not (evse.free or reserved):
            self.report(f"remote start for {id_token} rejected: no free EVSE {evse_id or ''}")
            return False
        self.report(f"remote start for {id_token} on EVSE {evse.ocpp_id}")
        answer_sent = asyncio.Event()
        self.after_answer(answer_sent.set)
        self.charge(
            evse,
            id_token,
            remote_start_id=remote_start_id,
            gate=answer_sent,
            id_token_type=id_token_type,
            authorize=self.behaviour.authorize_remote_start,
        )
        return True

    def remote_stop(self, matches: Callable[[Transaction], bool], cause: StopCause) -> bool:
        if self.behaviour.refuse_remote:
            self.report("remote stop rejected (scripted)")
            return False
        for evse in self.evses.values():
            if evse.transaction is not None and matches(evse.transaction):
                evse.transaction.request_stop(cause)
                self.report(f"EVSE {evse.ocpp_id}: stop requested ({cause})")
                return True
        return False

    async def _charge(
        self, evse: Evse, start: "Start", gate: asyncio.Event | None, authorize: bool
    ) -> None:
        n = evse.ocpp_id
        id_token = start.id_token
        if gate is not None:
            await gate.wait()
        await self.notify_status([n])
        if authorize:
            status = await self._authorize(id_token, start.id_token_type)
            if status != "Accepted":
                self.report(f"EVSE {n}: {id_token} not authorized ({status})")
                await self.set_state(evse, self.idle_state(evse))
                return
        else:
            await self.accepted.wait()
        reading = evse.meter.plug_in()
        tx = Transaction(
            n,
            id_token,
            str(uuid.uuid4()),
            reading.energy_wh,
            start.remote_start_id,
            start.id_token_type,
        )
        tx.reservation_id = self.reservations.use(evse, id_token)
        evse.transaction = tx
        self.report(f"EVSE {n}: transaction started for {id_token} at {reading.energy_wh} Wh")
        await self._flushed(self.started(evse, tx, reading))
        await self.set_state(evse, EvseState.CHARGING)
        last = await self._meter(evse, tx)
        if last is None:
            return  # rebooted: the transaction is forgotten, never stopped
        await self._flushed(self.ended(evse, tx, last))
        evse.transaction = None
        evse.meter.unplug()
        kwh = (last.energy_wh - tx.meter_start_wh) / 1000
        self.report(f"EVSE {n}: transaction stopped ({tx.cause}) after {kwh:.3f} kWh")
        await self.set_state(evse, EvseState.FINISHING)
        await asyncio.sleep(min(UNPLUG_SECONDS, self.options.meter_interval))
        if evse.inoperative_when_idle:
            evse.operative, evse.inoperative_when_idle = False, False
        await self.set_state(evse, self.idle_state(evse))

    def idle_state(self, evse: Evse) -> EvseState:
        """Its state without a charge: reserved, available or unavailable."""
        if not evse.operative:
            return EvseState.UNAVAILABLE
        if any(r.evse_id == evse.ocpp_id for r in self.reservations.held.values()):
            return EvseState.RESERVED
        return EvseState.AVAILABLE

    async def _authorize(self, id_token: str, id_token_type: str = "") -> str:
        await self.accepted.wait()
        result = await self.send_now(self.authorize_message(id_token, id_token_type))
        return "no answer" if result is None else self.authorization_status(result)

    async def _meter(self, evse: Evse, tx: Transaction) -> Reading | None:
        """Meter values every interval until the transaction is to stop (after the duration:
        the driver stops it), then the last reading; None when a reboot forgot it."""
        deadline = time.monotonic() + self.options.duration
        last = time.monotonic()
        samples = 0
        while not tx.stop.is_set():
            wait = min(self.options.meter_interval, deadline - time.monotonic())
            if wait <= 0:
                tx.request_stop(StopCause.LOCAL)
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(tx.stop.wait(), wait)
            if tx.stop.is_set() or time.monotonic() >= deadline:
                continue
            now = time.monotonic()
            reading = evse.meter.advance(now - last)
            last = now
            samples += 1
            self.enqueue(self.updated(evse, tx, reading))
            self.report(
                f"EVSE {evse.ocpp_id}: {reading.energy_wh} Wh, {reading.power_w / 1000:.1f} kW, "
                f"SoC {reading.soc:.0f} %"
            )
            if samples == self.behaviour.offline_after_samples:
                await self.go_offline(
                    self.behaviour.offline_intervals * self.options.meter_interval
                )
            if samples == self.behaviour.reboot_after_samples:
                await self.reboot("mid-transaction")
                return None
        return evse.meter.advance(time.monotonic() - last)

    # --- misbehaving --------------------------------------------------------------------------

    async def go_offline(self, seconds: float) -> None:
        self.report(f"offline for {seconds:.1f} s: transaction messages are queued")
        self._shuffle_backlog = self.behaviour.shuffle_replay
        await self.disconnect(seconds)

    async def reboot(self, why: str, offline_for: float = REBOOT_SECONDS) -> None:
        """Power-cycle: running transactions are forgotten (never stopped), it boots again."""
        self.report(f"rebooting ({why})")
        current = asyncio.current_task()
        for evse in self.evses.values():
            if evse.task is not None and evse.task is not current:
                evse.task.cancel()
            if evse.transaction is not None:
                self.report(f"EVSE {evse.ocpp_id}: transaction forgotten by the reboot")
            evse.transaction, evse.task = None, None
            evse.state = self.idle_state(evse)
            evse.meter.unplug()
        self._needs_boot = True
        self.clock = StationClock(never_set=self.behaviour.clock_never_set)
        await self.disconnect(offline_for)

    async def reset(self, cause: StopCause, *, on_idle: bool) -> None:
        """Reset: stop the transactions (or, on idle, wait for them to end), deliver what is
        queued, reboot."""
        running = [e for e in self.evses.values() if e.transaction is not None]
        if not on_idle:
            for evse in running:
                if evse.transaction is not None:
                    evse.transaction.request_stop(cause)
        await self._charges_done()
        with suppress(TimeoutError):
            await asyncio.wait_for(self.delivered(), RESPONSE_TIMEOUT)
        self.boot_reason = "RemoteReset"
        await self.reboot(f"{cause}")

    def change_availability(self, evse_ids: Iterable[int] | None, operative: bool) -> str | None:
        """'Accepted', 'Scheduled' (an EVSE in use changes when its charge ends) or None when
        an EVSE is unknown; the new statuses are reported after the answer."""
        ids = list(self.evses) if evse_ids is None else list(evse_ids)
        if any(n not in self.evses for n in ids):
            return None
        changed, scheduled = [], False
        for n in ids:
            evse = self.evses[n]
            if not operative and evse.state not in (EvseState.AVAILABLE, EvseState.UNAVAILABLE):
                evse.inoperative_when_idle = scheduled = True
                continue
            evse.inoperative_when_idle = False
            if evse.operative != operative:
                evse.operative = operative
                evse.state = EvseState.AVAILABLE if operative else EvseState.UNAVAILABLE
                changed.append(n)

        if changed:
            self.later(lambda: self.notify_status(changed))
        self.report(
            f"ChangeAvailability {'Operative' if operative else 'Inoperative'} "
            f"{'Scheduled' if scheduled else 'Accepted'} for EVSE {', '.join(map(str, ids))}"
        )
        return "Scheduled" if scheduled else "Accepted"

    def send_after_answer(self, messages: list[Any]) -> None:
        """Send `messages` once the answer is out (TriggerMessage)."""

        async def send() -> None:
            for message in messages:
                await self.send_now(message)

        self.later(send)
