"""Meter messages in batches: stored together, acknowledged once stored, applied together.

A charge point sends MeterValues (1.6, naming its transactionId) or TransactionEvent(Updated)
(2.0.1, without an idToken: nothing to decide, nothing but `{}` to answer) every minute or
so; one by one each cost a database transaction of its own and a session PATCH. Here:

- MeterBatch gathers what arrived while the previous round was stored (at most STORE_BATCH
  calls; under load, lingering a little for more: chargers.gateway.pace; idle, a message is
  stored at once), reads their charge
  points in one query, checks each CALL as dispatch does, and stores the messages in one
  statement and one database transaction (chargers.transactions.store_events: a repeat is
  skipped by the unique constraints). Each CALL is answered once that committed: a message
  acknowledged is on disk. On PostgreSQL, with many messages waiting, up to STORE_ROUNDS
  rounds are stored side by side: a round waits on the database's round trips more than it
  computes, and two rounds never hold messages of one charge point (its next CALL comes once
  this one is answered), so none of one transaction.
- Applier then applies what was stored, the transactions touched since its last round in one
  database transaction (chargers.transactions.apply_stored: in each charge point's time
  order, one progress PATCH per session), at most APPLY_BATCH at a time, while the next
  ones are being stored; a transaction whose samples nothing reads before its next
  progress PATCH when that is due (Applier). What it had not applied when the gateway
  stopped or failed is applied by the catch-up (chargers.transactions.apply_released, by
  beat and when a gateway starts); any other message of a transaction (StopTransaction,
  Ended) applies it first.

The CALLs of one charge point still go one after the other (the gateway's dispatcher waits
for each answer); those of many charge points share the statements.
"""

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone
from ocpp.messages import Call

from chargers import transactions
from chargers.gateway import dispatch
from chargers.gateway.batches import CallBatch, Incoming, InPool, Parked
from chargers.gateway.pace import Pace
from chargers.handlers import Context
from chargers.models import ChargePoint, OcppVersion
from chargers.transaction_steps import METER_VALUES, UPDATED

logger = logging.getLogger(__name__)

STORE_BATCH = 500
# Rounds stored side by side on PostgreSQL, once SIDE_BY_SIDE_AT messages wait; SQLite writes
# one transaction at a time, so there a second round would only wait for the first's lock.
STORE_ROUNDS = 3
SIDE_BY_SIDE_AT = 50
APPLY_WINDOW_SECONDS = 1.0
# How often deferred transactions are checked for their deadline.
DEFER_CHECK_SECONDS = 5.0
# Messages of one transaction deferred at most (one applied round, one database transaction:
# a charge point sending far more often than every minute has its samples applied in bounded
# rounds all the same).
DEFER_MESSAGES = 20
APPLY_BATCH = 200
# Transactions whose pk the gateway knows (not read again for each round), at most.
KNOWN_TRANSACTIONS = 100_000


def batched(version: str, call: Call) -> bool:
    """Whether a CALL goes through MeterBatch: a meter message of a named transaction that
    needs no decision. Anything else (a payload too broken to say) is dispatched as usual."""
    payload = call.payload
    if not isinstance(payload, dict):
        return False
    if version == OcppVersion.V16:
        return call.action == "MeterValues" and payload.get("transactionId") is not None
    if version == OcppVersion.V201 and call.action == "TransactionEvent":
        info = payload.get("transactionInfo")
        return (
            payload.get("eventType") == UPDATED
            and "idToken" not in payload
            and isinstance(info, dict)
            and isinstance(info.get("transactionId"), str)
        )
    return False


class Waiting(NamedTuple):
    """A transaction's messages stored and not applied: how many, the latest's moment (the
    charge point's time)."""

    latest: datetime
    messages: int


