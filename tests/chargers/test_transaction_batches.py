"""Meter messages in batches (chargers.gateway.meters, chargers.transactions.store_events and
apply_stored): stored together, applied together, with the same sessions, periods and kWh as
one by one; one progress PATCH per session per batch; nothing lost between storing and
applying; repeats skipped; a stop applies what was stored before it."""

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from ocpp.messages import Call

from chargers import transactions
from chargers.gateway import batches, meters
from chargers.models import ChargePoint, ChargePointEvse, ChargerTransaction, TransactionEvent
from chargers.transaction_tasks import check_transactions
from locations.models import EVSE, Connector
from push.models import Change
from sessions import services as session_services
from sessions.models import Session
from tests.chargers.transactions_setup import (
    MINUTE,
    START,
    call,
    cdr_of,
    emsp,
    estate,
    meter_value_16,
    meter_value_201,
    periods,
    stamp,
    start_16_payload,
    token,
    transaction_event,
)
from tests.examples import upsert_tariff

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)
METER_START = 1_000_000  # 1.6
BEGIN = 5_000  # 2.0.1: the register at Started
OTHER_TOKEN = "TOKEN2"
EVENING = {  # 0.20/kWh until 18:00 in Brussels (17:00 UTC), 0.30 after: a period per price
    "country_code": "BE",
    "party_id": "BEC",
    "id": "EVENING",
    "currency": "EUR",
    "elements": [
        {
            "price_components": [{"type": "ENERGY", "price": Decimal("0.20"), "step_size": 1}],
            "restrictions": {"start_time": "00:00", "end_time": "18:00"},
        },
        {"price_components": [{"type": "ENERGY", "price": Decimal("0.30"), "step_size": 1}]},
    ],
    "last_updated": "2026-01-01T00:00:00Z",
}


@pytest.fixture
def points() -> tuple[ChargePoint, ChargePoint]:
    """A 1.6 charge point at EVSE 3256 and a 2.0.1 one at EVSE 3257 (each its OCPP 1), and a
    token for each."""
    estate()
    emsp()
    token()
    token(OTHER_TOKEN)
    made = []
    for identity, version, uid in (("CP16", "1.6", "3256"), ("CP201", "2.0.1", "3257")):
        point = ChargePoint.objects.create(identity=identity, ocpp_version=version)
        ChargePointEvse.objects.create(
            charge_point=point, ocpp_evse_id=1, evse=EVSE.objects.get(uid=uid)
        )
        made.append(point)
    return made[0], made[1]


# --- messages ---------------------------------------------------------------------------------


def start_16(point: ChargePoint, at: datetime) -> int:
    payload = start_16_payload(at, METER_START)
    answer = call(point, "StartTransaction", payload, at + SECOND)
    return int(answer["transactionId"])


def meter_16(number: int, at: datetime, wh: int, power_w: int = 12_000) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "transactionId": number,
        "meterValue": [meter_value_16(at, METER_START + wh, power_w=power_w)],
    }


def stop_16(point: ChargePoint, number: int, at: datetime, wh: int) -> None:
    payload = {"transactionId": number, "meterStop": METER_START + wh, "timestamp": stamp(at)}
    call(point, "StopTransaction", payload, at + SECOND)


def started_201(point: ChargePoint, at: datetime, tx: str = "TX-1") -> None:
    payload = transaction_event(
        "Started",
        0,
        at,
        transaction_id=tx,
        trigger="Authorized",
        charging_state="Charging",
        id_token=OTHER_TOKEN,
        evse=1,
        meter=[meter_value_201(at, BEGIN, context="Transaction.Begin")],
    )
    call(point, "TransactionEvent", payload, at + SECOND)


def updated_201(seq_no: int, at: datetime, wh: int, tx: str = "TX-1") -> dict[str, Any]:
    meter = [meter_value_201(at, BEGIN + wh, power_w=11_000)]
    return transaction_event("Updated", seq_no, at, transaction_id=tx, meter=meter)


def ended_201(point: ChargePoint, seq_no: int, at: datetime, wh: int, tx: str = "TX-1") -> None:
    payload = transaction_event(
        "Ended",
        seq_no,
        at,
        transaction_id=tx,
        trigger="EVDeparted",
        charging_state="Idle",
        stopped_reason="EVDisconnected",
        meter=[meter_value_201(at, BEGIN + wh, context="Transaction.End")],
    )
    call(point, "TransactionEvent", payload, at + SECOND)


