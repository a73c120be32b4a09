"""Reservations on the charge point side (chargers.reservations), OCPP 1.6 and 2.0.1, with
real rows and the answers played into the calls: ReserveNow/CancelReservation payloads, the
answers mapped into the reservation, the RESERVATION session and the EVSE's RESERVED status,
replacement, expiry, cancellation by the eMSP, the operator and the charge point, and a start
with the reserved token consuming it."""

from datetime import timedelta
from typing import Any

import pytest

from chargers import calls, reservations
from chargers.follow_ups import follow_up
from chargers.models import (
    CallState,
    ChargePoint,
    ChargePointCall,
    ChargerTransaction,
    Reservation,
    ReservationEnd,
    ReservationState,
)
from locations.models import EVSE, Status
from ocpi.time import now
from sessions.models import AuthMethod, Session, SessionStatus
from tests.chargers.reservations_setup import (
    APP_TOKEN,
    EMSP_A,
    EMSP_B,
    accepted,
    answer,
    command_token,
    online,
    reserve,
)
from tests.chargers.transactions_setup import call, emsp, estate, pushes, stamp
from tests.tokens.conftest import token_payload, validated

pytestmark = pytest.mark.django_db

VERSIONS = ["1.6", "2.0.1"]


@pytest.fixture(autouse=True)
def _estate() -> None:
    estate()
    emsp()


@pytest.fixture(params=VERSIONS)
def point(request: pytest.FixtureRequest) -> ChargePoint:
    return available(online(f"CP-{request.param}", request.param))


def available(point: ChargePoint) -> ChargePoint:
    """Both its connectors reported Available, as a charge point does once connected."""
    for ocpp_id in (1, 2):
        status_notification(point, ocpp_id, "Available")
    return point


def evse_status(uid: str = "3256") -> str:
    return EVSE.objects.get(uid=uid).status


def status_notification(point: ChargePoint, ocpp_id: int, status: str) -> None:
    if point.ocpp_version == "1.6":
        payload = {"connectorId": ocpp_id, "errorCode": "NoError", "status": status}
        call(point, "StatusNotification", {**payload, "timestamp": stamp(now())})
    else:
        call(
            point,
            "StatusNotification",
            {
                "timestamp": stamp(now()),
                "connectorStatus": status,
                "evseId": ocpp_id,
                "connectorId": 1,
            },
        )


# --- reserving ------------------------------------------------------------------------------


def test_reserve_now_is_sent_with_our_own_integer_id_on_1_6() -> None:
    online("CP-16", "1.6")

    row = reserve(reservation_id="emsp-res-1", authorization_reference="AUTH-9")

    assert row.call is not None
    assert row.call.action == "ReserveNow"
    assert row.call.payload == {
        "connectorId": 1,
        "expiryDate": row.call.payload["expiryDate"],
        "idTag": APP_TOKEN,
        "reservationId": row.pk,
        "parentIdTag": "DF000-2001-8999",  # the token's group_id
    }
    assert (row.ocpp_id, row.state, row.reservation_id) == (row.pk, "REQUESTED", "emsp-res-1")
    assert row.call.follow_up == reservations.FOLLOW_UP_RESERVE
    assert not Session.objects.exists()  # only an accepted reservation has a session


def test_reserve_now_is_sent_with_the_evse_and_token_type_on_2_0_1() -> None:
    online("CP-201", "2.0.1")

    row = reserve("3257", uid="CARD-7")

    assert row.call is not None
    assert row.call.payload == {
        "id": row.pk,
        "expiryDateTime": row.call.payload["expiryDateTime"],
        "idToken": {"idToken": "CARD-7", "type": "ISO14443"},
        "evseId": 2,
        "groupIdToken": {"idToken": "DF000-2001-8999", "type": "Central"},
    }
    assert (row.id_token, row.id_token_type, row.ocpp_evse_id) == ("CARD-7", "ISO14443", 2)


CALLER = "tests.reservation_result"
seen: list[tuple[int, str]] = []


@follow_up(CALLER)
def _caller_follow_up(call: ChargePointCall) -> None:
    """A caller's follow-up (the commands module's), as reservations-API.md says: the
    reservation's answer applied first, then the caller's own work."""
    reservation = reservations.answered(call)
    assert reservation is not None
    seen.append((reservation.pk, reservation.state))


