"""START_SESSION: checked and answered at once, RemoteStartTransaction / RequestStartTransaction
sent, the CommandResult from the charge point's answer, the transaction that follows tied to
the command (its token, its authorization_reference), and a start after TIMEOUT stopped."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from chargers import calls
from chargers.models import CallState, ChargePointCall, ChargerTransaction, RemoteStart
from commands.models import Command, CommandState
from sessions.models import Session
from tests.chargers import transactions_setup as tx
from tests.commands.setup import (
    APP_UID,
    RESULTS,
    answer,
    estate,
    ocpi_token,
    online,
    post,
    results,
    start_session,
    the_command,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

RESULT_URL = f"{RESULTS}/START_SESSION/1"


@pytest.fixture(autouse=True)
def _estate() -> None:
    estate()


def start_transaction_16(point, id_tag: str = APP_UID, connector: int = 1) -> dict:
    return tx.call(
        point,
        "StartTransaction",
        {
            "connectorId": connector,
            "idTag": id_tag,
            "meterStart": 1000,
            "timestamp": tx.stamp(datetime.now(UTC)),
        },
    )


def test_a_16_start_is_sent_answered_and_its_transaction_gets_the_commands_session() -> None:
    point = online("CP16", "1.6")

    response = post("START_SESSION", start_session())

    assert response.status_code == 200
    assert response.json()["status_code"] == 1000
    assert response.json()["data"] == {"result": "ACCEPTED", "timeout": 60}
    call = ChargePointCall.objects.get()
    assert (call.action, call.payload) == (
        "RemoteStartTransaction",
        {"idTag": APP_UID, "connectorId": 1},
    )
    assert call.deadline - call.created_at == timedelta(seconds=40)
    assert results(RESULT_URL) == []

    answer(call, response={"status": "Accepted"})

    assert results(RESULT_URL) == [
        {
            "result": "ACCEPTED",
            "message": [{"language": "en", "text": "The charge point answered Accepted"}],
        }
    ]
    assert the_command().state == CommandState.DONE

    # The charge point starts without asking (the eMSP authorized the token): Accepted.
    answered = start_transaction_16(point)
    assert answered["idTagInfo"]["status"] == "Accepted"
    session = Session.objects.get()
    assert (session.token_uid, session.token_type, session.auth_method) == (
        APP_UID,
        "APP_USER",
        "COMMAND",
    )
    assert (session.token_country_code, session.token_party_id) == ("DE", "TNM")
    assert session.authorization_reference == "AUTH-1"
    assert session.evse is not None
    assert session.evse.uid == "3256"
    started = RemoteStart.objects.get()
    assert started.transaction == ChargerTransaction.objects.get()


def test_a_201_start_carries_a_remote_start_id_that_ties_its_transaction() -> None:
    point = online("CP201", "2.0.1")

    post("START_SESSION", start_session(evse_uid="3257"))

    call = ChargePointCall.objects.get()
    started = RemoteStart.objects.get()
    assert call.action == "RequestStartTransaction"
    assert call.payload == {
        "idToken": {"idToken": APP_UID, "type": "Central"},
        "remoteStartId": started.pk,
        "evseId": 2,
    }
    answer(call, response={"status": "Accepted"})
    event = tx.transaction_event(
        "Started",
        0,
        datetime.now(UTC),
        trigger="RemoteStart",
        charging_state="Charging",
        evse=2,
    )
    event["transactionInfo"]["remoteStartId"] = started.pk
    event["idToken"] = {"idToken": APP_UID, "type": "Central"}

    answered = tx.call(point, "TransactionEvent", event)

    assert answered["idTokenInfo"]["status"] == "Accepted"
    session = Session.objects.get()
    assert session.evse is not None
    assert (session.token_uid, session.authorization_reference, session.evse.uid) == (
        APP_UID,
        "AUTH-1",
        "3257",
    )
    assert RemoteStart.objects.get().transaction is not None


def test_a_transaction_that_starts_before_the_answer_makes_the_result_accepted_anyway() -> None:
    """The eMSP is never told TIMEOUT for a session it then receives."""
    point = online("CP16", "1.6")
    post("START_SESSION", start_session())
    call = ChargePointCall.objects.get()

    start_transaction_16(point)
    calls.expire_overdue(timezone.now() + timedelta(minutes=5))

    assert ChargePointCall.objects.get(pk=call.pk).state == CallState.TIMED_OUT
    assert [r["result"] for r in results(RESULT_URL)] == ["ACCEPTED"]
    assert Session.objects.get().status == "ACTIVE"
    command = Command.objects.get()
    assert command.session == Session.objects.get()


def test_a_start_after_the_emsp_was_told_timeout_is_stopped_and_gets_no_session() -> None:
    """ocpi/ocpi#475: the charge point got the call just before its deadline."""
    point = online("CP16", "1.6")
    post("START_SESSION", start_session())
    call = ChargePointCall.objects.get()
    calls.expire_overdue(timezone.now() + timedelta(minutes=5))
    assert [r["result"] for r in results(RESULT_URL)] == ["TIMEOUT"]

    answered = start_transaction_16(point)

    # The token's authorization by the command was withdrawn: the charge point is told so.
    assert answered["idTagInfo"]["status"] != "Accepted"
    assert not Session.objects.exists()
    transaction = ChargerTransaction.objects.get()
    assert "ocpi/ocpi#475" in transaction.state["late_start"]
    stop = ChargePointCall.objects.exclude(pk=call.pk).get()
    assert (stop.action, stop.payload) == (
        "RemoteStopTransaction",
        {"transactionId": int(transaction.transaction_id)},
    )
    assert RemoteStart.objects.get().late_stop == stop
    # Nothing more for the eMSP: it was told TIMEOUT once.
    assert len(results(RESULT_URL)) == 1


