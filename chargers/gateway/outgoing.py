"""The gateway's side of calls to charge points (chargers.calls): each PENDING call goes to the
charge point over the websocket this process holds, one outstanding per charge point, in the
order the calls were made, and its answer is recorded.

The gateway server keeps one OutgoingCalls per process, named as it writes ChargePoint.gateway
for the charge points it holds, and
    - runs `run()` as a background task (wake-ups from Redis, and a database poll regardless);
    - calls `held(identity, link)` once ChargePoint.gateway names this process for a new
      connection, and `released(identity, link)` once that connection closed;
    - passes each CALLRESULT / CALLERROR the charge point sends to `on_result()` / `on_error()`
      (False: it answers no call of ours). The frames themselves are the server's to log.

Rules that hold with several gateways, and with stale ones:
    - A call is claimed PENDING → SENT by one conditional UPDATE that also requires
      ChargePoint.gateway to name this process and no other call of the charge point to be
      SENT: it is sent once, by the process holding the charge point.
    - An answer belongs to the connection its CALL went over (OCPP-J: a CALLRESULT answers a
      CALL of the same websocket). So a SENT call whose connection closes ends TIMED_OUT at
      once (nothing can answer it any more, and the next call need not wait for its deadline);
      an answer arriving on another connection, or after the call ended, is logged and ignored.
      PENDING calls wait for the charge point's next connection, on any gateway, until their
      deadline.
    - Each poll ends every overdue call, whoever holds its charge point, so calls of charge
      points nobody holds any more end too (no Celery schedule needed).
"""

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, ParamSpec, Protocol, TypeVar

import redis
from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.db.models import Exists, OuterRef
from django.utils import timezone
from ocpp.messages import Call, MessageType

from chargers import follow_ups
from chargers.calls import (
    Payload,
    ended,
    expire_overdue,
    publish,
    wake_ups,
)
from chargers.gateway import validation
from chargers.models import CallState, ChargePoint, ChargePointCall

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# After Redis failed, listen again this much later (the database poll goes on meanwhile).
RESUBSCRIBE_SECONDS = 5.0
CONNECTION_CLOSED = "The connection closed before an answer (answers come on the same connection)"
NOT_SENT = "The connection closed before it was sent"


class Link(Protocol):
    """One websocket connection of a charge point, as the gateway server offers it."""

    @property
    def identity(self) -> str: ...

    @property
    def version(self) -> str: ...  # the OCPP version of the connection: "1.6" or "2.0.1"

    @property
    def charge_point_pk(self) -> int: ...

    async def send_frame(self, text: str) -> None: ...


@dataclass(frozen=True)
class Sent:
    """The call a connection awaits the answer to."""

    call_id: str
    action: str
    deadline: datetime


@dataclass(slots=True)  # one per connection: no __dict__ each
class _Holding:
    """What this process knows of one charge point it holds."""

    link: Link
    sent: Sent | None = None
    dispatching: "asyncio.Task[None] | None" = None
    again: bool = False  # woken while dispatching: look once more
    closed: bool = False


