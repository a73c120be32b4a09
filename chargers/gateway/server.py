"""The OCPP-J gateway: an asyncio websocket server holding charge points' connections.

One event loop holds every websocket (a connection costs about 20 KiB, no thread); the work
that touches the database (handlers, the message log, connection state) runs in a pool of
OCPP_GATEWAY_THREADS threads, each keeping its database connection
(chargers.gateway.database); the calls to charge points (chargers.gateway.outgoing) use the same
threads. Admission at the handshake has OCPP_ADMISSION_THREADS of its own: a handshake must
finish within OCPP_OPEN_TIMEOUT_SECONDS, which CALLs queued in a reconnect storm would outlast.
The CALLs of one charge point are answered one after the other in arrival order (a
transaction's messages depend on the ones before); those of different charge points side by
side. Meter messages of many charge points are stored
together and applied together (chargers.gateway.meters); their StatusNotifications are
recorded together (chargers.gateway.statuses).

In a reconnect storm at most OCPP_ARRIVALS_AT_ONCE charge points arrive at once; the others are
refused at the door with HTTP 503 and told when to come back (chargers.gateway.arrivals).

A charge point connecting again replaces its older connection, here or at another gateway
(chargers.connections): the older is closed with CLOSE_REPLACED once the newer is recorded.
"""

import asyncio
import functools
import logging
import math
import ssl
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from ocpp.messages import Call, CallError, CallResult
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from chargers import connection_history, connections, presence
from chargers.gateway import database, dispatch, framing, meters, statuses
from chargers.gateway.arrivals import SWEEP_SECONDS, Arrival, Arrivals
from chargers.gateway.auth import (
    Admission,
    Admitted,
    Refused,
    identity_of,
    offered_subprotocols,
)
from chargers.gateway.link import Link
from chargers.gateway.messagelog import FrameRecorder
from chargers.gateway.outgoing import OutgoingCalls
from chargers.models import ChargePoint

logger = logging.getLogger(__name__)

# How long a thread holds the GIL while another waits for it (Python's default: 5 ms). A
# worker thread applying meter values computes for long stretches; the event loop and the
# threads storing messages wait on I/O and want the GIL back at once: with 5 ms slices each
# of their many short waits for it added up to tens of ms per message.
GIL_SWITCH_SECONDS = 0.0005
# How long stopping waits for the background tasks (outgoing calls, polls) to end.
STOP_BACKGROUND_SECONDS = 5.0

T = TypeVar("T")

# Close codes of the private range (RFC 6455 §7.4.2), with a reason for the charge point's log.
CLOSE_REPLACED = 4000  # a newer connection of the same charge point, here or elsewhere
CLOSE_IDLE = 4001  # no OCPP message for longer than its idle limit
CLOSE_REMOVED = 4002  # its row was deleted while connected
# How often refusals in a reconnect storm are logged (one line, not one per charge point).
STORM_LOG_SECONDS = 10.0
# CALLs of one charge point waiting for their turn before the gateway stops reading its
# frames (the charge point should send the next only once answered: OCPP-J 1.6 §4.1.1).
MAX_WAITING_CALLS = 16


# What a held connection keeps as its handshake's request (see Gateway._hold).
HANDSHAKE_DONE = Request("", Headers())


class OcppConnection(ServerConnection):
    """A websocket connection that carries what its handshake admitted."""

    admitted: Admitted | None = None
    arrival: Arrival | None = None


