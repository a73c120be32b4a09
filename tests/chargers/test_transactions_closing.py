"""Never open forever: a transaction open at its charge point's boot is closed after the grace
period, one nothing was heard about is closed when stale, each at its last reading, with its
CDR; a Stop that comes after that is acknowledged and kept, and the CDR stands."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings

from cdrs.models import Cdr
from chargers import transactions
from chargers.models import ChargePoint, ChargerTransaction
from chargers.transaction_tasks import check_transactions
from config.celery import app as celery_app
from tests.chargers.transactions_setup import (
    MINUTE,
    START,
    TOKEN_UID,
    call,
    cdr_of,
    charge_point,
    emsp,
    estate,
    meter_value_16,
    meter_value_201,
    session_of,
    stamp,
    start_16_payload,
    token,
    transaction_event,
)

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)
METER_START = 20_000
GRACE = timedelta(seconds=900)


@pytest.fixture(autouse=True)
def _estate(settings: Any) -> None:
    settings.OCPP_TRANSACTION_REBOOT_GRACE_SECONDS = 900
    settings.OCPP_TRANSACTION_STALE_SECONDS = 6 * 3600
    estate()
    emsp()
    token()


def charging_16(point: ChargePoint) -> ChargerTransaction:
    """A 1.6 transaction from START, metered 3 kWh at START + 10 minutes."""
    payload = start_16_payload(START, METER_START)
    number = call(point, "StartTransaction", payload, START + SECOND)["transactionId"]
    values = {"connectorId": 1, "transactionId": number}
    values["meterValue"] = [meter_value_16(START + 10 * MINUTE, METER_START + 3_000)]
    call(point, "MeterValues", values, START + 10 * MINUTE + SECOND)
    return ChargerTransaction.objects.get(transaction_id=str(number))


def stop_16(point: ChargePoint, number: str, meter_stop: int, at: datetime) -> Any:
    payload = {"transactionId": int(number), "meterStop": meter_stop, "timestamp": stamp(at)}
    return call(point, "StopTransaction", payload, at + SECOND)


def test_a_reboot_closes_the_transaction_after_the_grace_period_with_a_cdr() -> None:
    point = charge_point("CP16", "1.6")
    running = charging_16(point)
    booted = START + 15 * MINUTE
    transactions.after_boot(point, booted)

    assert transactions.close_abandoned(booted + GRACE - SECOND) == []
    assert transactions.close_abandoned(booted + GRACE) == [running.pk]

    running.refresh_from_db()
    session = session_of(running)
    assert (running.stop_reason, running.ended_at) == ("Reboot", START + 10 * MINUTE)
    assert (session.status, session.end_date_time, session.kwh) == (
        "COMPLETED",
        START + 10 * MINUTE,
        Decimal(3),
    )
    assert cdr_of(session).total_energy == Decimal(3)
    assert transactions.close_abandoned(booted + 2 * GRACE) == []


def test_a_stop_after_the_close_is_acknowledged_and_kept_the_cdr_stands() -> None:
    point = charge_point("CP16", "1.6")
    running = charging_16(point)
    transactions.after_boot(point, START + 15 * MINUTE)
    transactions.close_abandoned(START + 15 * MINUTE + GRACE)

    answer = stop_16(point, running.transaction_id, METER_START + 4_000, START + 20 * MINUTE)

    running.refresh_from_db()
    assert answer == {}
    assert running.state["late_end"] == {
        "at": (START + 20 * MINUTE).isoformat(),
        "meter_wh": "24000",
    }
    assert "the CDR stands" in running.state["warnings"][-1]
    assert (session_of(running).kwh, Cdr.objects.count()) == (Decimal(3), 1)


def test_the_queued_stop_after_a_reboot_ends_it_as_usual() -> None:
    point = charge_point("CP16", "1.6")
    running = charging_16(point)
    booted = START + 15 * MINUTE
    transactions.after_boot(point, booted)

    stop_16(point, running.transaction_id, METER_START + 3_500, START + 12 * MINUTE)

    running.refresh_from_db()
    assert (running.stop_reason, session_of(running).kwh) == ("Local", Decimal("3.5"))
    assert transactions.close_abandoned(booted + GRACE) == []


def test_a_transaction_that_goes_on_after_the_boot_stays_open() -> None:
    point = charge_point("CP201", "2.0.1")
    begin = meter_value_201(START, METER_START, context="Transaction.Begin")
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
    booted = START + 5 * MINUTE
    transactions.after_boot(point, booted)
    resumed = transaction_event(
        "Updated", 1, booted + MINUTE, meter=[meter_value_201(booted + MINUTE, METER_START + 900)]
    )
    call(point, "TransactionEvent", resumed, booted + MINUTE + SECOND)

    assert transactions.close_abandoned(booted + GRACE) == []
    running = ChargerTransaction.objects.get()
    assert (running.rebooted_at, running.ended_at) == (None, None)


@pytest.mark.parametrize(("gateway", "reason"), [("", "ChargePointLost"), ("gw-1", "Stale")])
def test_a_transaction_nothing_is_heard_of_is_closed_when_stale(gateway: str, reason: str) -> None:
    point = charge_point("CP16", "1.6")
    ChargePoint.objects.filter(pk=point.pk).update(gateway=gateway)
    running = charging_16(point)
    heard = START + 10 * MINUTE + SECOND

    assert transactions.close_abandoned(heard + timedelta(hours=6) - SECOND) == []
    assert transactions.close_abandoned(heard + timedelta(hours=6)) == [running.pk]

    running.refresh_from_db()
    assert (running.stop_reason, session_of(running).status) == (reason, "COMPLETED")
    assert cdr_of(session_of(running)).total_energy == Decimal(3)


def test_beat_runs_the_check_that_closes_what_a_reboot_left_open() -> None:
    point = charge_point("CP16", "1.6")
    running = charging_16(point)
    transactions.after_boot(point, START + 15 * MINUTE)
    transactions.after_boot(point, START + 40 * MINUTE)  # booted again: the first boot counts

    check_transactions()  # now: long after the grace period

    running.refresh_from_db()
    assert (running.rebooted_at, running.stop_reason) == (START + 15 * MINUTE, "Reboot")
    assert cdr_of(session_of(running)).total_energy == Decimal(3)
    entry = django_settings.CELERY_BEAT_SCHEDULE["ocpp-transactions-check"]
    assert entry == {"task": "chargers.check_transactions", "schedule": 60.0}
    assert "chargers.check_transactions" in celery_app.tasks
