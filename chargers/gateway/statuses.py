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
from collections.abc import Sequence

from django.conf import settings
from ocpp.messages import Call

from chargers import status
from chargers.gateway import dispatch
from chargers.gateway.batches import CallBatch, Incoming, InPool
from chargers.handlers import Context, handler_for
from chargers.handlers.status import REPORTS, recorded, status_notification
from chargers.models import ChargePoint

logger = logging.getLogger(__name__)

# At most this many StatusNotifications in one transaction (a reconnect storm's): its locks
# are held for as long as the batch takes.
STATUS_BATCH = 100


def batched(version: str, call: Call) -> bool:
    """Whether a CALL goes through StatusBatch: a StatusNotification handled by the status
    handler (not a test's stand-in)."""
    return (
        call.action == "StatusNotification"
        and version in REPORTS
        and isinstance(call.payload, dict)
        and handler_for(version, call.action) is status_notification
    )


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


def _answered_together(calls: Sequence[Incoming]) -> tuple[list[dispatch.Answer], None]:
    return answer_all(calls), None


class StatusBatch(CallBatch[None]):
    """Gathers batched CALLs (`answer`) and records them together; `run` is a background task
    of the gateway."""

    what = "statuses"

    def __init__(self, in_pool: InPool) -> None:
        super().__init__(in_pool)
        self._full = asyncio.Event()
        self._last_arrival = -math.inf  # the loop's time
        self._last_charge_point = 0  # whose status that was
        self._first_arrival = 0.0  # of the batch that waits
        self._busy = False  # its first came within the window of the one before

    def _arrived(self, incoming: Incoming, now: float) -> None:
        if not self._waiting:
            self._first_arrival = now
            # Busy: statuses of several charge points keep coming. One charge point's own
            # (its connectors' after a boot) come one CALL at a time and can never share a
            # batch: waiting for them would only slow a lone charge point down (and a
            # station that reports a change right after a CALL of ours waits for that answer).
            self._busy = (
                now - self._last_arrival < settings.OCPP_STATUS_BATCH_SECONDS
                and incoming.charge_point_pk != self._last_charge_point
            )
        self._last_arrival = now
        self._last_charge_point = incoming.charge_point_pk
        if len(self._waiting) + 1 >= STATUS_BATCH:
            self._full.set()

    async def run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                await asyncio.sleep(0)  # the frames read meanwhile join this batch
                await self._gather()
                await self.record_round()
        finally:
            self._cancel_waiting()

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
        self._full.clear()
        batch = self._take(STATUS_BATCH)
        if batch:
            await self._handle(batch, _answered_together)