def test_the_caller_s_follow_up_runs_once_the_call_ends(
    eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    online("CP-16", "1.6")
    seen.clear()

    row = reserve(follow_up=CALLER)
    assert row.call is not None
    ChargePointCall.objects.filter(pk=row.call.pk).update(deadline=now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        calls.expire_overdue(now())

    assert row.call.follow_up == CALLER
    assert seen == [(row.pk, ReservationState.FAILED)]


def test_without_a_caller_s_follow_up_ours_applies_the_end(
    eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    online("CP-16", "1.6")
    row = reserve()
    assert row.call is not None
    ChargePointCall.objects.filter(pk=row.call.pk).update(deadline=now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        calls.expire_overdue(now())

    row.refresh_from_db()
    assert (row.state, row.answer) == (ReservationState.FAILED, "no answer in time")


def test_the_token_is_kept_as_the_commands_module_validated_it() -> None:
    online("CP-16", "1.6")
    token = validated(token_payload(APP_TOKEN))  # last_updated a datetime, energy_contract …

    row = reservations.reserve(
        evse=EVSE.objects.get(uid="3256"),
        token=token,
        reservation_id="R",
        party=EMSP_A,
        expiry_date=now() + timedelta(minutes=5),
    )

    row.refresh_from_db()
    assert row.token == {
        "country_code": "DE",
        "party_id": "TNM",
        "uid": APP_TOKEN,
        "type": "RFID",
        "contract_id": token["contract_id"],
        "visual_number": token["visual_number"],
        "issuer": token["issuer"],
        "group_id": token["group_id"],
        "language": token["language"],
        "default_profile_type": token["default_profile_type"],
    }


def test_accepted_makes_a_reservation_session_and_the_evse_reserved(point: ChargePoint) -> None:
    row = accepted(reserve(authorization_reference="AUTH-9"))

    assert (row.state, row.answer) == (ReservationState.ACTIVE, "Accepted")
    session = Session.objects.get()
    assert row.session == session
    assert (session.status, session.evse, session.connector) == (
        SessionStatus.RESERVATION,
        EVSE.objects.get(uid="3256"),
        None,
    )
    assert (session.token_uid, session.token_party_id) == (APP_TOKEN, "TNM")
    assert (session.auth_method, session.authorization_reference) == (AuthMethod.COMMAND, "AUTH-9")
    assert [method for method, _ in pushes("sessions")] == ["PUT"]
    assert evse_status("3256") == Status.RESERVED
    assert evse_status("3257") == Status.AVAILABLE


@pytest.mark.parametrize("status", ["Occupied", "Faulted", "Rejected", "Unavailable"])
def test_a_refusal_is_rejected_without_session_or_status(point: ChargePoint, status: str) -> None:
    row = answer(reserve().call, {"status": status})

    assert row is not None
    assert (row.state, row.answer) == (ReservationState.REJECTED, status)
    assert row.ended_at is not None
    assert not Session.objects.exists()
    assert evse_status() == Status.AVAILABLE


def test_no_answer_in_time_fails_the_reservation(point: ChargePoint) -> None:
    row = reserve()
    assert row.call is not None
    ChargePointCall.objects.filter(pk=row.call.pk).update(deadline=now() - timedelta(seconds=1))
    calls.expire_overdue(now())

    failed = reservations.answered(ChargePointCall.objects.get(pk=row.call.pk))

    assert failed is not None
    assert (failed.state, failed.answer) == (ReservationState.FAILED, "no answer in time")
    assert not Session.objects.exists()


def test_a_callerror_fails_the_reservation(point: ChargePoint) -> None:
    row = answer(
        reserve().call,
        state=CallState.FAILED,
        error_code="NotSupported",
        error_description="no reservations here",
    )

    assert row is not None
    assert (row.state, row.answer) == (
        ReservationState.FAILED,
        "CALLERROR NotSupported: no reservations here",
    )


def test_an_answer_applied_twice_changes_nothing_the_second_time(point: ChargePoint) -> None:
    row = accepted(reserve())
    assert row.call is not None

    again = reservations.answered(ChargePointCall.objects.get(pk=row.call.pk))

    assert again is not None
    assert again.state == ReservationState.ACTIVE
    assert Session.objects.count() == 1
    assert [method for method, _ in pushes("sessions")] == ["PUT"]


def test_a_call_of_no_reservation_is_none(point: ChargePoint) -> None:
    other = calls.trigger_message(point, "Heartbeat")

    assert reservations.answered(other) is None


# --- refused before anything is stored ------------------------------------------------------


def test_an_evse_of_no_charge_point_is_refused() -> None:
    online("CP-16", "1.6")
    EVSE.objects.get(uid="3257").charge_point_link.delete()

    with pytest.raises(reservations.ReservationRefused, match="none of our charge points"):
        reserve("3257")

    assert not Reservation.objects.exists()
    assert not ChargePointCall.objects.exists()


def test_an_offline_charge_point_is_refused() -> None:
    ChargePoint.objects.filter(pk=online("CP-16", "1.6").pk).update(gateway="")

    with pytest.raises(calls.ChargePointOffline):
        reserve()

    assert not Reservation.objects.exists()


def test_another_emsp_s_token_and_a_past_expiry_are_refused() -> None:
    online("CP-16", "1.6")
    evse = EVSE.objects.get(uid="3256")

    with pytest.raises(reservations.ReservationRefused, match="not DE\\*TNM's"):
        reservations.reserve(
            evse=evse,
            token=command_token(party=EMSP_B),
            reservation_id="R",
            party=EMSP_A,
            expiry_date=now() + timedelta(minutes=5),
        )
    with pytest.raises(reservations.ReservationRefused, match="has passed"):
        reserve(minutes=-1)

    assert not Reservation.objects.exists()


def test_a_token_too_long_for_a_1_6_id_tag_is_refused() -> None:
    online("CP-16", "1.6")

    with pytest.raises(reservations.ReservationRefused, match="longer than an OCPP 1.6 idTag"):
        reserve(uid="X" * 21)

    assert not Reservation.objects.exists()


# --- replacing, and two eMSPs -----------------------------------------------------------------


def test_the_same_reservation_id_replaces_it_under_the_same_ocpp_id(point: ChargePoint) -> None:
    first = accepted(reserve(minutes=30))

    second = reserve(minutes=60)
    assert second.call is not None
    assert second.ocpp_id == first.ocpp_id
    replaced = accepted(second)

    first.refresh_from_db()
    assert (first.state, first.ended_by) == (ReservationState.REPLACED, ReservationEnd.REPLACEMENT)
    assert first.session is None
    assert replaced.session is not None
    assert replaced.session.status == SessionStatus.RESERVATION
    assert Session.objects.count() == 1  # the same reservation, updated: the same session
    assert evse_status() == Status.RESERVED


def test_a_replacement_on_another_evse_completes_the_first_session(point: ChargePoint) -> None:
    first = accepted(reserve("3256"))

    second = accepted(reserve("3257"))

    first.refresh_from_db()
    assert first.state == ReservationState.REPLACED
    sessions = {s.evse.uid if s.evse else None: s.status for s in Session.objects.all()}
    assert sessions == {"3256": SessionStatus.COMPLETED, "3257": SessionStatus.RESERVATION}
    assert second.session is not None
    assert (evse_status("3256"), evse_status("3257")) == (Status.AVAILABLE, Status.RESERVED)


def test_a_refused_replacement_leaves_the_reservation_held(point: ChargePoint) -> None:
    first = accepted(reserve())

    refused = answer(reserve(minutes=90).call, {"status": "Rejected"})

    first.refresh_from_db()
    assert refused is not None
    assert (first.state, refused.state) == (ReservationState.ACTIVE, ReservationState.REJECTED)
    assert evse_status() == Status.RESERVED


def test_the_same_reservation_id_of_two_emsps_are_two_reservations(point: ChargePoint) -> None:
    a = accepted(reserve("3256", reservation_id="SAME", party=EMSP_A))
    b = accepted(reserve("3257", reservation_id="SAME", party=EMSP_B, uid="B-TOKEN"))

    assert a.ocpp_id != b.ocpp_id
    assert (a.state, b.state) == (ReservationState.ACTIVE, ReservationState.ACTIVE)
    found = Reservation.objects.held().by_reservation_id("de", "tnm", "same").get()
    assert found == a
    reservations.cancel(b, requested_by="emsp B")
    assert Reservation.objects.get(pk=a.pk).cancel_call is None


# --- cancelling -----------------------------------------------------------------------------


def test_cancel_by_the_emsp_completes_its_session_and_frees_the_evse(point: ChargePoint) -> None:
    row = accepted(reserve())

    sent = reservations.cancel(row)
    assert (sent.action, sent.payload) == ("CancelReservation", {"reservationId": row.ocpp_id})
    assert sent.follow_up == reservations.FOLLOW_UP_CANCEL
    cancelled = answer(sent, {"status": "Accepted"})

    assert cancelled is not None
    assert (cancelled.state, cancelled.ended_by) == (ReservationState.CANCELLED, "EMSP")
    assert cancelled.session is not None
    assert cancelled.session.status == SessionStatus.COMPLETED  # mod_sessions, Reservation
    assert evse_status() == Status.AVAILABLE


def test_cancel_by_the_operator_invalidates_the_session(point: ChargePoint) -> None:
    row = accepted(reserve())
    ended: list[Reservation] = []

    def receiver(reservation: Reservation, **_: object) -> None:
        ended.append(reservation)

    reservations.reservation_ended.connect(receiver)
    try:
        cancelled = answer(
            reservations.cancel(row, by=ReservationEnd.OPERATOR), {"status": "Accepted"}
        )
    finally:
        reservations.reservation_ended.disconnect(receiver)

    assert cancelled is not None
    assert cancelled.ended_by == ReservationEnd.OPERATOR
    assert cancelled.session is not None
    assert cancelled.session.status == SessionStatus.INVALID
    assert [r.pk for r in ended] == [row.pk]


def test_a_cancellation_the_charge_point_rejects_leaves_it_held(point: ChargePoint) -> None:
    row = accepted(reserve())

    kept = answer(reservations.cancel(row), {"status": "Rejected"})

    assert kept is not None
    assert (kept.state, kept.ended_by, kept.answer) == (
        ReservationState.ACTIVE,
        "",
        "CancelReservation: Rejected",
    )
    assert evse_status() == Status.RESERVED


def test_what_is_not_held_cannot_be_cancelled(point: ChargePoint) -> None:
    row = answer(reserve().call, {"status": "Occupied"})
    assert row is not None

    with pytest.raises(reservations.ReservationRefused, match="not held"):
        reservations.cancel(row)


def test_cancelled_here_when_the_charge_point_is_offline(point: ChargePoint) -> None:
    row = accepted(reserve())
    ChargePoint.objects.filter(pk=point.pk).update(gateway="")

    assert reservations.cancel_here(row) is True

    row.refresh_from_db()
    assert (row.state, row.ended_by) == (ReservationState.CANCELLED, ReservationEnd.OPERATOR)
    assert reservations.cancel_here(row) is False


# --- expiry ---------------------------------------------------------------------------------


def test_expiry_completes_the_session_and_frees_the_evse(point: ChargePoint) -> None:
    row = accepted(reserve(minutes=10))
    kept = accepted(reserve("3257", reservation_id="RES-2", minutes=60))

    assert reservations.expire_due(now() + timedelta(minutes=11)) == 1

    row.refresh_from_db()
    assert (row.state, row.ended_by, row.ended_at) == (
        ReservationState.EXPIRED,
        ReservationEnd.EXPIRY,
        row.expiry_date,
    )
    assert row.session is not None
    assert row.session.status == SessionStatus.COMPLETED
    assert row.session.end_date_time == row.expiry_date
    assert Reservation.objects.get(pk=kept.pk).state == ReservationState.ACTIVE
    assert (evse_status("3256"), evse_status("3257")) == (Status.AVAILABLE, Status.RESERVED)
    assert reservations.expire_due(now() + timedelta(minutes=11)) == 0


def test_2_0_1_reservation_status_update_expired_and_removed() -> None:
    point = available(online("CP-201", "2.0.1"))
    expired = accepted(reserve("3256", reservation_id="A"))
    removed = accepted(reserve("3257", reservation_id="B"))

    call(
        point,
        "ReservationStatusUpdate",
        {"reservationId": expired.ocpp_id, "reservationUpdateStatus": "Expired"},
    )
    call(
        point,
        "ReservationStatusUpdate",
        {"reservationId": removed.ocpp_id, "reservationUpdateStatus": "Removed"},
    )
    unknown = call(
        point,
        "ReservationStatusUpdate",
        {"reservationId": 999999, "reservationUpdateStatus": "Removed"},
    )

    expired.refresh_from_db()
    removed.refresh_from_db()
    assert (expired.state, expired.ended_by) == (ReservationState.EXPIRED, ReservationEnd.EXPIRY)
    assert (removed.state, removed.ended_by) == (
        ReservationState.CANCELLED,
        ReservationEnd.CHARGE_POINT,
    )
    assert removed.session is not None
    assert removed.session.status == SessionStatus.INVALID
    assert unknown == {}
    assert (evse_status("3256"), evse_status("3257")) == (Status.AVAILABLE, Status.AVAILABLE)


def test_1_6_a_reserved_connector_reported_available_ends_its_reservation() -> None:
    point = available(online("CP-16", "1.6"))
    row = accepted(reserve())
    status_notification(point, 1, "Available")  # before Reserved: not the end of it
    assert Reservation.objects.get(pk=row.pk).state == ReservationState.ACTIVE

    status_notification(point, 1, "Reserved")
    assert evse_status() == Status.RESERVED
    status_notification(point, 1, "Available")

    row.refresh_from_db()
    assert (row.state, row.ended_by) == (ReservationState.CANCELLED, ReservationEnd.CHARGE_POINT)
    assert evse_status() == Status.AVAILABLE


def test_a_release_reported_before_the_cancel_answer_is_the_emsp_s_cancellation(
    point: ChargePoint,
) -> None:
    """A 1.6 charge point frees the connector as it accepts CancelReservation, and its
    StatusNotification may be handled before the answer: still the eMSP's cancellation
    (session COMPLETED, no CANCELED_RESERVATION), not the charge point's."""
    version = point.ocpp_version
    row = accepted(reserve())
    if version == "1.6":
        status_notification(point, 1, "Reserved")
    cancel_call = reservations.cancel(row, by=ReservationEnd.EMSP)

    if version == "1.6":
        status_notification(point, 1, "Available")
    else:
        call(
            point,
            "ReservationStatusUpdate",
            {"reservationId": row.ocpp_id, "reservationUpdateStatus": "Removed"},
        )
    answer(cancel_call, {"status": "Accepted"})

    row.refresh_from_db()
    assert (row.state, row.ended_by) == (ReservationState.CANCELLED, ReservationEnd.EMSP)
    assert row.session is not None
    assert row.session.status == SessionStatus.COMPLETED
    assert evse_status() == Status.AVAILABLE


def test_1_6_a_reserved_connector_released_at_its_expiry_expired() -> None:
    point = online("CP-16", "1.6")
    row = accepted(reserve(minutes=1))
    Reservation.objects.filter(pk=row.pk).update(expiry_date=now())
    status_notification(point, 1, "Reserved")

    status_notification(point, 1, "Faulted")

    row.refresh_from_db()
    assert (row.state, row.ended_by) == (ReservationState.EXPIRED, ReservationEnd.EXPIRY)
    assert evse_status() == Status.OUTOFORDER


# --- use ------------------------------------------------------------------------------------


def test_1_6_a_start_with_the_reserved_token_makes_its_session_active() -> None:
    point = online("CP-16", "1.6")
    row = accepted(reserve(authorization_reference="AUTH-9"))
    status_notification(point, 1, "Reserved")

    authorized = call(point, "Authorize", {"idTag": APP_TOKEN})
    started = call(
        point,
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": APP_TOKEN,
            "meterStart": 1000,
            "timestamp": stamp(now()),
            "reservationId": row.ocpp_id,
        },
    )

    assert authorized["idTagInfo"]["status"] == "Accepted"
    assert started["idTagInfo"]["status"] == "Accepted"
    row.refresh_from_db()
    assert (row.state, row.ended_by) == (ReservationState.USED, ReservationEnd.TRANSACTION)
    tx = ChargerTransaction.objects.get()
    assert tx.session == row.session
    session = Session.objects.get()
    assert session.status == SessionStatus.ACTIVE
    assert session.connector is not None
    assert (session.auth_method, session.authorization_reference) == (AuthMethod.COMMAND, "AUTH-9")
    assert session.reserved_until is not None


def test_2_0_1_a_started_event_with_the_reserved_token_uses_it() -> None:
    point = online("CP-201", "2.0.1")
    row = accepted(reserve("3257", uid="CARD-7"))

    answer_ = call(
        point,
        "TransactionEvent",
        {
            "eventType": "Started",
            "timestamp": stamp(now()),
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "TX-R", "chargingState": "EVConnected"},
            "idToken": {"idToken": "CARD-7", "type": "ISO14443"},
            "evse": {"id": 2, "connectorId": 1},
            "reservationId": row.ocpp_id,
        },
    )

    assert answer_["idTokenInfo"]["status"] == "Accepted"
    row.refresh_from_db()
    assert row.state == ReservationState.USED
    assert Session.objects.get().status == SessionStatus.ACTIVE


def test_the_reserved_token_is_refused_at_another_evse_and_another_token_there() -> None:
    point = online("CP-16", "1.6")
    accepted(reserve("3256"))

    elsewhere = call(
        point,
        "StartTransaction",
        {"connectorId": 2, "idTag": APP_TOKEN, "meterStart": 0, "timestamp": stamp(now())},
    )

    assert elsewhere["idTagInfo"]["status"] == "Blocked"
    assert Reservation.objects.get().state == ReservationState.ACTIVE
    assert Session.objects.get().status == SessionStatus.RESERVATION
