"""Meter values through a running gateway (chargers.gateway.meters): answered once stored,
applied by the gateway's applier soon after; a transaction deleted while the gateway knew it
still gets its values answered."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chargers.models import ChargePointEvse, ChargerTransaction, TransactionEvent
from locations.models import EVSE
from tests.chargers.gatewayrunner import RunningGateway, call, charge_point, connect_as, eventually
from tests.chargers.transactions_setup import (
    emsp,
    estate,
    meter_value_16,
    start_16_payload,
    token,
)

pytestmark = pytest.mark.django_db(transaction=True)

METER_START = 1_000_000


def estate_with_charge_point() -> None:
    """The estate, a token of its eMSP, and charge point CPM on EVSE 3256."""
    estate()
    emsp()
    token()
    point = charge_point("CPM")
    ChargePointEvse.objects.create(
        charge_point=point, ocpp_evse_id=1, evse=EVSE.objects.get(uid="3256")
    )


@pytest.fixture
def gateway() -> Iterator[RunningGateway]:
    estate_with_charge_point()
    with RunningGateway("gw-meters") as running:
        yield running


def start(websocket: Any, began: datetime) -> int:
    """StartTransaction on connector 1 at `began`: its transactionId."""
    payload = start_16_payload(began, METER_START)
    number: int = call(websocket, "s", "StartTransaction", payload)[2]["transactionId"]
    return number


def meter_values(number: int, at: datetime, wh: int) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "transactionId": number,
        "meterValue": [meter_value_16(at, METER_START + wh, power_w=11_000)],
    }


def session_kwh() -> Decimal | None:
    transaction = ChargerTransaction.objects.select_related("session").get()
    return transaction.session.kwh if transaction.session else None


def test_values_are_answered_once_stored_and_applied_soon_after(gateway: RunningGateway) -> None:
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    with connect_as(gateway.url("CPM")) as websocket:
        number = start(websocket, began)
        answers = [
            call(websocket, f"m{minute}", "MeterValues", meter_values(number, at, wh))
            for minute, wh in ((10, 1_000), (20, 2_500))
            for at in [began + timedelta(minutes=minute)]
        ]
        stored = TransactionEvent.objects.filter(kind="MeterValues").count()
        kwh = eventually(lambda: session_kwh() == Decimal("2.5") and session_kwh())

    assert answers == [[3, "m10", {}], [3, "m20", {}]]
    assert stored == 2  # on disk when answered
    assert kwh == Decimal("2.5")
    assert not TransactionEvent.objects.filter(applied=False).exists()


def test_values_of_a_transaction_deleted_meanwhile_are_still_answered(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    with connect_as(gateway.url("CPM")) as websocket:
        number = start(websocket, began)
        first = call(websocket, "m1", "MeterValues", meter_values(number, began, 500))
        ChargerTransaction.objects.all().delete()  # the gateway knows its pk still
        second = call(
            websocket, "m2", "MeterValues", meter_values(number, began + timedelta(minutes=5), 900)
        )

    assert first == [3, "m1", {}]
    assert second == [3, "m2", {}]
    assert "together failed: one by one" in caplog.text  # then answered as dispatch does
    assert not TransactionEvent.objects.exists()


def test_values_deferred_to_the_progress_are_applied_when_the_gateway_stops(
    settings: Any,
) -> None:
    """Progress every 5 minutes (the default): a sample one minute into the session waits for
    the next PATCH; the gateway stopping applies it rather than leave it to the catch-up."""
    settings.OCPP_SESSION_PROGRESS_SECONDS = 300
    estate_with_charge_point()
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    with RunningGateway("gw-meters") as running, connect_as(running.url("CPM")) as websocket:
        number = start(websocket, began)
        answer = call(
            websocket, "m1", "MeterValues", meter_values(number, began + timedelta(minutes=1), 800)
        )
        waiting = TransactionEvent.objects.filter(applied=False).count()

    transaction = ChargerTransaction.objects.get()
    assert answer == [3, "m1", {}]
    assert waiting == 1  # stored, answered, not applied
    assert not TransactionEvent.objects.filter(applied=False).exists()
    assert transaction.meter_last_wh == METER_START + 800
