"""The operator's reservations screen (chargers.admin_reservations): the list with its
filters, a reservation's read-only page, and "Cancel reservation" (CancelReservation sent, or
ended here when the charge point is offline), which only an operator who may change
reservations sees."""

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from chargers.models import ChargePoint, ChargePointCall, Reservation, ReservationState
from sessions.models import SessionStatus
from tests.admin_pages import messages_of, page_text, run_action
from tests.chargers.reservations_setup import EMSP_B, accepted, answer, online, reserve
from tests.chargers.transactions_setup import emsp, estate

pytestmark = pytest.mark.django_db

RESERVATIONS = "/admin/chargers/reservation/"


@pytest.fixture(autouse=True)
def _estate() -> None:
    estate()
    emsp()


@pytest.fixture
def point() -> ChargePoint:
    return online("CP-16", "1.6")


def test_the_list_filters_by_state_and_emsp(operator: Client, point: ChargePoint) -> None:
    held = accepted(reserve("3256", reservation_id="HELD-1"))
    answer(reserve("3257", reservation_id="REFUSED-1").call, {"status": "Occupied"})
    accepted(reserve("3257", reservation_id="B-1", party=EMSP_B, uid="B-TOKEN"))

    everything = page_text(operator.get(RESERVATIONS))
    active = page_text(operator.get(RESERVATIONS, {"state__exact": "ACTIVE"}))
    of_b = page_text(operator.get(RESERVATIONS, {"party_country_code__exact": "NL"}))
    page = page_text(operator.get(f"{RESERVATIONS}{held.pk}/change/"))

    assert all(name in everything for name in ("HELD-1", "REFUSED-1", "B-1"))
    assert "HELD-1" in active
    assert "REFUSED-1" not in active
    assert "B-1" in of_b
    assert "HELD-1" not in of_b
    assert "DE*TNM" in page
    assert "Accepted" in page
    assert "CP-16" in page
    assert (
        'name="reservation_id"'
        not in operator.get(f"{RESERVATIONS}{held.pk}/change/").content.decode()
    )  # read-only: shown, not editable


def test_cancel_sends_cancel_reservation_then_it_is_cancelled(
    operator: Client, point: ChargePoint
) -> None:
    row = accepted(reserve())

    response = run_action(operator, RESERVATIONS, "cancel_reservations", row.pk)

    row.refresh_from_db()
    assert row.cancel_call is not None
    assert (row.cancel_call.action, row.cancel_call.requested_by) == (
        "CancelReservation",
        "admin:operator",
    )
    assert row.state == ReservationState.ACTIVE  # until the charge point accepts
    assert messages_of(response) == [
        "CancelReservation sent for RES-1 (CP-16): cancelled once the charge point accepts."
    ]
    cancelled = answer(row.cancel_call, {"status": "Accepted"})
    assert cancelled is not None
    assert (cancelled.state, cancelled.ended_by) == (ReservationState.CANCELLED, "OPERATOR")
    assert cancelled.session is not None
    assert cancelled.session.status == SessionStatus.INVALID


def test_cancel_with_the_charge_point_offline_ends_it_here(
    operator: Client, point: ChargePoint
) -> None:
    row = accepted(reserve())
    ChargePoint.objects.filter(pk=point.pk).update(gateway="")

    response = run_action(operator, RESERVATIONS, "cancel_reservations", row.pk)

    row.refresh_from_db()
    assert (row.state, row.ended_by) == (ReservationState.CANCELLED, "OPERATOR")
    assert not ChargePointCall.objects.filter(action="CancelReservation").exists()
    assert messages_of(response) == [
        "Cancelled here, the charge point offline and not told: RES-1 (CP-16)."
    ]


def test_cancel_of_what_is_not_held_says_so(operator: Client, point: ChargePoint) -> None:
    row = answer(reserve().call, {"status": "Rejected"})
    assert row is not None

    response = run_action(operator, RESERVATIONS, "cancel_reservations", row.pk)

    assert messages_of(response) == ["Not held, nothing to cancel: RES-1 (CP-16)."]


def test_a_viewer_sees_reservations_but_cannot_cancel(
    client: Client, django_user_model: Any, point: ChargePoint
) -> None:
    viewer = django_user_model.objects.create_user("viewer", password="v-pass-123", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_reservation", content_type__app_label="chargers")
    )
    client.force_login(viewer)
    row = accepted(reserve())

    listing = client.get(RESERVATIONS)
    refused = run_action(client, RESERVATIONS, "cancel_reservations", row.pk)

    assert "RES-1" in page_text(listing)
    assert "cancel_reservations" not in listing.content.decode()
    assert refused.status_code == 200
    assert Reservation.objects.get(pk=row.pk).cancel_call is None
