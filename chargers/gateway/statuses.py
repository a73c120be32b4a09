"""StatusNotifications in batches: those that arrive together recorded in one transaction.

One by one, a StatusNotification that changes an EVSE cost a worker-thread hop, the charge
point's read and a transaction of its own: the connector row, the EVSE's location locked, the
list's generation, the partners' read, the PATCH and its deliveries. StatusBatch gathers what
arrives while the previous batch is being recorded and, while statuses keep coming, for up
to OCPP_STATUS_BATCH_SECONDS after a batch's first (one after a quiet spell goes at once);
reads the batch's charge points in one query, checks each CALL as dispatch does and records
them with chargers.status.record_all: one transaction, one lock per location, one
list-generation write, the PATCHes queued together. One batch at a time, so that the
gateway's own batches never wait on each other's locks. Each CALL is answered once its batch
committed.

A batch that fails (a database error, an EVSE whose new status is refused) is recorded again
one CALL at a time, each in its own transaction as dispatch answers it: one bad status never
costs the others theirs. The CALLs of one charge point still go one after the other (the
gateway's dispatcher waits for each answer), so a batch holds at most one of each, and a
connector's reports apply in the order they were sent.
"""

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from ocpp.messages import Call

from chargers import status
from chargers.gateway import dispatch
from chargers.handlers import Context, handler_for
from chargers.handlers.status import REPORTS, recorded, status_notification
from chargers.models import ChargePoint

logger = logging.getLogger(__name__)

# At most this many StatusNotifications in one transaction (a reconnect storm's): its locks
# are held for as long as the batch takes.
STATUS_BATCH = 100

InPool = Callable[..., Awaitable[Any]]


def batched(version: str, call: Call) -> bool:
    """Whether a CALL goes through StatusBatch: a StatusNotification handled by the status
    handler (not a test's stand-in)."""
    return (
        call.action == "StatusNotification"
        and version in REPORTS
        and isinstance(call.payload, dict)
        and handler_for(version, call.action) is status_notification
    )


@dataclass(frozen=True, slots=True)
class Incoming:
    charge_point_pk: int
    version: str
    call: Call
    received_at: datetime


def answer_all(calls: Sequence[Incoming]) -> list[dispatch.Answer]:
    """Check and record `calls` (batched ones) in one transaction: their answers. In a worker
    thread."""
    charge_points = ChargePoint.objects.in_bulk({incoming.charge_point_pk for incoming in calls})
    answers: list[dispatch.Answer | None] = []
    accepted: list[tuple[int, Context, status.Report]] = []
    for incoming in calls:
        call = incoming.call
        charge_point = charge_points.get(incoming.charge_point_pk)
        if charge_point is None:
            answers.append(dispatch.gone(call))
            continue
        context = Context(charge_point, incoming.version, incoming.received_at, call.unique_id)
        refused = dispatch.refusal(context, call)
        answers.append(refused)
        if refused is None:
            report = REPORTS[incoming.version](context, call.payload)
            accepted.append((len(answers) - 1, context, report))
    arrivals = [
        status.Arrival(context.charge_point, report, context.received_at)
        for _, context, report in accepted
    ]
    previous = status.record_all(arrivals)
    for (n, context, report), before in zip(accepted, previous, strict=True):
        try:
            recorded(context, report, before)
        except Exception:  # its status is recorded: answered as such, the rest logged
            logger.exception("After the status of %s", context.charge_point)
        answers[n] = dispatch.acknowledged(calls[n].call, context.charge_point)
    done = [answer for answer in answers if answer is not None]
    assert len(done) == len(calls)
    return done


def _one_by_one(calls: Sequence[Incoming]) -> list[dispatch.Answer]:
    """When recording them together failed: each CALL as dispatch answers it. In a worker
    thread."""
    return [
        dispatch.answer(
            incoming.charge_point_pk, incoming.version, incoming.call, incoming.received_at
        )
        for incoming in calls
    ]


class StatusBatch:
    """Gathers batched CALLs (`answer`) and records them together; `run` is a background task
    of the gateway."""

    def __init__(self, in_pool: InPool) -> None:
        self._in_pool = in_pool
        self._waiting: list[tuple[Incoming, asyncio.Future[dispatch.Answer]]] = []
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._last_arrival = -math.inf  # the loop's time
        self._last_charge_point = 0  # whose status that was
        self._first_arrival = 0.0  # of the batch that waits
        self._busy = False  # its first came within the window of the one before

    async def answer(
        self, charge_point_pk: int, version: str, call: Call, received_at: datetime
    ) -> dispatch.Answer:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dispatch.Answer] = loop.create_future()
        arrival = loop.time()
        if not self._waiting:
            self._first_arrival = arrival
            # Busy: statuses of several charge points keep coming. One charge point's own
            # (its connectors' after a boot) come one CALL at a time and can never share a
            # batch: waiting for them would only slow a lone charge point down (and a
            # station that reports a change right after a CALL of ours waits for that answer).
            self._busy = (
                arrival - self._last_arrival < settings.OCPP_STATUS_BATCH_SECONDS
                and charge_point_pk != self._last_charge_point
            )
        self._last_arrival = arrival
        self._last_charge_point = charge_point_pk
        self._waiting.append((Incoming(charge_point_pk, version, call, received_at), future))
        if len(self._waiting) >= STATUS_BATCH:
            self._full.set()
        self._wake.set()
        return await future

    async def run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                await asyncio.sleep(0)  # the frames read meanwhile join this batch
                await self._gather()
                await self.record_round()
        finally:  # stopping: nothing waits for ever (their connections are closed by now)
            for _, future in self._waiting:
                future.cancel()
            self._waiting.clear()

    async def _gather(self) -> None:
        """While statuses keep coming, let the batch gather until OCPP_STATUS_BATCH_SECONDS
        after its first arrived, or until it is full: at ~10 statuses a second a batch
        recorded at once would hold one. After a quiet spell, none waits."""
        if not self._busy or len(self._waiting) >= STATUS_BATCH:
            return
        left = self._first_arrival + settings.OCPP_STATUS_BATCH_SECONDS
        left -= asyncio.get_running_loop().time()
        if left > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), left)

    async def record_round(self) -> None:
        """Record what waits now (STATUS_BATCH of it), and answer it."""
        self._wake.clear()
        self._full.clear()
        batch, self._waiting = self._waiting[:STATUS_BATCH], self._waiting[STATUS_BATCH:]
        if self._waiting:
            self._wake.set()
        if not batch:
            return
        calls = [incoming for incoming, _ in batch]
        try:
            try:
                answers = await self._in_pool(answer_all, calls)
            except Exception:
                logger.exception("Recording %d statuses together failed: one by one", len(calls))
                answers = await self._in_pool(_one_by_one, calls)
        except BaseException:  # cancelled (stopping): nothing waits for ever
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)