def answer_all(
    calls: Sequence[Incoming],
    known: dict[tuple[int, str], int] | None = None,
    quiet: dict[int, datetime] | None = None,
) -> tuple[list[dispatch.Answer], dict[int, Waiting]]:
    """Check and store `calls` (batched ones): their answers, and the transactions that got
    messages to apply, with what waits of each (`known`, `quiet`: see
    chargers.transactions.store_events). In a worker thread."""
    charge_points = ChargePoint.objects.in_bulk({incoming.charge_point_pk for incoming in calls})
    answers: list[dispatch.Answer] = []
    arrivals: list[transactions.Arrival] = []
    for incoming in calls:
        call = incoming.call
        charge_point = charge_points.get(incoming.charge_point_pk)
        if charge_point is None:
            answers.append(dispatch.gone(call))
            continue
        context = Context(charge_point, incoming.version, incoming.received_at, call.unique_id)
        refused = dispatch.refusal(context, call)
        if refused is not None:
            answers.append(refused)
            continue
        answers.append(dispatch.acknowledged(call, charge_point))
        arrivals.append(_arrival(charge_point, incoming))
    touched: dict[int, Waiting] = {}
    stored_all = transactions.store_events(arrivals, known, quiet)
    for arrival, stored in zip(arrivals, stored_all, strict=True):
        if stored is None:
            logger.warning(
                "Charge point %s sent a message of transaction %s, which we never started",
                arrival.charge_point,
                arrival.transaction_id,
            )
            continue
        before = touched.get(stored.pk)
        touched[stored.pk] = (
            Waiting(stored.latest, 1)
            if before is None
            else Waiting(max(before.latest, stored.latest), before.messages + 1)
        )
    return answers, touched


def _arrival(charge_point: ChargePoint, incoming: Incoming) -> transactions.Arrival:
    payload = incoming.call.payload
    if incoming.version == OcppVersion.V16:
        return transactions.Arrival(
            charge_point, str(payload["transactionId"]), METER_VALUES, payload, incoming.received_at
        )
    return transactions.Arrival(
        charge_point,
        payload["transactionInfo"]["transactionId"],
        UPDATED,
        payload,
        incoming.received_at,
        payload["seqNo"],
    )


class Applier:
    """Applies the stored messages of the transactions it is told about (touch), a round at
    a time; `run` is a background task of the gateway.

    A transaction whose messages change nothing anyone reads before its session's next
    progress PATCH (chargers.charging.quiet_until: `quiet`, from its row as the store round
    read it or as the last round saved it) is applied when a message reaches that moment,
    at the latest defer_seconds() after its first one waiting or once DEFER_MESSAGES wait:
    each of its rounds then applies the few minutes of samples since the last (one
    savepoint, one UPDATE, one price check) instead of one sample. Any other is applied in
    the next round, a second later."""

    def __init__(self, in_pool: InPool) -> None:
        self._in_pool = in_pool
        self._touched: set[int] = set()
        # Deferred: pk → the loop's time by which it is applied, its messages waiting.
        self._deferred: dict[int, tuple[float, int]] = {}
        self._wake = asyncio.Event()
        # pk → until when (the charge point's time) its samples may wait; shared with the
        # store rounds' worker threads, which add single keys (atomic on a dict).
        self.quiet: dict[int, datetime] = {}

    def touch(self, waiting: Mapping[int, Waiting]) -> None:
        """Stored messages of these transactions wait to be applied."""
        deadline = asyncio.get_running_loop().time() + defer_seconds()
        for pk, (latest, messages) in waiting.items():
            until = self.quiet.get(pk)
            deferred = self._deferred.get(pk)
            count = messages + (deferred[1] if deferred else 0)
            if until is None or latest >= until or count >= DEFER_MESSAGES:
                self._touched.add(pk)
                self._deferred.pop(pk, None)
            elif pk not in self._touched:
                self._deferred[pk] = (deferred[0] if deferred else deadline, count)
        if self._touched:
            self._wake.set()

    async def run(self) -> None:
        await self._catch_up()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), DEFER_CHECK_SECONDS)
            self._release_due()
            if self._touched:
                await asyncio.sleep(APPLY_WINDOW_SECONDS)  # what arrives meanwhile joins
                await self.apply_round()

    def _release_due(self) -> None:
        now = asyncio.get_running_loop().time()
        due = [pk for pk, (deadline, _) in self._deferred.items() if deadline <= now]
        for pk in due:
            del self._deferred[pk]
        self._touched.update(due)

    async def apply_round(self) -> None:
        """Apply the touched transactions (APPLY_BATCH of them; the rest in the next round)."""
        self._wake.clear()
        chosen = sorted(self._touched)[:APPLY_BATCH]
        self._touched.difference_update(chosen)
        if self._touched:
            self._wake.set()
        if not chosen:
            return
        saved: dict[int, datetime | None] = {}
        try:
            failed = await self._in_pool(transactions.apply_stored, chosen, timezone.now(), saved)
        except Exception:  # the database: the catch-up applies them later
            logger.exception("Applying the stored messages of %d transactions failed", len(chosen))
            return
        if len(self.quiet) > KNOWN_TRANSACTIONS:
            self.quiet.clear()  # applied at once until learnt again: nothing waits too long
        for pk, until in saved.items():
            if until is None:
                self.quiet.pop(pk, None)
            else:
                self.quiet[pk] = until
        if failed:
            logger.warning("Transactions %s left for the catch-up", failed)

    async def flush(self) -> None:
        """Apply everything deferred (the gateway stops)."""
        self._touched.update(self._deferred)
        self._deferred.clear()
        while self._touched:
            await self.apply_round()

    async def _catch_up(self) -> None:
        """What a previous life of a gateway stored and did not apply."""
        try:
            await self._in_pool(transactions.apply_released, timezone.now())
        except Exception:
            logger.exception("Catching up with the stored messages failed")


