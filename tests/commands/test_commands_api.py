"""The commands Receiver: bad input, the eMSP's own objects only, STOP_SESSION, UNLOCK_CONNECTOR,
and what is not supported; nothing reaches a charge point unless the command is sound."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from chargers import reservations
from chargers.models import CallState, ChargePointCall, ChargePointEvse, Reservation, ReservationEnd
from commands.models import Command
from ocpi.endpoints import registered
from sessions.models import Session
from tests.chargers import transactions_setup as tx
from tests.commands.setup import (
    APP_UID,
    EMSP_A_TOKEN,
    EMSP_B_TOKEN,
    RESULTS,
    URL,
    answer,
    estate,
    ocpi_token,
    online,
    post,
    results,
    start_session,
)
from tests.conftest import client_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture(autouse=True)
def _estate() -> None:
    estate()


def nothing_happened() -> None:
    assert not ChargePointCall.objects.exists()
    assert not Command.objects.exists()


def refused(response, status: int, code: int) -> str:
    assert (response.status_code, response.json()["status_code"]) == (status, code)
    return response.json().get("status_message", "")


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"response_url": f"{RESULTS}/1"},  # no token, no location
        start_session(token={"uid": APP_UID}),  # not a Token
        start_session(response_url="not a url"),
        start_session(evse_uid=None, connector_id="1"),  # a connector needs its EVSE
    ],
)
def test_a_body_that_is_not_the_commands_object_is_2001_with_http_400(body) -> None:
    online("CP16", "1.6")

    refused(post("START_SESSION", body), 400, 2001)

    nothing_happened()


def test_a_response_url_on_a_private_address_is_refused_when_those_are_not_allowed(
    settings,
) -> None:
    online("CP16", "1.6")
    settings.OCPI_ALLOW_PRIVATE_URLS = False

    message = refused(
        post("START_SESSION", start_session(response_url="http://10.1.2.3/results/1")), 400, 2001
    )

    assert "response_url refused" in message
    assert "private or reserved" in message
    nothing_happened()


def test_an_unknown_command_is_not_found_and_other_methods_are_not_allowed() -> None:
    refused(post("START_CHARGING", start_session()), 404, 2000)
    assert client_for(EMSP_A_TOKEN).get(f"{URL}/START_SESSION").status_code == 405
    nothing_happened()


def test_the_module_is_in_our_version_details() -> None:
    assert ("commands", "RECEIVER", "/ocpi/cpo/2.2.1/commands") in [
        (e.identifier, e.role, e.path) for e in registered()
    ]


# --- where: unknown, not ours, not controllable -----------------------------------------------


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"location_id": "NOWHERE"}, "Unknown location NOWHERE"),
        ({"evse_uid": "9999"}, "Unknown EVSE 9999"),
        ({"connector_id": "7"}, "Unknown connector 7 of EVSE 3256"),
    ],
)
def test_an_unknown_location_evse_or_connector_is_rejected_with_2003(fields, text) -> None:
    online("CP16", "1.6")

    response = post("START_SESSION", start_session(**fields))

    assert response.json()["status_code"] == 2003
    data = response.json()["data"]
    assert (data["result"], data["message"][0]["text"]) == ("REJECTED", text)
    assert not ChargePointCall.objects.exists()


def test_a_token_of_another_emsp_is_rejected_and_nothing_is_stored() -> None:
    online("CP16", "1.6")

    response = post("START_SESSION", start_session(token=ocpi_token(party=("NL", "OTH"))))

    assert response.json()["data"]["result"] == "REJECTED"
    nothing_happened()


def test_an_evse_on_no_charge_point_of_ours_is_not_supported() -> None:
    online("CP16", "1.6")
    ChargePointEvse.objects.filter(evse__uid="3256").delete()

    response = post("START_SESSION", start_session())

    assert response.json()["data"]["result"] == "NOT_SUPPORTED"
    assert not ChargePointCall.objects.exists()


@pytest.mark.parametrize(
    ("status", "result"), [("CHARGING", "EVSE_OCCUPIED"), ("OUTOFORDER", "EVSE_INOPERATIVE")]
)
def test_an_evse_that_cannot_start_now_is_reported_without_a_call(status, result) -> None:
    online("CP16", "1.6")
    tx.EVSE.objects.filter(uid="3256").update(status=status)

    response = post("START_SESSION", start_session())

    assert response.json()["data"]["result"] == "ACCEPTED"
    assert [r["result"] for r in results(f"{RESULTS}/START_SESSION/1")] == [result]
    assert not ChargePointCall.objects.exists()


# --- STOP_SESSION -----------------------------------------------------------------------------


def running_session(point, id_tag: str = "TOKEN1") -> Session:
    tx.token(id_tag)
    tx.call(
        point,
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": id_tag,
            "meterStart": 0,
            "timestamp": tx.stamp(datetime.now(UTC)),
        },
    )
    return Session.objects.get()


def stop(session_id: str, token: str = EMSP_A_TOKEN, n: int = 1):
    return post(
        "STOP_SESSION",
        {"response_url": f"{RESULTS}/STOP_SESSION/{n}", "session_id": session_id},
        token,
    )


@pytest.mark.parametrize(("version", "payload"), [("1.6", "int"), ("2.0.1", "str")])
def test_stop_session_stops_the_emsps_own_transaction(version, payload) -> None:
    point = online("CP", version)
    if version == "1.6":
        session = running_session(point)
    else:
        tx.started_201(point, "CP-TX-1")
        session = Session.objects.get()
    transaction = session.charger_transaction

    response = stop(session.ocpi_id)

    assert response.json()["data"]["result"] == "ACCEPTED"
    call = ChargePointCall.objects.get()
    expected = int(transaction.transaction_id) if payload == "int" else transaction.transaction_id
    assert call.payload == {"transactionId": expected}
    assert call.action == (
        "RemoteStopTransaction" if version == "1.6" else "RequestStopTransaction"
    )
    answer(call, response={"status": "Accepted"})
    assert [r["result"] for r in results(f"{RESULTS}/STOP_SESSION/1")] == ["ACCEPTED"]
    assert Command.objects.get().session == session


def test_stop_session_of_another_emsps_session_is_unknown_and_sends_nothing() -> None:
    point = online("CP16", "1.6")
    session = running_session(point)

    response = stop(session.ocpi_id, EMSP_B_TOKEN)

    assert response.json()["data"]["result"] == "UNKNOWN_SESSION"
    assert not ChargePointCall.objects.exists()
    assert results(f"{RESULTS}/STOP_SESSION/1") == []


def test_stop_session_of_an_unknown_or_ended_session() -> None:
    point = online("CP16", "1.6")
    session = running_session(point)
    Session.objects.filter(pk=session.pk).update(status="COMPLETED")

    assert stop("NO-SUCH-SESSION").json()["data"]["result"] == "UNKNOWN_SESSION"
    assert stop(session.ocpi_id, n=2).json()["data"]["result"] == "REJECTED"
    assert not ChargePointCall.objects.exists()


# --- UNLOCK_CONNECTOR ---------------------------------------------------------------------------


def unlock(evse_uid: str = "3256", connector_id: str = "2", n: int = 1):
    return post(
        "UNLOCK_CONNECTOR",
        {
            "response_url": f"{RESULTS}/UNLOCK_CONNECTOR/{n}",
            "location_id": "LOC1",
            "evse_uid": evse_uid,
            "connector_id": connector_id,
        },
    )


@pytest.mark.parametrize(
    ("version", "payload"),
    [("1.6", {"connectorId": 1}), ("2.0.1", {"evseId": 1, "connectorId": 2})],
)
def test_unlock_names_the_connector_in_the_charge_points_version(version, payload) -> None:
    online("CP", version)

    assert unlock().json()["data"]["result"] == "ACCEPTED"

    call = ChargePointCall.objects.get()
    assert (call.action, call.payload) == ("UnlockConnector", payload)


@pytest.mark.parametrize(
    ("ending", "result"),
    [
        ({"response": {"status": "Unlocked"}}, "ACCEPTED"),
        ({"response": {"status": "UnlockFailed"}}, "FAILED"),
        ({"response": {"status": "NotSupported"}}, "NOT_SUPPORTED"),
        ({"response": {"status": "OngoingAuthorizedTransaction"}}, "REJECTED"),
        ({"state": CallState.TIMED_OUT}, "TIMEOUT"),
    ],
)
def test_unlock_results(ending, result) -> None:
    online("CP16", "1.6")
    unlock()

    answer(ChargePointCall.objects.get(), **ending)

    assert [r["result"] for r in results(f"{RESULTS}/UNLOCK_CONNECTOR/1")] == [result]


def test_unlock_of_an_unknown_connector_is_rejected() -> None:
    online("CP16", "1.6")

    response = unlock(connector_id="9")

    assert (response.json()["status_code"], response.json()["data"]["result"]) == (2003, "REJECTED")
    assert not ChargePointCall.objects.exists()


# --- RESERVE_NOW and CANCEL_RESERVATION -------------------------------------------------------


def reserve(n: int = 1, reservation_id: str = "R-1", minutes: int = 30, **fields):
    body = {
        "response_url": f"{RESULTS}/RESERVE_NOW/{n}",
        "token": ocpi_token(),
        "expiry_date": (timezone.now() + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reservation_id": reservation_id,
        "location_id": "LOC1",
        "evse_uid": "3256",
    }
    body.update(fields)
    return post("RESERVE_NOW", body)


def cancel(reservation_id: str = "R-1", token: str = EMSP_A_TOKEN, n: int = 1):
    body = {"response_url": f"{RESULTS}/CANCEL/{n}", "reservation_id": reservation_id}
    return post("CANCEL_RESERVATION", body, token)


def test_reserve_now_reserves_under_our_own_id_and_reports_the_answer() -> None:
    online("CP16", "1.6")

    assert reserve(reservation_id="R-1").json()["data"]["result"] == "ACCEPTED"

    call = ChargePointCall.objects.get()
    reservation = Reservation.objects.get()
    assert call.action == "ReserveNow"
    assert call.payload["reservationId"] == reservation.ocpp_id
    assert (call.payload["idTag"], call.payload["connectorId"]) == (APP_UID, 1)
    answer(call, response={"status": "Accepted"})
    assert [r["result"] for r in results(f"{RESULTS}/RESERVE_NOW/1")] == ["ACCEPTED"]
    assert Session.objects.get().status == "RESERVATION"


@pytest.mark.parametrize(
    ("status", "result"),
    [("Occupied", "EVSE_OCCUPIED"), ("Faulted", "EVSE_INOPERATIVE"), ("Rejected", "REJECTED")],
)
def test_reserve_now_refused_by_the_charge_point(status, result) -> None:
    online("CP16", "1.6")
    reserve()

    answer(ChargePointCall.objects.get(), response={"status": status})

    assert [r["result"] for r in results(f"{RESULTS}/RESERVE_NOW/1")] == [result]
    assert not Session.objects.exists()


def test_reserve_now_with_an_expiry_in_the_past_is_rejected() -> None:
    online("CP16", "1.6")

    assert reserve(minutes=-5).json()["data"]["result"] == "REJECTED"
    assert not ChargePointCall.objects.exists()


def test_cancel_reservation_of_the_emsps_own_reservation() -> None:
    online("CP16", "1.6")
    reserve()
    answer(ChargePointCall.objects.get(), response={"status": "Accepted"})

    assert cancel().json()["data"]["result"] == "ACCEPTED"
    cancelling = ChargePointCall.objects.get(action="CancelReservation")
    assert cancelling.payload == {"reservationId": Reservation.objects.get().ocpp_id}
    answer(cancelling, response={"status": "Accepted"})

    assert [r["result"] for r in results(f"{RESULTS}/CANCEL/1")] == ["ACCEPTED"]
    assert Reservation.objects.get().state == "CANCELLED"
    # The eMSP's own cancellation is reported once, to its CANCEL_RESERVATION.
    assert [r["result"] for r in results(f"{RESULTS}/RESERVE_NOW/1")] == ["ACCEPTED"]


def test_cancel_reservation_of_another_emsps_or_no_reservation_is_unknown() -> None:
    online("CP16", "1.6")
    reserve()
    answer(ChargePointCall.objects.get(), response={"status": "Accepted"})

    assert cancel(token=EMSP_B_TOKEN).json()["data"]["result"] == "ACCEPTED"
    assert cancel("NO-SUCH", n=2).json()["data"]["result"] == "ACCEPTED"

    assert [r["result"] for r in results(f"{RESULTS}/CANCEL/1")] == ["UNKNOWN_RESERVATION"]
    assert [r["result"] for r in results(f"{RESULTS}/CANCEL/2")] == ["UNKNOWN_RESERVATION"]
    assert not ChargePointCall.objects.filter(action="CancelReservation").exists()
    assert Reservation.objects.get().state == "ACTIVE"


def test_a_reservation_the_operator_cancels_is_reported_canceled_reservation() -> None:
    online("CP16", "1.6")
    reserve()
    answer(ChargePointCall.objects.get(), response={"status": "Accepted"})

    assert reservations.cancel_here(Reservation.objects.get(), by=ReservationEnd.OPERATOR)

    assert [r["result"] for r in results(f"{RESULTS}/RESERVE_NOW/1")] == [
        "ACCEPTED",
        "CANCELED_RESERVATION",
    ]


def test_a_remote_start_with_the_reserved_token_uses_the_reservations_session() -> None:
    point = online("CP16", "1.6")
    reserve()
    answer(ChargePointCall.objects.get(), response={"status": "Accepted"})
    reserved = Session.objects.get()

    post("START_SESSION", start_session())
    answer(
        ChargePointCall.objects.get(action="RemoteStartTransaction"),
        response={"status": "Accepted"},
    )
    tx.call(
        point,
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": APP_UID,
            "meterStart": 0,
            "timestamp": tx.stamp(datetime.now(UTC)),
        },
    )

    session = Session.objects.get()
    assert session == reserved
    assert session.status == "ACTIVE"
    assert Reservation.objects.get().state == "USED"
