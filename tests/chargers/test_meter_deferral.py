"""Meter values applied when their session's progress PATCH is due (chargers.gateway.meters.
Applier, chargers.charging.quiet_until): stored and answered at once, applied together by
then; at once where a session is not ACTIVE; at the latest one progress interval later, when
the gateway stops, or by the catch-up after that; a stop applies them first."""

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from chargers import transactions
from chargers.charging import quiet_until
from chargers.gateway import batches, database, meters
from chargers.models import ChargePoint, ChargerTransaction, TransactionEvent
from chargers.transaction_tasks import check_transactions
from tests.chargers.test_transaction_batches import (
    SECOND,
    incoming,
    meter_16,
    patches,
    points,
    start_16,
    started_201,
    stop_16,
    updated_201,
)
from tests.chargers.transactions_setup import MINUTE, START, cdr_of

__all__ = ["points"]  # the fixture

pytestmark = pytest.mark.django_db(transaction=True)  # the worker threads see the rows

T = TypeVar("T")
EVERY = 300


@pytest.fixture(autouse=True)
def _progress_every_five_minutes(settings: Any) -> None:
    settings.OCPP_SESSION_PROGRESS_SECONDS = EVERY  # the default (config.settings)


def run(work: Callable[[meters.MeterBatch, batches.InPool], Coroutine[Any, Any, T]]) -> T:
    """`work` on an event loop with a MeterBatch whose database work goes to worker threads,
    as the gateway's (chargers.gateway.server.Gateway.in_pool)."""
    workers = database.Workers(2)

    async def in_pool(function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(workers.executor, database.with_database, function, *args)

    async def with_batch() -> T:
        return await work(meters.MeterBatch(in_pool), in_pool)

    try:
        return asyncio.run(with_batch())
    finally:
        workers.shutdown()


async def send(batch: meters.MeterBatch, *calls: batches.Incoming) -> list[str]:
    """The CALLs as the gateway answers them: one store round, its answers."""
    answering = [
        asyncio.ensure_future(batch.answer(c.charge_point_pk, c.version, c.call, c.received_at))
        for c in calls
    ]
    await asyncio.sleep(0)
    await batch.store_round()
    return [(await answer).frame for answer in answering]


def waiting() -> int:
    return TransactionEvent.objects.filter(applied=False).count()


def applied_wh(point: ChargePoint) -> Decimal | None:
    """The transaction's register as applied, since its start."""
    tx = ChargerTransaction.objects.get(charge_point=point)
    if tx.meter_last_wh is None or tx.meter_start_wh is None:
        return None
    return tx.meter_last_wh - tx.meter_start_wh


def kwh(point: ChargePoint) -> Decimal:
    session = ChargerTransaction.objects.select_related("session").get(charge_point=point).session
    assert session is not None
    return session.kwh


def test_samples_wait_until_the_progress_is_due_then_apply_together(
    points: tuple[ChargePoint, ChargePoint],
) -> None:
    cp16, _ = points
    number = start_16(cp16, START)
    tx = ChargerTransaction.objects.get(charge_point=cp16)
    before = patches(tx.session)

    def minute(n: int) -> batches.Incoming:
        at = START + n * MINUTE
        return incoming(cp16, meter_16(number, at, n * 200), at)

    async def work(batch: meters.MeterBatch, in_pool: batches.InPool) -> tuple[Any, ...]:
        answers = [*await send(batch, minute(1), minute(2)), *await send(batch, minute(4))]
        await batch.applier.apply_round()
        early = await in_pool(lambda: (waiting(), kwh(cp16), patches(tx.session)))
        answers += await send(batch, minute(5))  # 5 minutes after the start: due
        await batch.applier.apply_round()
        return answers, early, batch.applier.quiet.get(tx.pk)

    answers, early, quiet = run(work)

    assert [frame.split(",")[0] for frame in answers] == ["[3"] * 4  # all answered
    assert early == (3, 0, before)  # stored, not applied: nothing reads them yet
    assert waiting() == 0
    assert kwh(cp16) == Decimal(1)  # the last reading's
    assert patches(tx.session) == before + 1  # one PATCH for the four samples
    assert quiet == START + 5 * MINUTE + EVERY * SECOND  # the next one due


def test_a_transaction_without_an_active_session_is_applied_at_once(
    points: tuple[ChargePoint, ChargePoint],
) -> None:
    """A 2.0.1 Updated before its Started: no session yet, applied (and held) at once."""
    _, cp201 = points
    at = START + MINUTE

    async def work(batch: meters.MeterBatch, in_pool: batches.InPool) -> set[int]:
        await send(batch, incoming(cp201, updated_201(1, at, 100), at))
        touched = set(batch.applier._touched)
        await batch.applier.apply_round()
        return touched

    touched = run(work)

    assert touched == {ChargerTransaction.objects.get(charge_point=cp201).pk}


def test_a_deferred_transaction_is_applied_one_progress_interval_later_at_the_latest(
    points: tuple[ChargePoint, ChargePoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A charge point's clock that stops, a sample it never sends: applied all the same."""
    cp16, _ = points
    number = start_16(cp16, START)
    monkeypatch.setattr(meters, "defer_seconds", lambda: 0.05)
    monkeypatch.setattr(meters, "DEFER_CHECK_SECONDS", 0.01)
    monkeypatch.setattr(meters, "APPLY_WINDOW_SECONDS", 0)
    at = START + MINUTE

    async def work(batch: meters.MeterBatch, in_pool: batches.InPool) -> int:
        await send(batch, incoming(cp16, meter_16(number, at, 300), at))
        stored = await in_pool(waiting)
        applying = asyncio.ensure_future(batch.applier.run())
        await asyncio.sleep(0.3)
        applying.cancel()
        return stored

    assert run(work) == 1
    assert waiting() == 0
    assert applied_wh(cp16) == 300


def test_a_gateway_that_stops_applies_what_it_deferred(
    points: tuple[ChargePoint, ChargePoint],
) -> None:
    cp16, _ = points
    number = start_16(cp16, START)
    at = START + 2 * MINUTE

    async def work(batch: meters.MeterBatch, in_pool: batches.InPool) -> int:
        await send(batch, incoming(cp16, meter_16(number, at, 700), at))
        stored = await in_pool(waiting)
        await batch.applier.flush()
        return stored

    assert run(work) == 1
    assert waiting() == 0
    assert applied_wh(cp16) == 700


def test_a_stop_applies_what_was_deferred_before_its_cdr(
    points: tuple[ChargePoint, ChargePoint],
) -> None:
    cp16, _ = points
    number = start_16(cp16, START)
    samples = [incoming(cp16, meter_16(number, START + n * MINUTE, n * 500), START) for n in (1, 2)]

    async def work(batch: meters.MeterBatch, in_pool: batches.InPool) -> None:
        await send(batch, *samples)

    run(work)
    stop_16(cp16, number, START + 3 * MINUTE, 1_000)

    tx = ChargerTransaction.objects.select_related("session").get(charge_point=cp16)
    assert waiting() == 0
    assert tx.session is not None
    assert cdr_of(tx.session).total_energy == Decimal(1)
    assert tx.meter_last_at == START + 3 * MINUTE


def test_the_catch_up_leaves_a_deferred_sample_to_its_gateway_for_one_interval(
    points: tuple[ChargePoint, ChargePoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway that fails after storing: its deferred samples are applied by the catch-up
    once no gateway would have kept them longer."""
    cp16, _ = points
    number = start_16(cp16, START)
    at = START + MINUTE
    meters.answer_all([incoming(cp16, meter_16(number, at, 400), at)])
    received = at + SECOND
    catch_up = transactions.CATCH_UP_SECONDS

    monkeypatch.setattr("chargers.transaction_tasks.now", lambda: received + catch_up * SECOND)
    check_transactions()
    early = waiting()
    later = received + (catch_up + EVERY) * SECOND
    monkeypatch.setattr("chargers.transaction_tasks.now", lambda: later)
    check_transactions()

    assert early == 1
    assert waiting() == 0
    assert applied_wh(cp16) == 400


def test_the_catch_up_releases_a_sample_held_for_a_gap_when_the_gap_expires(
    points: tuple[ChargePoint, ChargePoint], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of order (seqNo 2 without 1): not the gateway's to defer; the catch-up applies it
    when the reorder wait is over, as before."""
    _, cp201 = points
    started_201(cp201, START)
    at = START + MINUTE
    meters.answer_all([incoming(cp201, updated_201(2, at, 900), at)])
    received = at + SECOND
    wait = settings.OCPP_TRANSACTION_REORDER_SECONDS

    monkeypatch.setattr("chargers.transaction_tasks.now", lambda: received + wait * SECOND)
    check_transactions()

    assert wait < EVERY
    assert waiting() == 0
    assert applied_wh(cp201) == 900


def test_quiet_until_the_next_progress_only_while_the_session_is_active(
    points: tuple[ChargePoint, ChargePoint], settings: Any
) -> None:
    cp16, _ = points
    number = start_16(cp16, START)
    tx = ChargerTransaction.objects.select_related("session").get(charge_point=cp16)
    active = quiet_until(tx)
    tx.rebooted_at = START + MINUTE
    rebooted = quiet_until(tx)
    tx.rebooted_at = None
    settings.OCPP_SESSION_PROGRESS_SECONDS = 0
    each_sample = quiet_until(tx)
    settings.OCPP_SESSION_PROGRESS_SECONDS = EVERY
    stop_16(cp16, number, START + 2 * MINUTE, 100)
    tx = ChargerTransaction.objects.select_related("session").get(charge_point=cp16)

    assert active == START + EVERY * SECOND
    assert rebooted is None
    assert each_sample is None
    assert quiet_until(tx) is None


def test_times_are_the_charge_point_s(points: tuple[ChargePoint, ChargePoint]) -> None:
    """A message of several samples is due by its latest one."""
    cp16, _ = points
    number = start_16(cp16, START)
    late: datetime = START + 6 * MINUTE
    payload = meter_16(number, START + MINUTE, 100)
    payload["meterValue"].append({**payload["meterValue"][0], "timestamp": late.isoformat()})

    _, touched = meters.answer_all([incoming(cp16, payload, late)])

    pk = ChargerTransaction.objects.get(charge_point=cp16).pk
    assert touched == {pk: meters.Waiting(late, 1)}
    assert TransactionEvent.objects.get(kind="MeterValues").timestamp == START + MINUTE


def test_a_transaction_with_many_messages_waiting_is_applied_without_waiting_more(
    points: tuple[ChargePoint, ChargePoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A charge point metering far more often than every minute: bounded rounds."""
    cp16, _ = points
    number = start_16(cp16, START)
    monkeypatch.setattr(meters, "DEFER_MESSAGES", 3)
    samples = [
        incoming(cp16, meter_16(number, START + n * SECOND, n), START + n * SECOND)
        for n in range(1, 4)
    ]

    async def work(batch: meters.MeterBatch, in_pool: batches.InPool) -> tuple[int, int]:
        await send(batch, *samples[:2])
        await batch.applier.apply_round()
        early = await in_pool(waiting)
        await send(batch, samples[2])
        await batch.applier.apply_round()
        return early, await in_pool(waiting)

    assert run(work) == (2, 0)
    assert applied_wh(cp16) == 3