def incoming(point: ChargePoint, payload: dict[str, Any], at: datetime) -> batches.Incoming:
    action = "MeterValues" if point.ocpp_version == "1.6" else "TransactionEvent"
    message = Call(unique_id=f"m-{at.isoformat()}", action=action, payload=payload)
    return batches.Incoming(point.pk, point.ocpp_version, message, at + SECOND)


def store(*calls: batches.Incoming) -> set[int]:
    """Store as the gateway does: every CALL acknowledged; the transactions to apply."""
    answers, touched = meters.answer_all(list(calls))
    assert [answer.frame for answer in answers] == [
        f'[3,"{each.call.unique_id}",{{}}]' for each in calls
    ]
    return set(touched)


def one_by_one(point: ChargePoint, item: batches.Incoming) -> None:
    """The same message through its handler, applied at once."""
    call(point, item.call.action, item.call.payload, item.received_at)


def session_figures(transaction: ChargerTransaction, since: datetime = START) -> tuple[Any, ...]:
    """Status, kWh, cost, periods (their starts after `since`), the CDR's energy and cost."""
    transaction.refresh_from_db()
    session = transaction.session
    assert session is not None
    cdr = cdr_of(session) if session.status == "COMPLETED" else None
    return (
        session.status,
        session.kwh,
        session.total_cost_excl_vat,
        [(start - since, dims) for start, dims in periods(session)],
        cdr.total_energy if cdr else None,
        cdr.total_cost_excl_vat if cdr else None,
    )


def patches(session: Session | None) -> int:
    assert session is not None
    return Change.objects.filter(
        module="sessions", method="PATCH", object_key__iendswith=session.ocpi_id
    ).count()


# --- the same as one by one ---------------------------------------------------------------------