class OutgoingCalls:
    def __init__(self, gateway_id: str, executor: Executor | None = None) -> None:
        """`executor`: the threads that touch the database (None: the event loop's default)."""
        self.gateway_id = gateway_id
        self._executor = executor
        self._holdings: dict[str, _Holding] = {}
        self._background: set[asyncio.Task[Any]] = set()
        # Set while Redis wake-ups are heard (until then, calls wait for the database poll).
        self.listening = threading.Event()

    async def run(self) -> None:
        """Poll the database every OCPP_CALL_POLL_SECONDS and, with Redis, act on wake-ups at
        once. Runs until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._poll())
            if settings.REDIS_URL:
                group.create_task(self._listen())

    def held(self, identity: str, link: Link) -> None:
        """`link` is now the charge point's connection (replacing any earlier one here)."""
        previous = self._holdings.get(identity)
        if previous is not None and previous.link is not link:
            self.released(identity, previous.link)
        self._holdings.setdefault(identity, _Holding(link))
        self._kick(identity)

    def released(self, identity: str, link: Link) -> None:
        """`link` closed: the call it awaits ends TIMED_OUT (its answer cannot come any more)."""
        holding = self._holdings.get(identity)
        if holding is None or holding.link is not link:
            return
        del self._holdings[identity]
        holding.closed = True
        if holding.sent is not None:
            self._spawn(self._end(identity, holding.sent.call_id, CONNECTION_CLOSED))

    async def on_result(self, identity: str, unique_id: str, payload: Payload) -> bool:
        """A CALLRESULT: True when it answers a call of ours (recorded if still awaited)."""
        holding = self._holdings.get(identity)
        sent = holding.sent if holding is not None else None
        if holding is None or sent is None or sent.call_id != unique_id:
            return await self._in_thread(_known_call, identity, unique_id)
        link = holding.link
        recorded = await self._in_thread(
            _record_result, sent, link.charge_point_pk, link.version, payload
        )
        self._answered(identity, holding, sent, recorded)
        return True

    async def on_error(
        self, identity: str, unique_id: str, code: str, description: str, details: Payload
    ) -> bool:
        """A CALLERROR: True when it answers a call of ours (recorded FAILED if still awaited)."""
        holding = self._holdings.get(identity)
        sent = holding.sent if holding is not None else None
        if holding is None or sent is None or sent.call_id != unique_id:
            return await self._in_thread(_known_call, identity, unique_id)
        recorded = await self._in_thread(_record_error, sent.call_id, code, description, details)
        self._answered(identity, holding, sent, recorded)
        return True

    # --- sending ------------------------------------------------------------------------------

    def _answered(self, identity: str, holding: _Holding, sent: Sent, recorded: bool) -> None:
        if not recorded:
            logger.info("Charge point %s answered call %s after it ended", identity, sent.call_id)
        if holding.sent is sent:
            holding.sent = None
        self._kick(identity)

    def _kick(self, identity: str) -> None:
        """Send the charge point's next call if it is free (or look again once it is)."""
        holding = self._holdings.get(identity)
        if holding is None:
            return
        if holding.dispatching is not None and not holding.dispatching.done():
            holding.again = True
            return
        holding.dispatching = self._spawn(self._dispatch(holding))

    async def _dispatch(self, holding: _Holding) -> None:
        link = holding.link
        while not holding.closed and holding.sent is None:
            holding.again = False
            claimed = await self._in_thread(
                _claim_next, link.charge_point_pk, self.gateway_id, link.version
            )
            if claimed is None:
                if holding.again:
                    continue
                return
            sent, frame = claimed
            if holding.closed:
                await self._end(link.identity, sent.call_id, NOT_SENT)
                return
            holding.sent = sent
            try:
                await link.send_frame(frame)
            except Exception:  # the server's link: whatever it raises, the call cannot go
                logger.exception("Could not send call %s to %s", sent.call_id, link.identity)
                # Broken: nothing more goes over it (the server releases it when it notices);
                # the calls queued behind wait for the charge point's next connection.
                holding.closed = True
                holding.sent = None
                await self._end(link.identity, sent.call_id, NOT_SENT)
                return

    async def _end(self, identity: str, call_id: str, why: str) -> None:
        """End a SENT call that its connection can no longer answer, then let the charge
        point's current connection (if it reconnected already) send the next one."""
        await self._in_thread(_end_unanswered, call_id, why)
        self._kick(identity)

    # --- wake-ups -----------------------------------------------------------------------------

    async def _poll(self) -> None:
        while True:
            try:
                await self._tick()
            except DatabaseError:
                logger.exception("Reading calls to charge points failed; trying again")
            await asyncio.sleep(settings.OCPP_CALL_POLL_SECONDS)

    async def _tick(self) -> None:
        now = timezone.now()
        await self._in_thread(expire_overdue, now)
        for holding in self._holdings.values():
            if holding.sent is not None and holding.sent.deadline <= now:
                holding.sent = None  # just marked TIMED_OUT, if nothing ended it before
        for identity in await self._in_thread(_identities_with_pending, self.gateway_id):
            self._kick(identity)

    async def _listen(self) -> None:
        """Wake-ups from Redis, read by a thread of its own. Not redis.asyncio: its Pub/Sub can
        swallow a cancellation that lands while it connects or subscribes (redis 8.2: about a
        third of the stops made 2–20 ms after a start hung for good), so a gateway's stop
        waited STOP_BACKGROUND_SECONDS and left a pending task behind. A thread told to stop
        ends within REDIS_TIMEOUT_SECONDS by itself."""
        stop = threading.Event()
        loop = asyncio.get_running_loop()
        threading.Thread(
            target=self._listen_in_thread,
            args=(loop, stop),
            name=f"ocpp-wake-ups-{self.gateway_id}",
            daemon=True,
        ).start()
        try:
            await loop.create_future()  # until cancelled
        finally:
            stop.set()

    def _listen_in_thread(self, loop: asyncio.AbstractEventLoop, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                for identity in wake_ups(stop, self.listening):
                    loop.call_soon_threadsafe(self._kick, identity)
            except (redis.RedisError, OSError):
                logger.warning(
                    "No wake-ups from Redis: calls are found by the database poll until it is back"
                )
                stop.wait(RESUBSCRIBE_SECONDS)
            except RuntimeError:  # the event loop closed before `stop` was set
                return

    async def _in_thread(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ORM work in a worker thread, so the event loop never waits for the database."""
        loop = asyncio.get_running_loop()
        work = partial(_as_a_request, function, *args, **kwargs)
        return await loop.run_in_executor(self._executor, work)

    def _spawn(self, work: Coroutine[Any, Any, T]) -> "asyncio.Task[T]":
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: "asyncio.Task[Any]") -> None:
        self._background.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("Calls to charge points: %s", error, exc_info=error)


# --- the database side (in worker threads) -----------------------------------------------------


def _as_a_request(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """With a request's connection handling: a broken or expired connection is replaced first,
    and the connection goes back after: to the pool, closed (DATABASE_CONN_MAX_AGE), or kept by
    a thread of the gateway's own (chargers.gateway.database)."""
    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


def _claim_next(charge_point_pk: int, gateway_id: str, version: str) -> tuple[Sent, str] | None:
    """Claim the charge point's oldest unfinished call if it is PENDING: (it, its CALL frame).
    None when a call is SENT, none waits, or this process does not hold the charge point."""
    unfinished = ChargePointCall.objects.filter(
        charge_point_id=charge_point_pk, state__in=(CallState.PENDING, CallState.SENT)
    ).order_by("created_at", "pk")
    while (head := unfinished.first()) is not None and head.state == CallState.PENDING:
        now = timezone.now()
        if head.deadline <= now:
            expire_overdue(now, call_id=str(head.pk))
            continue
        problems = validation.problems(MessageType.Call, head.action, version, head.payload)
        if problems:
            _finish(
                str(head.pk),
                CallState.PENDING,
                state=CallState.FAILED,
                error_description=f"Not sent: it is connected with OCPP {version} now, where "
                + "; ".join(problems),
            )
            continue
        claimed = (
            ChargePointCall.objects.filter(pk=head.pk, state=CallState.PENDING)
            .filter(
                Exists(ChargePoint.objects.filter(pk=OuterRef("charge_point"), gateway=gateway_id))
            )
            .exclude(
                Exists(
                    ChargePointCall.objects.filter(
                        charge_point=OuterRef("charge_point"), state=CallState.SENT
                    )
                )
            )
            .update(state=CallState.SENT, sent_at=now)
        )
        if not claimed:
            return None
        frame = Call(str(head.pk), head.action, head.payload).to_json()
        return Sent(str(head.pk), head.action, head.deadline), frame
    return None


def _record_result(sent: Sent, charge_point_pk: int, version: str, payload: Payload) -> bool:
    """ANSWERED, or FAILED when the answer breaks the response schema (kept as it came)."""
    relaxed = (
        ChargePoint.objects.filter(pk=charge_point_pk)
        .values_list("relaxed_validation", flat=True)
        .first()
    )
    problems = validation.problems(
        MessageType.CallResult, sent.action, version, payload, relaxed or []
    )
    if problems:
        return _finish(
            sent.call_id,
            CallState.SENT,
            state=CallState.FAILED,
            response=payload,
            error_description=f"The answer does not match OCPP {version} {sent.action}Response: "
            + "; ".join(problems),
        )
    return _finish(sent.call_id, CallState.SENT, state=CallState.ANSWERED, response=payload)


def _record_error(call_id: str, code: str, description: str, details: Payload) -> bool:
    """FAILED with the charge point's CALLERROR (its errorDetails as the response)."""
    return _finish(
        call_id,
        CallState.SENT,
        state=CallState.FAILED,
        error_code=str(code)[:50],  # ChargePointCall.error_code holds 50
        error_description=str(description),
        response=details or None,
    )


def _end_unanswered(call_id: str, why: str) -> bool:
    return _finish(call_id, CallState.SENT, state=CallState.TIMED_OUT, error_description=why)


def _finish(call_id: str, from_state: CallState, **fields: Any) -> bool:
    """End the call if it is still in `from_state`, and tell its waiters. False: it was not."""
    changed = ChargePointCall.objects.filter(pk=call_id, state=from_state).update(
        finished_at=timezone.now(), **fields
    )
    if changed:
        publish(ended(call_id), fields["state"])
        follow_ups.ended([call_id])
    return bool(changed)


def _known_call(identity: str, unique_id: str) -> bool:
    """Whether `unique_id` names a call of ours to this charge point (one no longer awaited on
    this connection: its answer is logged and ignored)."""
    try:
        call_id = uuid.UUID(unique_id)
    except ValueError:
        return False
    state = (
        ChargePointCall.objects.filter(pk=call_id, charge_point__identity=identity)
        .values_list("state", flat=True)
        .first()
    )
    if state is None:
        return False
    logger.info(
        "Charge point %s answered call %s, not awaited on this connection (%s): ignored",
        identity,
        unique_id,
        state,
    )
    return True


def _identities_with_pending(gateway_id: str) -> set[str]:
    """The charge points held by this process with a call waiting to be sent."""
    return set(
        ChargePointCall.objects.filter(
            state=CallState.PENDING, charge_point__gateway=gateway_id
        ).values_list("charge_point__identity", flat=True)
    )
