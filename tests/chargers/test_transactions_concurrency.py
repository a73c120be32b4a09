"""The same charge point through two gateway processes at once (a reconnect): one transaction
for one StartTransaction, and every TransactionEvent applied once, under the transaction's
row lock. They race for real on PostgreSQL; SQLite takes one writer at a time, so there they
check the same outcome without the race."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from chargers.models import ChargePoint, ChargerTransaction, TransactionEvent
from sessions.models import Session
from tests.chargers.transactions_setup import (
    MINUTE,
    START,
    TOKEN_UID,
    call,
    charge_point,
    emsp,
    estate,
    meter_value_201,
    session_of,
    stamp,
    token,
    transaction_event,
)

pytestmark = pytest.mark.django_db(transaction=True)

SECOND = timedelta(seconds=1)


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run `calls` in threads of their own (each its own database connection), together."""
    gate = threading.Barrier(len(calls))

    def run(job: Callable[[], Any]) -> Any:
        gate.wait()
        try:
            return job()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def setup(identity: str, version: str) -> ChargePoint:
    estate()
    emsp()
    token()
    return charge_point(identity, version)


def test_one_start_through_two_gateways_at_once_is_one_transaction() -> None:
    point = setup("CP16", "1.6")
    payload = {"connectorId": 1, "idTag": TOKEN_UID, "meterStart": 0, "timestamp": stamp(START)}

    def send() -> Any:
        return call(point, "StartTransaction", payload, START + SECOND)

    first, second = at_once(send, send)

    assert first == second
    assert ChargerTransaction.objects.count() == 1
    assert Session.objects.count() == 1


def test_events_of_one_transaction_at_once_are_each_applied_once() -> None:
    point = setup("CP201", "2.0.1")
    begin = meter_value_201(START, 1_000, context="Transaction.Begin")
    started = transaction_event(
        "Started",
        0,
        START,
        trigger="Authorized",
        id_token=TOKEN_UID,
        evse=1,
        charging_state="Charging",
        meter=[begin],
    )
    call(point, "TransactionEvent", started, START + SECOND)
    updates = [
        transaction_event(
            "Updated",
            n,
            START + n * MINUTE,
            meter=[meter_value_201(START + n * MINUTE, 1_000 + n * 100)],
        )
        for n in range(1, 5)
    ]

    def sender(payload: dict[str, Any]) -> Callable[[], Any]:
        return lambda: call(point, "TransactionEvent", payload, START + 10 * MINUTE)

    at_once(*(sender(update) for update in updates), *(sender(update) for update in updates))

    running = ChargerTransaction.objects.get()
    assert TransactionEvent.objects.filter(applied=True).count() == 5
    assert (running.last_seq_no, session_of(running).kwh) == (4, Decimal("0.4"))