def test_a_201_start_after_timeout_is_stopped_by_its_own_transaction_id() -> None:
    point = online("CP201", "2.0.1")
    post("START_SESSION", start_session())
    started = RemoteStart.objects.get()
    calls.expire_overdue(timezone.now() + timedelta(minutes=5))
    event = tx.transaction_event(
        "Started",
        0,
        datetime.now(UTC),
        trigger="RemoteStart",
        charging_state="Charging",
        evse=1,
        transaction_id="CP-OWN-7",
    )
    event["transactionInfo"]["remoteStartId"] = started.pk
    event["idToken"] = {"idToken": APP_UID, "type": "Central"}

    tx.call(point, "TransactionEvent", event)

    assert not Session.objects.exists()
    stop = ChargePointCall.objects.get(action="RequestStopTransaction")
    assert stop.payload == {"transactionId": "CP-OWN-7"}


def test_a_drivers_own_tap_after_a_refused_start_is_the_drivers() -> None:
    """mod_commands: the driver may use the RFID at the charge point instead of the app."""
    point = online("CP16", "1.6")
    tx.token("RFID-1")  # DE*TNM's RFID in our cache, allowed
    post("START_SESSION", start_session(token=ocpi_token("RFID-1", type="RFID")))
    call = ChargePointCall.objects.get()
    answer(call, response={"status": "Rejected"})
    assert [r["result"] for r in results(RESULT_URL)] == ["REJECTED"]

    assert tx.call(point, "Authorize", {"idTag": "RFID-1"})["idTagInfo"]["status"] == "Accepted"
    start_transaction_16(point, "RFID-1")

    session = Session.objects.get()
    assert session.auth_method == "WHITELIST"
    assert ChargePointCall.objects.count() == 1  # nothing stopped


@pytest.mark.parametrize(
    ("ending", "result"),
    [
        ({"response": {"status": "Rejected"}}, "REJECTED"),
        ({"state": CallState.FAILED, "error_code": "NotImplemented"}, "NOT_SUPPORTED"),
        ({"state": CallState.FAILED, "error_code": "InternalError"}, "FAILED"),
    ],
)
def test_what_the_charge_point_answers_becomes_the_result(ending: dict, result: str) -> None:
    online("CP16", "1.6")
    post("START_SESSION", start_session())

    answer(ChargePointCall.objects.get(), **ending)

    assert [r["result"] for r in results(RESULT_URL)] == [result]


def test_without_an_evse_the_charge_point_of_the_location_chooses() -> None:
    online("CP16", "1.6")

    response = post("START_SESSION", start_session(evse_uid=None))

    assert response.json()["data"]["result"] == "ACCEPTED"
    assert ChargePointCall.objects.get().payload == {"idTag": APP_UID}


def test_the_same_command_again_gets_the_same_answer_and_starts_nothing_twice() -> None:
    online("CP16", "1.6")

    first = post("START_SESSION", start_session())
    again = post("START_SESSION", start_session())

    assert again.json()["data"] == first.json()["data"]
    assert ChargePointCall.objects.count() == 1
    assert Command.objects.count() == 1
    # Another response_url is another command.
    post("START_SESSION", start_session(2))
    assert Command.objects.count() == 2


def test_an_offline_charge_point_is_told_at_once_as_timeout_and_nothing_is_left_to_start() -> None:
    point = online("CP16", "1.6")
    point.__class__.objects.filter(pk=point.pk).update(gateway="")

    response = post("START_SESSION", start_session())

    assert response.json()["data"]["result"] == "ACCEPTED"
    assert [r["result"] for r in results(RESULT_URL)] == ["TIMEOUT"]
    assert "offline" in results(RESULT_URL)[0]["message"][0]["text"]
    assert not ChargePointCall.objects.exists()
    assert not RemoteStart.objects.exists()