def tls_context() -> ssl.SSLContext | None:
    """The gateway's own TLS (OCPP_TLS_CERT, OCPP_TLS_KEY), or None. With OCPP_TLS_CLIENT_CA a
    client certificate is asked for and verified, but optional at the TLS level: which charge
    point needs one is its security profile's business (chargers.gateway.auth)."""
    if not settings.OCPP_TLS_CERT:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # OCPP 2.0.1 Part 2 A00: TLS 1.2 or higher
    context.load_cert_chain(settings.OCPP_TLS_CERT, settings.OCPP_TLS_KEY or None)
    if settings.OCPP_TLS_CLIENT_CA:
        context.load_verify_locations(settings.OCPP_TLS_CLIENT_CA)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def _aside(step: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """A step beside a connection's record (its line of history, a presence hook): a failure
    is logged and costs the connection nothing."""
    try:
        step(*args, **kwargs)
    except Exception:
        logger.exception("%s%r failed", step.__qualname__, args)


def _connected(
    charge_point: ChargePoint, *, gateway: str, version: str, remote_address: str
) -> int:
    """Record the connection (chargers.connections.connected: its number, returned), then its
    line of history and presence.on_connected: one task in a worker thread, not three, each
    of which waited its turn in a reconnect storm before the charge point's first CALL was
    read."""
    number = connections.connected(
        charge_point, gateway=gateway, version=version, remote_address=remote_address
    )
    _aside(
        connection_history.connected,
        charge_point.pk,
        connection=number,
        gateway=gateway,
        version=version,
        remote_address=remote_address,
    )
    _aside(presence.on_connected, charge_point)
    return number


async def _in_threads(executor: Executor, function: Callable[..., T], *args: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, database.with_database, function, *args)


def _disconnected(
    charge_point_pk: int, connection: int, *, gateway: str, close_code: int, reason: str
) -> None:
    """Record the end of `connection`: its line of history; then, if it was the charge point's
    current one (not replaced by a newer, its row not gone), the row disconnected and
    presence.on_disconnected. One task in a worker thread, as _connected."""
    _aside(
        connection_history.disconnected,
        charge_point_pk,
        connection=connection,
        gateway=gateway,
        close_code=close_code,
        reason=reason,
    )
    charge_point = ChargePoint.objects.filter(pk=charge_point_pk).first()
    if charge_point is not None and connections.disconnected(charge_point, connection):
        _aside(presence.on_disconnected, charge_point)


class Gateway:
    """One gateway process's server: `run` serves until told to stop. `links` holds the
    connection of each identity held here (the newest, when one replaces another)."""

    def __init__(self, gateway_id: str = "") -> None:
        self.id = gateway_id or settings.OCPP_GATEWAY_ID or connections.default_gateway_id()
        self.workers = database.Workers(settings.OCPP_GATEWAY_THREADS)
        self.pool = self.workers.executor
        self.doormen = database.Workers(settings.OCPP_ADMISSION_THREADS)
        self.admission = Admission()
        self.arrivals = Arrivals(settings.OCPP_ARRIVALS_AT_ONCE)
        self.recorder = FrameRecorder(
            enabled=settings.OCPP_MESSAGE_LOG,
            size=settings.OCPP_MESSAGE_LOG_SIZE,
            in_pool=self.in_pool,
        )
        self.outgoing = OutgoingCalls(self.id, self.pool)
        self.meters = meters.MeterBatch(self.in_pool)
        self.statuses = statuses.StatusBatch(self.in_pool)
        self.links: dict[str, Link] = {}
        self.stopping = False
        self._closing: set[asyncio.Task[None]] = set()

    async def in_pool(self, function: Callable[..., T], *args: Any) -> T:
        return await _in_threads(self.pool, function, *args)

    async def at_the_door(self, function: Callable[..., T], *args: Any) -> T:
        """in_pool, in the admission threads."""
        return await _in_threads(self.doormen.executor, function, *args)

    async def run(
        self,
        host: str,
        port: int,
        stop: asyncio.Event,
        started: Callable[[Server], None] | None = None,
    ) -> None:
        """Serve until `stop` is set; then close every connection (1001, going away) and mark
        this gateway's charge points disconnected."""
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        cleared = await self.in_pool(connections.clear_gateway, self.id)
        if cleared:
            logger.info(
                "Gateway %s: %d charge points of its previous life cleared", self.id, cleared
            )
        ping_interval = settings.OCPP_PING_INTERVAL_SECONDS or None
        server = await serve(
            self._serve_connection,
            host,
            port,
            process_request=self._admit,
            select_subprotocol=self._subprotocol,
            create_connection=OcppConnection,
            compression="deflate" if settings.OCPP_COMPRESSION else None,
            max_size=settings.OCPP_MAX_FRAME_BYTES,
            ping_interval=ping_interval,
            ping_timeout=settings.OCPP_PING_TIMEOUT_SECONDS or None,
            server_header=None,
            ssl=tls_context(),
            backlog=settings.OCPP_LISTEN_BACKLOG,
            open_timeout=settings.OCPP_OPEN_TIMEOUT_SECONDS or None,
        )
        background = [
            asyncio.create_task(self.outgoing.run()),
            asyncio.create_task(self.recorder.run()),
            asyncio.create_task(self._watch()),
            asyncio.create_task(self.meters.run()),
            asyncio.create_task(self.meters.applier.run()),
            asyncio.create_task(self.statuses.run()),
            asyncio.create_task(self._sweep_arrivals()),
        ]
        try:
            if started is not None:
                started(server)
            await stop.wait()
        finally:
            self.stopping = True
            server.close()
            await server.wait_closed()
            for task in background:
                task.cancel()
            # Bounded: a task that swallowed its cancellation (as redis.asyncio's Pub/Sub did:
            # outgoing.OutgoingCalls._listen) must not keep the gateway from closing.
            _, stuck = await asyncio.wait(background, timeout=STOP_BACKGROUND_SECONDS)
            for task in stuck:
                logger.warning(
                    "%s did not stop within %s s: left behind", task, STOP_BACKGROUND_SECONDS
                )
            await self.recorder.flush()
            try:  # what it deferred, now rather than by the catch-up minutes later
                await asyncio.wait_for(self.meters.applier.flush(), STOP_BACKGROUND_SECONDS)
            except TimeoutError:
                logger.warning("Deferred meter values left for the catch-up")
            await self.in_pool(connections.clear_gateway, self.id)
            # closing connections: not in the loop
            await asyncio.to_thread(self.doormen.shutdown)
            await asyncio.to_thread(self.workers.shutdown)

    # --- The handshake ------------------------------------------------------------------

    async def _admit(self, websocket: ServerConnection, request: Request) -> Response | None:
        """process_request: refuse with an HTTP status, or let the handshake go on."""
        assert isinstance(websocket, OcppConnection)
        identity = identity_of(request.path)
        if identity is None:
            return websocket.respond(404, "Not an OCPP path: /ocpp/<identity>\n")
        arrival = self.arrivals.enter(websocket, identity)
        if arrival is None:
            response = websocket.respond(503, "Too many charge points arriving: come back later\n")
            response.headers["Retry-After"] = str(self.arrivals.retry_after(identity))
            return response
        ssl_object = websocket.transport.get_extra_info("ssl_object")
        certificate = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        peer = websocket.remote_address[0] if websocket.remote_address else ""
        transport = self.admission.transport(
            str(peer), request.headers, ssl_object is not None, certificate
        )
        decision = await self.at_the_door(
            self.admission.admit,
            identity,
            offered_subprotocols(request.headers),
            transport,
            request.headers.get("Authorization"),
        )
        if isinstance(decision, Refused):
            self.arrivals.leave(arrival, finished=False)
            response = websocket.respond(decision.status, f"{decision.reason}\n")
            if decision.status == 401:
                response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
            return response
        websocket.admitted, websocket.arrival = decision, arrival
        return None

    def _subprotocol(
        self, websocket: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        """The subprotocol chosen at admission. None completes the handshake without one, and
        the connection is then closed (OCPP-J 1.6 §3.1.2; 2.0.1 Part 4 alike)."""
        admitted = websocket.admitted if isinstance(websocket, OcppConnection) else None
        return None if admitted is None else admitted.subprotocol

    # --- A connection's life ------------------------------------------------------------

    async def _serve_connection(self, websocket: ServerConnection) -> None:
        link = await self._hold(websocket)
        if link is None:
            return
        try:
            await self._read(link)
        finally:
            await self._release(link)

    async def _hold(self, websocket: ServerConnection) -> Link | None:
        """Record the connection, replace an older one of the same charge point. What the
        handshake admitted is let go of: a held connection keeps only its Link. So are the
        handshake's request and response, which websockets keeps for the connection's life
        and never reads again (~4.7 KiB a connection, their headers mostly); the request is
        replaced by one shared empty request, since websockets takes None for "no handshake
        yet"."""
        if not isinstance(websocket, OcppConnection) or websocket.admitted is None:
            return None
        admitted, websocket.admitted = websocket.admitted, None
        arrival, websocket.arrival = websocket.arrival, None
        websocket.request, websocket.response = HANDSHAKE_DONE, None
        charge_point, version = admitted.charge_point, admitted.version
        if version is None:
            reason = "No common subprotocol: ocpp1.6 or ocpp2.0.1"
            await websocket.close(CloseCode.PROTOCOL_ERROR, reason)
            return None
        remote_address = admitted.transport.remote_address
        try:
            number = await self.in_pool(
                functools.partial(
                    _connected,
                    charge_point,
                    gateway=self.id,
                    version=version,
                    remote_address=remote_address,
                )
            )
        except DatabaseError:
            logger.exception("Recording the connection of %s failed", charge_point)
            await websocket.close(CloseCode.INTERNAL_ERROR, "Central system unavailable")
            return None
        link = Link(
            websocket,
            identity=charge_point.identity,
            charge_point_pk=charge_point.pk,
            version=version,
            connection=number,
            remote_address=remote_address,
            recorder=self.recorder,
            idle_limit=self._idle_limit(charge_point),
            boot_status=charge_point.boot_status,
            arrival=arrival,
        )
        self._arriving(link, busy=False)  # until its first CALL
        previous = self.links.get(link.identity)
        self.links[link.identity] = link
        if previous is not None:
            previous.replaced = True
            link.previous = previous.dispatcher
            self._close_soon(previous, CLOSE_REPLACED, "Replaced by a newer connection")
        logger.info("Charge point %s connected (%s, %s)", link, version, remote_address)
        self.outgoing.held(link.identity, link)  # sends what on_connected queued, too
        return link

    async def _release(self, link: Link) -> None:
        if self.links.get(link.identity) is link:
            del self.links[link.identity]
        self.outgoing.released(link.identity, link)
        if link.dispatcher is not None:  # answers what was received before the close
            await asyncio.wait({link.dispatcher})
        logger.info("Charge point %s disconnected", link)
        code, reason = connection_history.close_of(link.websocket)
        record: Callable[..., None]
        if self.stopping:  # its line of history only: all of this gateway's rows are cleared
            record = functools.partial(_aside, connection_history.disconnected)
        else:
            record = _disconnected
        try:
            await self.in_pool(
                functools.partial(
                    record,
                    link.charge_point_pk,
                    connection=link.connection,
                    gateway=self.id,
                    close_code=code,
                    reason=reason,
                )
            )
        except DatabaseError:
            logger.exception("Recording the disconnection of %s failed", link)

    def _idle_limit(self, charge_point: ChargePoint) -> float:
        """OCPP_IDLE_TIMEOUT_SECONDS, or three of its heartbeat intervals if that is longer
        (0: no limit)."""
        if settings.OCPP_IDLE_TIMEOUT_SECONDS <= 0:
            return math.inf
        return max(settings.OCPP_IDLE_TIMEOUT_SECONDS, 3.0 * charge_point.heartbeat_interval)

    def _close_soon(self, link: Link, code: int, reason: str) -> None:
        task = asyncio.create_task(link.websocket.close(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # --- Frames -------------------------------------------------------------------------

    async def _read(self, link: Link) -> None:
        loop = asyncio.get_running_loop()
        try:
            async for message in link.websocket:
                link.last_received = loop.time()
                # OCPP-J frames are text; a binary one is read as UTF-8 rather than dropped.
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                await self._receive(link, text)
        except ConnectionClosed as closed:
            logger.info("Connection of %s closed: %s", link, closed)

    async def _receive(self, link: Link, text: str) -> None:
        received_at = timezone.now()
        try:
            frame = framing.read(text)
        except framing.BadFrame as bad:
            logger.warning("Charge point %s sent a frame %s: %.200r", link, bad.problem.value, text)
            self.recorder.received(link.charge_point_pk, text, 0, bad.unique_id, "")
            if bad.answered:
                reply = bad.call_error(link.version)
                await self._send(link, reply, CallError.message_type_id, bad.unique_id, "")
            return
        action = frame.action if isinstance(frame, Call) else ""
        self.recorder.received(
            link.charge_point_pk, text, frame.message_type_id, frame.unique_id, action
        )
        if isinstance(frame, Call):
            if not link.replaced:  # stragglers of a replaced connection go unanswered
                await self._queue(link, frame, received_at)
        elif isinstance(frame, CallResult):
            if not await self.outgoing.on_result(link.identity, frame.unique_id, frame.payload):
                logger.info("Charge point %s answered an unknown call %s", link, frame.unique_id)
        elif not await self.outgoing.on_error(
            link.identity,
            frame.unique_id,
            frame.error_code,
            frame.error_description,
            frame.error_details,
        ):
            logger.info("Charge point %s refused an unknown call %s", link, frame.unique_id)

    async def _queue(self, link: Link, call: Call, received_at: datetime) -> None:
        link.calls.append((call, received_at))
        self._arriving(link, busy=True)
        if link.dispatcher is None:
            link.dispatcher = asyncio.create_task(self._dispatch(link))
        elif len(link.calls) >= MAX_WAITING_CALLS:  # read no more until these are answered
            await asyncio.wait({link.dispatcher})

    async def _dispatch(self, link: Link) -> None:
        """Answer the link's CALLs one at a time, after those of the link it replaced."""
        try:
            if link.previous is not None:
                await asyncio.wait({link.previous})
                link.previous = None
            while link.calls:
                call, received_at = link.calls.pop(0)
                answer = await self._answer(link, call, received_at)
                await self._send(
                    link, answer.frame, answer.message_type, call.unique_id, call.action
                )
                if answer.gone:
                    link.calls.clear()
                    self._close_soon(link, CLOSE_REMOVED, "Charge point removed")
                elif answer.charge_point is not None:
                    link.idle_limit = self._idle_limit(answer.charge_point)
                    link.boot_status = answer.charge_point.boot_status
        finally:
            link.dispatcher = None
            self._arriving(link, busy=False)

    async def _answer(self, link: Link, call: Call, received_at: datetime) -> dispatch.Answer:
        """Here if it needs no database (a Heartbeat), stored with others' if it is a meter
        message (chargers.gateway.meters), recorded with others' if it is a status
        (chargers.gateway.statuses), else answered in a worker thread."""
        answer = dispatch.at_once(link.version, call, link.boot_status)
        if answer is not None:
            return answer
        if meters.batched(link.version, call):
            return await self.meters.answer(link.charge_point_pk, link.version, call, received_at)
        if statuses.batched(link.version, call):
            return await self.statuses.answer(link.charge_point_pk, link.version, call, received_at)
        return await self.in_pool(
            dispatch.answer, link.charge_point_pk, link.version, call, received_at
        )

    async def _send(
        self, link: Link, text: str, message_type: int, unique_id: str, action: str
    ) -> None:
        try:
            await link.send(text, message_type, unique_id, action)
        except ConnectionClosed:
            logger.info("Charge point %s left before its answer to %s", link, unique_id)

    # --- Housekeeping -------------------------------------------------------------------

    def _arriving(self, link: Link, *, busy: bool) -> None:
        """Tell the link's arrival, while it lasts, whether it has a CALL to answer."""
        arrival = link.arrival
        if arrival is None:
            return
        if arrival not in self.arrivals.present:  # over: the link forgets it
            link.arrival = None
        elif busy:
            arrival.busy()
        else:
            arrival.quiet(self.arrivals.clock())

    async def _sweep_arrivals(self) -> None:
        """End the arrivals that are over; say every STORM_LOG_SECONDS how many were refused."""
        loop = asyncio.get_running_loop()
        logged_at, refused = loop.time(), 0
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            self.arrivals.sweep()
            if self.arrivals.refused == refused:  # none since: the next line counts from now
                logged_at = loop.time()
            elif loop.time() - logged_at >= STORM_LOG_SECONDS:
                logger.warning(
                    "Gateway %s: %d handshakes refused (HTTP 503) in %.0f s, %d charge points "
                    "arriving: a reconnect storm, spread out at %.1f a second",
                    self.id,
                    self.arrivals.refused - refused,
                    loop.time() - logged_at,
                    len(self.arrivals.present),
                    self.arrivals.rate(self.arrivals.clock()),
                )
                logged_at, refused = loop.time(), self.arrivals.refused

    async def _watch(self) -> None:
        """Every OCPP_GATEWAY_POLL_SECONDS: close idle connections, those whose charge point a
        newer connection at another gateway holds now, and those whose row was deleted (a
        Heartbeat, answered without the database, would not find out)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(settings.OCPP_GATEWAY_POLL_SECONDS)
            now = loop.time()
            for link in list(self.links.values()):
                if now - link.last_received > link.idle_limit:
                    self._close_soon(link, CLOSE_IDLE, f"No message for {link.idle_limit:.0f} s")
            held = {link.charge_point_pk: link for link in self.links.values()}
            if not held:
                continue
            numbers = {pk: link.connection for pk, link in held.items()}
            try:
                stale, gone = await self.in_pool(connections.check_held, self.id, numbers)
            except DatabaseError:
                logger.exception("Gateway %s could not check its charge points", self.id)
                continue
            for pk in stale:
                link = held[pk]
                logger.info("Charge point %s connected elsewhere: closing here", link)
                self._close_soon(link, CLOSE_REPLACED, "Replaced by a newer connection")
            for pk in gone:
                link = held[pk]
                logger.info("Charge point %s was removed: closing its connection", link)
                self._close_soon(link, CLOSE_REMOVED, "Charge point removed")
