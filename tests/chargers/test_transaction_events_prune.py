"""The messages of long-ended transactions are forgotten (about one row per meter sample: at
10,000 charge points they must go); those of running and recently ended ones are kept."""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings

from chargers.models import ChargePoint, ChargerTransaction, TransactionEvent
from chargers.transaction_tasks import prune_transaction_events
from ocpi.time import now

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def transaction(charge_point: ChargePoint, number: int, ended_days_ago: int | None) -> None:
    ended = None if ended_days_ago is None else now() - ended_days_ago * DAY
    tx = ChargerTransaction.objects.create(
        charge_point=charge_point, transaction_id=str(number), ended_at=ended
    )
    for seq_no in range(3):
        TransactionEvent.objects.create(
            transaction=tx,
            seq_no=seq_no,
            kind="Updated",
            timestamp=now() - 40 * DAY,
            received_at=now() - 40 * DAY,
            digest=f"{number}-{seq_no}",
            payload={},
        )


def kept() -> dict[str, int]:
    return {
        tx.transaction_id: tx.events.count()
        for tx in ChargerTransaction.objects.order_by("transaction_id")
    }


def test_only_the_events_of_transactions_ended_before_the_cutoff_go(settings: Any) -> None:
    settings.OCPP_TRANSACTION_EVENTS_DAYS = 30
    cp = ChargePoint.objects.create(identity="CP-1")
    transaction(cp, 1, ended_days_ago=31)
    transaction(cp, 2, ended_days_ago=29)
    transaction(cp, 3, ended_days_ago=None)  # still running, however old its messages

    assert prune_transaction_events() == 3

    assert kept() == {"1": 0, "2": 3, "3": 3}


def test_zero_days_keeps_everything(settings: Any) -> None:
    settings.OCPP_TRANSACTION_EVENTS_DAYS = 0
    transaction(ChargePoint.objects.create(identity="CP-1"), 1, ended_days_ago=400)

    assert prune_transaction_events() == 0

    assert kept() == {"1": 3}


def test_beat_prunes_daily() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["ocpp-transaction-events-prune"]

    assert (entry["task"], entry["schedule"]) == ("chargers.prune_transaction_events", 86400.0)
