"""The operator's remote control of a charge point (chargers.admin_remote): remote start for
a token of the cache, remote stop of an open transaction, unlock; the calls and their answers
listed. The calls are stored as they would be sent (no gateway holds a connection here)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from chargers.gateway.outgoing import _finish
from chargers.models import CallState, ChargePoint, ChargePointCall, RemoteStart
from sessions.models import Session
from tests.admin_pages import messages_of, page_text
from tests.chargers import transactions_setup as tx

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture(autouse=True)
def _estate() -> None:
    tx.estate()
    tx.emsp()


def online(version: str = "1.6") -> ChargePoint:
    point = tx.charge_point("CP-R", version)
    ChargePoint.objects.filter(pk=point.pk).update(connected_version=version, gateway="gw-1")
    return ChargePoint.objects.get(pk=point.pk)


def page(point: ChargePoint) -> str:
    return f"/admin/chargers/chargepoint/{point.pk}/remote/"


def do(operator: Client, point: ChargePoint, which: str, **fields: Any) -> Any:
    data = {"do": which, **{f"{which}-{name}": value for name, value in fields.items()}}
    return operator.post(page(point), data, follow=True)


def test_the_charge_points_page_links_to_its_remote_control(operator: Client) -> None:
    point = online()

    text = operator.get(f"/admin/chargers/chargepoint/{point.pk}/change/").content.decode()

    assert page(point) in text


def test_a_remote_start_for_a_cached_token_is_a_remote_start_like_an_emsps(
    operator: Client,
) -> None:
    point = online()
    tx.token("TOKEN1")

    response = do(operator, point, "start", evse=2, uid="TOKEN1", type="RFID")

    assert messages_of(response) == ["RemoteStartTransaction sent: reload for the answer."]
    call = ChargePointCall.objects.get()
    assert call.payload == {"idTag": "TOKEN1", "connectorId": 2}
    assert RemoteStart.objects.get().call == call
    _finish(
        str(call.pk), CallState.PENDING, state=CallState.ANSWERED, response={"status": "Accepted"}
    )
    assert "Accepted" in page_text(operator.get(page(point)))
    assert RemoteStart.objects.get().outcome == "STARTED"
    tx.call(
        point,
        "StartTransaction",
        {
            "connectorId": 2,
            "idTag": "TOKEN1",
            "meterStart": 0,
            "timestamp": tx.stamp(datetime.now(UTC)),
        },
    )
    session = Session.objects.get()
    assert (session.token_uid, session.auth_method, session.evse.uid if session.evse else None) == (
        "TOKEN1",
        "COMMAND",
        "3257",
    )


def test_a_token_not_in_the_cache_is_refused_and_nothing_is_sent(operator: Client) -> None:
    point = online()

    response = do(operator, point, "start", evse=1, uid="NOBODY", type="RFID")

    assert "No token of the tokens cache has this uid and type" in response.content.decode()
    assert not ChargePointCall.objects.exists()


def test_remote_stop_of_an_open_transaction_and_unlock(operator: Client) -> None:
    point = online("2.0.1")
    tx.started_201(point, "CP-TX-9")
    transaction = point.transactions.get()

    do(operator, point, "stop", transaction=transaction.pk)
    do(operator, point, "unlock", evse=2, connector=1)

    assert [(c.action, c.payload) for c in ChargePointCall.objects.order_by("created_at")] == [
        ("RequestStopTransaction", {"transactionId": "CP-TX-9"}),
        ("UnlockConnector", {"evseId": 2, "connectorId": 1}),
    ]


def test_an_offline_charge_point_is_said_so(operator: Client) -> None:
    point = online()
    ChargePoint.objects.filter(pk=point.pk).update(gateway="")

    response = do(operator, point, "unlock", evse=1, connector=1)

    assert messages_of(response) == ["Charge point CP-R is not connected"]
    assert not ChargePointCall.objects.exists()