@pytest.mark.parametrize("evening", [False, True], ids=["one-price", "price-changes"])
def test_a_batch_of_several_charge_points_gives_what_one_by_one_gives(
    points: tuple[ChargePoint, ChargePoint], evening: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Both charge points, their meter messages (one late) applied one by one and then, on
    the same start, stored and applied as one batch: the same periods, kWh, costs and CDRs.
    With a price change inside the batch its check at the last reading finds it and the
    batch is applied reading by reading."""
    cp16, cp201 = points
    first = START.replace(hour=16, minute=30) if evening else START  # 17:30 in Brussels
    if evening:
        upsert_tariff(EVENING)
        Connector.objects.filter(evse__uid__in=["3256", "3257"]).update(tariff_ids=["EVENING"])

    def run(batched: bool, begin: datetime) -> list[tuple[Any, ...]]:
        """The same charges, from `begin` (a day apart: the EVSEs are free again)."""
        tx = f"TX-{begin.day}"
        number = start_16(cp16, begin)
        started_201(cp201, begin, tx)
        messages = [
            incoming(cp16, meter_16(number, begin + 10 * MINUTE, 2_000), begin + 10 * MINUTE),
            incoming(cp201, updated_201(1, begin + 10 * MINUTE, 1_800, tx), begin + 10 * MINUTE),
            incoming(cp16, meter_16(number, begin + 40 * MINUTE, 8_000), begin + 40 * MINUTE),
            incoming(cp16, meter_16(number, begin + 20 * MINUTE, 4_000), begin + 20 * MINUTE),
            incoming(cp201, updated_201(2, begin + 40 * MINUTE, 7_300, tx), begin + 40 * MINUTE),
        ]
        if batched:
            transactions.apply_stored(sorted(store(*messages)), begin + 41 * MINUTE)
        else:
            for item in messages:
                one_by_one(cp16 if item.version == "1.6" else cp201, item)
        stop_16(cp16, number, begin + 60 * MINUTE, 12_000)
        ended_201(cp201, 3, begin + 60 * MINUTE, 11_000, tx)
        found = ChargerTransaction.objects.filter(started_at=begin).order_by("charge_point")
        assert not TransactionEvent.objects.filter(applied=False).exists()
        return [session_figures(each, begin) for each in found]

    caplog.set_level(logging.DEBUG, "chargers.transactions")
    alone = run(batched=False, begin=first)
    together = run(batched=True, begin=first + timedelta(days=1))

    assert together == alone
    assert ("applied again reading by reading" in caplog.text) == evening
    assert [figures[0] for figures in together] == ["COMPLETED", "COMPLETED"]
    assert [figures[4] for figures in together] == [Decimal(12), Decimal(11)]
    period_starts = [[start for start, _ in figures[3]] for figures in together]
    if evening:  # 18:00 in Brussels cuts both
        assert period_starts == [[timedelta(0), 30 * MINUTE]] * 2
    else:
        assert period_starts == [[timedelta(0)]] * 2


def test_one_progress_patch_per_session_per_batch(points: tuple[ChargePoint, ChargePoint]) -> None:
    cp16, cp201 = points
    number = start_16(cp16, START)
    started_201(cp201, START)
    transaction16 = ChargerTransaction.objects.get(charge_point=cp16)
    transaction201 = ChargerTransaction.objects.get(charge_point=cp201)
    before = [patches(transaction16.session), patches(transaction201.session)]
    messages = []
    for minute in range(1, 6):
        at = START + minute * MINUTE
        messages.append(incoming(cp16, meter_16(number, at, minute * 200), at))
        messages.append(incoming(cp201, updated_201(minute, at, minute * 180), at))

    touched = store(*messages)
    failed = transactions.apply_stored(sorted(touched), START + 6 * MINUTE)

    assert failed == []
    assert touched == {transaction16.pk, transaction201.pk}
    assert [patches(transaction16.session), patches(transaction201.session)] == [
        count + 1 for count in before
    ]
    last = Change.objects.filter(module="sessions", method="PATCH").order_by("pk").last()
    assert last is not None
    assert last.payload is not None
    assert last.payload["kwh"] in (Decimal(1), Decimal("0.9"))  # the last reading's
    transaction16.refresh_from_db()
    transaction201.refresh_from_db()
    assert (transaction16.session and transaction16.session.kwh) == Decimal(1)
    assert (transaction201.session and transaction201.session.kwh) == Decimal("0.9")
    assert transaction201.last_seq_no == 5


def test_a_progress_that_fails_holds_back_no_other_of_its_chunk(
    points: tuple[ChargePoint, ChargePoint],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The progress PATCHes of a chunk go together; when that fails (here the one of the 1.6
    session, made to fail), each is sent alone: the other session still gets its PATCH, and
    both transactions stay applied."""
    cp16, cp201 = points
    number = start_16(cp16, START)
    started_201(cp201, START)
    transaction16 = ChargerTransaction.objects.get(charge_point=cp16)
    transaction201 = ChargerTransaction.objects.get(charge_point=cp201)
    broken = transaction16.session_id
    before = [patches(transaction16.session), patches(transaction201.session)]
    real = session_services._progress

    def progress(locked: Any, periods: Any, item: Any, changed: Any) -> Session:
        if item.session.pk == broken:
            raise RuntimeError("a pricing bug")
        return real(locked, periods, item, changed)

    monkeypatch.setattr(session_services, "_progress", progress)
    monkeypatch.setattr(transactions, "APPLY_CHUNK", 2)  # SQLite's is 1: both in one chunk
    monkeypatch.setattr(transactions, "APPLY_CHUNK_ROW_LOCKS", 2)
    at = START + 2 * MINUTE
    touched = store(
        incoming(cp16, meter_16(number, at, 400), at),
        incoming(cp201, updated_201(1, at, 360), at),
    )

    failed = transactions.apply_stored(sorted(touched), at + MINUTE)

    assert failed == []
    assert [patches(transaction16.session), patches(transaction201.session)] == [
        before[0],
        before[1] + 1,
    ]
    assert "The progress of 2 sessions together failed" in caplog.text
    assert f"The progress of {transaction16} failed" in caplog.text
    assert not TransactionEvent.objects.filter(applied=False).exists()
    transaction16.refresh_from_db()
    assert transaction16.meter_last_wh == METER_START + 400


# --- nothing lost, nothing twice ----------------------------------------------------------------


def test_stored_and_not_applied_is_applied_by_the_catch_up(
    points: tuple[ChargePoint, ChargePoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway that stops (or fails) between storing and applying: the messages it
    acknowledged are on disk, and the periodic catch-up applies them."""
    cp16, _ = points
    number = start_16(cp16, START)
    stored_at = START + 10 * MINUTE
    store(incoming(cp16, meter_16(number, stored_at, 2_500), stored_at))
    transaction = ChargerTransaction.objects.get(charge_point=cp16)
    assert transaction.session is not None
    assert transaction.session.kwh == 0
    assert TransactionEvent.objects.filter(applied=False).count() == 1

    # Too soon: the gateway's applier may be at it still.
    received = stored_at + SECOND
    monkeypatch.setattr("chargers.transaction_tasks.now", lambda: received + 5 * SECOND)
    check_transactions()
    assert TransactionEvent.objects.filter(applied=False).count() == 1

    catch_up = transactions.CATCH_UP_SECONDS
    monkeypatch.setattr("chargers.transaction_tasks.now", lambda: received + catch_up * SECOND)
    check_transactions()

    transaction.refresh_from_db()
    assert not TransactionEvent.objects.filter(applied=False).exists()
    assert transaction.session is not None
    assert transaction.session.kwh == Decimal("2.5")
    assert transaction.meter_last_at == stored_at


def test_repeats_within_one_batch_are_stored_once(points: tuple[ChargePoint, ChargePoint]) -> None:
    """The same 1.6 MeterValues twice, the same 2.0.1 seqNo twice (the second with other
    content): one event each, by the unique constraints; both CALLs acknowledged."""
    cp16, cp201 = points
    number = start_16(cp16, START)
    started_201(cp201, START)
    at = START + 10 * MINUTE
    repeated = meter_16(number, at, 2_000)
    first_201 = updated_201(1, at, 1_500)
    again_201 = updated_201(1, at + MINUTE, 9_999)

    touched = store(
        incoming(cp16, repeated, at),
        incoming(cp201, first_201, at),
        incoming(cp16, dict(repeated), at + SECOND),
        incoming(cp201, again_201, at + SECOND),
    )
    transactions.apply_stored(sorted(touched), at + MINUTE)
    # And once more in a later batch: stored already.
    touched = store(incoming(cp16, dict(repeated), at + MINUTE))
    transactions.apply_stored(sorted(touched), at + 2 * MINUTE)

    transaction16 = ChargerTransaction.objects.get(charge_point=cp16)
    transaction201 = ChargerTransaction.objects.get(charge_point=cp201)
    assert transaction16.events.filter(kind="MeterValues").count() == 1
    assert list(transaction201.events.filter(kind="Updated").values_list("seq_no", flat=True)) == [
        1
    ]
    assert transaction16.session is not None
    assert transaction16.session.kwh == Decimal(2)
    assert transaction201.session is not None
    assert transaction201.session.kwh == Decimal("1.5")


def test_values_of_a_transaction_we_never_started_are_acknowledged_not_kept(
    points: tuple[ChargePoint, ChargePoint],
) -> None:
    cp16, _ = points
    touched = store(incoming(cp16, meter_16(424242, START, 100), START))

    assert touched == set()
    assert not TransactionEvent.objects.exists()


def test_a_stop_applies_the_values_stored_before_it(
    points: tuple[ChargePoint, ChargePoint],
) -> None:
    """StopTransaction and Ended right after values stored and not applied yet: the CDRs
    count them, in the charge point's time order."""
    cp16, cp201 = points
    number = start_16(cp16, START)
    started_201(cp201, START)
    store(
        incoming(cp16, meter_16(number, START + 20 * MINUTE, 4_000), START + 20 * MINUTE),
        incoming(cp16, meter_16(number, START + 10 * MINUTE, 2_000), START + 20 * MINUTE),
        incoming(cp201, updated_201(1, START + 10 * MINUTE, 3_000), START + 10 * MINUTE),
    )

    stop_16(cp16, number, START + 30 * MINUTE, 6_000)
    ended_201(cp201, 2, START + 30 * MINUTE, 3_000)

    assert not TransactionEvent.objects.filter(applied=False).exists()
    transaction16 = ChargerTransaction.objects.get(charge_point=cp16)
    transaction201 = ChargerTransaction.objects.get(charge_point=cp201)
    assert session_figures(transaction16)[4] == Decimal(6)
    figures201 = session_figures(transaction201)
    assert figures201[1] == figures201[4] == Decimal(3)