def defer_seconds() -> float:
    """The longest a message waits to be applied: one progress interval (the catch-up,
    chargers.transactions.apply_released, counts with it)."""
    return float(settings.OCPP_SESSION_PROGRESS_SECONDS)


class MeterBatch(CallBatch[dict[int, Waiting]]):
    """Gathers batched CALLs (`answer`) and stores them together; `run` is a background task
    of the gateway."""

    what = "meter messages"

    def __init__(self, in_pool: InPool) -> None:
        super().__init__(in_pool)
        self.applier = Applier(in_pool)
        # Shared by the rounds' worker threads: each reads and adds single keys (atomic on a
        # dict); a round that failed clears it, and the others read what they miss again.
        self._known: dict[tuple[int, str], int] = {}
        self._rounds: set[asyncio.Task[None]] = set()
        self._store_rounds = 1 if connection.vendor == "sqlite" else STORE_ROUNDS
        self._pace = Pace()

    def _arrived(self, incoming: Incoming, now: float) -> None:
        self._pace.arrived(now)

    async def run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                await asyncio.sleep(0)  # the frames read meanwhile join this round
                await self._linger()
                while self._rounds and not self._side_by_side():
                    await asyncio.wait(self._rounds, return_when=asyncio.FIRST_COMPLETED)
                batch = self._take(STORE_BATCH)
                if batch:
                    task = asyncio.create_task(self._store(batch))
                    self._rounds.add(task)
                    task.add_done_callback(self._rounds.discard)
        finally:
            for task in self._rounds:
                task.cancel()
            self._cancel_waiting()

    async def _linger(self) -> None:
        """Under load, wait a little for more messages to share the round (pace.Pace)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            pks = [incoming.charge_point_pk for incoming, _ in self._waiting]
            remaining = self._pace.lingers(pks, started, loop.time())
            if remaining <= 0:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)

    def _side_by_side(self) -> bool:
        """Whether a round starts while another is stored: only for many messages waiting.
        Else what arrives meanwhile waits for it and joins the next round: under load a
        round's fixed cost (a worker thread's hop, the charge points' read, the INSERT's
        round trip) is shared by more messages, and idle none waits for a timer."""
        return len(self._rounds) < self._store_rounds and len(self._waiting) >= SIDE_BY_SIDE_AT

    async def store_round(self) -> None:
        """Store what waits now (STORE_BATCH of it), and answer it."""
        batch = self._take(STORE_BATCH)
        if batch:
            await self._store(batch)

    async def _store(self, batch: list[Parked]) -> None:
        if len(self._known) > KNOWN_TRANSACTIONS:
            self._known.clear()
        # Stored one by one (after a failure), each message was applied at once: no touch.
        touched = await self._handle(batch, answer_all, self._known, self.applier.quiet)
        now = asyncio.get_running_loop().time()
        self._pace.answered((incoming.charge_point_pk for incoming, _ in batch), now)
        self.applier.touch(touched or {})

    def _failed(self) -> None:
        self._known.clear()  # a transaction deleted meanwhile, perhaps
