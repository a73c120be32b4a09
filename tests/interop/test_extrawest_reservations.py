"""Reservations and an offline charge point, commanded by the eMSP, end to end: the
extrawest-ocpi peer sends RESERVE_NOW, CANCEL_RESERVATION and START_SESSION (its control API
makes it call); simulated OCPP 1.6 and 2.0.1 charge points behind a real gateway hold, expire
and use the reservations; a real Celery worker runs the calls' follow-ups and pushes. What the
peer receives is asserted: the CommandResults at its response_urls, the reservation's Session
(RESERVATION, then ACTIVE or COMPLETED) and the EVSE's status (RESERVED, then back).
Issue 13, "Tests"; README "Commands" and "Reservations".
"""

import time
from datetime import timedelta
from typing import Any

import pytest

from chargers.models import ChargePoint, ChargerTransaction, Reservation, ReservationState
from chargers.simulator.station import EvseState
from commands.models import Command, CommandState
from ocpi.time import format_datetime, now
from sessions.models import Session
from tests.chargers.central_system import FleetThread
from tests.chargers.gatewayrunner import RunningGateway
from tests.interop.commands_setup import (
    EVSE_OF,
    command,
    connected,
    provision,
    result_at_peer,
    result_url,
    station,
)
from tests.interop.helpers import Entry, peer_token, stored_if, wait_for_stored
from tests.interop.peer import ExtrawestPeer
from tests.push.polling import wait_until
from tests.push.worker import CeleryWorker

pytestmark = [pytest.mark.interop, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

CARD_UID = "XW-RFID-0042"  # the driver's card the eMSP reserves for
RESERVED_AT = "BE/BEC/LOC1"


def reserve_now(peer: ExtrawestPeer, version: str, seconds: float) -> dict[str, Any]:
    """The peer reserves the version's EVSE of LOC1 for CARD_UID, `seconds` from now; our
    CommandResponse."""
    return command(
        peer,
        "RESERVE_NOW",
        {
            "response_url": result_url(peer, f"reserve-{version}"),
            "token": peer_token(CARD_UID, whitelist="ALLOWED"),
            "expiry_date": format_datetime(now() + timedelta(seconds=seconds)),
            "reservation_id": f"XW-RES-{version}",
            "location_id": "LOC1",
            "evse_uid": EVSE_OF[version],
            "authorization_reference": f"XW-RAUTH-{version}",
        },
    )


def evse_at_peer(peer: ExtrawestPeer, evse_uid: str, status: str) -> Entry:
    """The peer's LOC1 once its EVSE `evse_uid` has `status` (our PUT, then PATCHes)."""
    return wait_for_stored(
        peer,
        "locations",
        RESERVED_AT,
        lambda kept: any(e["uid"] == evse_uid and e["status"] == status for e in kept["evses"]),
    )


def session_at_peer(peer: ExtrawestPeer, session: Session, status: str) -> Entry:
    return wait_until(
        lambda: stored_if(
            peer, "sessions", f"BE/BEC/{session.ocpi_id.upper()}", lambda s: s["status"] == status
        ),
        timeout=30,
        what=f"the Session {status} at the peer",
    )


def held_reservation(peer: ExtrawestPeer, version: str, seconds: float) -> Reservation:
    """RESERVE_NOW accepted by us and by the charge point, its session and RESERVED EVSE at
    the peer; the reservation."""
    answered = reserve_now(peer, version, seconds)
    assert answered["status_code"] == 1000
    assert answered["data"]["result"] == "ACCEPTED"
    result = result_at_peer(peer, f"reserve-{version}", timeout=30)
    assert result["result"] == "ACCEPTED"
    reservation = Reservation.objects.select_related("session").get(
        reservation_id=f"XW-RES-{version}"
    )
    assert reservation.state == ReservationState.ACTIVE
    assert reservation.session is not None
    kept = session_at_peer(peer, reservation.session, "RESERVATION")
    assert (kept["cdr_token"]["uid"], kept["evse_uid"]) == (CARD_UID, EVSE_OF[version])
    assert kept["authorization_reference"] == f"XW-RAUTH-{version}"
    evse_at_peer(peer, EVSE_OF[version], "RESERVED")
    return reservation


def test_a_reservation_then_the_card_starts_the_same_session(
    peer: ExtrawestPeer, worker: CeleryWorker, charge_point: FleetThread, version: str
) -> None:
    reservation = held_reservation(peer, version, seconds=600)
    assert reservation.session is not None

    charge_point.call(lambda: station(charge_point).tap(CARD_UID))

    kept = session_at_peer(peer, reservation.session, "ACTIVE")
    assert kept["id"].upper() == reservation.session.ocpi_id.upper()
    assert kept["cdr_token"]["uid"] == CARD_UID
    evse_at_peer(peer, EVSE_OF[version], "CHARGING")
    reservation.refresh_from_db()
    assert reservation.state == ReservationState.USED
    # The reservation's session is the charge's: no second one at the peer or here.
    assert Session.objects.count() == 1
    assert len(peer.state()["objects"]["sessions"]) == 1


def test_cancel_reservation_ends_its_session_and_frees_the_evse(
    peer: ExtrawestPeer, worker: CeleryWorker, charge_point: FleetThread, version: str
) -> None:
    reservation = held_reservation(peer, version, seconds=600)
    assert reservation.session is not None

    cancelled = command(
        peer,
        "CANCEL_RESERVATION",
        {
            "response_url": result_url(peer, f"cancel-{version}"),
            "reservation_id": f"XW-RES-{version}",
        },
    )

    assert cancelled["data"]["result"] == "ACCEPTED"
    assert result_at_peer(peer, f"cancel-{version}", timeout=30)["result"] == "ACCEPTED"
    # Cancelled by its eMSP: the reservation time may be billed, so COMPLETED (not INVALID).
    kept = session_at_peer(peer, reservation.session, "COMPLETED")
    assert kept["end_date_time"] is not None
    evse_at_peer(peer, EVSE_OF[version], "AVAILABLE")
    reservation.refresh_from_db()
    assert reservation.state == ReservationState.CANCELLED
    assert charge_point.call(lambda: dict(station(charge_point).reservations.held)) == {}
    # The eMSP ended it itself: its RESERVE_NOW's result is not overwritten.
    assert result_at_peer(peer, f"reserve-{version}")["result"] == "ACCEPTED"


def test_an_expired_reservation_ends_its_session_and_frees_the_evse(
    peer: ExtrawestPeer, worker: CeleryWorker, charge_point: FleetThread, version: str
) -> None:
    reservation = held_reservation(peer, version, seconds=4)
    assert reservation.session is not None

    kept = session_at_peer(peer, reservation.session, "COMPLETED")

    assert kept["end_date_time"] is not None
    evse_at_peer(peer, EVSE_OF[version], "AVAILABLE")
    reservation.refresh_from_db()
    assert reservation.state == ReservationState.EXPIRED
    # An expiry is no cancellation by the CPO: no CANCELED_RESERVATION to the eMSP.
    assert result_at_peer(peer, f"reserve-{version}")["result"] == "ACCEPTED"


def test_a_start_on_an_offline_charge_point_is_timeout_and_never_starts(
    peer: ExtrawestPeer,
    worker: CeleryWorker,
    estate: None,
    gateway: RunningGateway,
    version: str,
    settings: Any,
) -> None:
    settings.OCPI_COMMAND_TIMEOUT_SECONDS = 25
    spec = provision(gateway, version)
    identity = spec.identity
    with connected(spec, version):
        pass  # it booted, then went away: the gateway saw the connection close
    wait_until(
        lambda: not ChargePoint.objects.get(identity=identity).online,
        what="the charge point offline",
    )

    asked = time.monotonic()
    started = command(
        peer,
        "START_SESSION",
        {
            "response_url": result_url(peer, f"offline-{version}"),
            "token": peer_token("XW-APP-0099", type="APP_USER", whitelist="ALLOWED"),
            "location_id": "LOC1",
            "evse_uid": EVSE_OF[version],
        },
    )

    assert started["status_code"] == 1000
    assert started["data"] == {"result": "ACCEPTED", "timeout": 25}
    result = result_at_peer(peer, f"offline-{version}", timeout=25)
    assert time.monotonic() - asked < 25
    assert result["result"] == "TIMEOUT"
    assert result["message"][0]["text"] == f"Charge point {identity} is offline"
    sent = Command.objects.get()
    assert (sent.state, sent.call) == (CommandState.DONE, None)  # nothing queued for later

    with connected(spec, version) as fleet:  # back: nothing waits to start it
        time.sleep(2)
        assert fleet.call(lambda: [e.state for e in station(fleet).evses.values()]) == [
            EvseState.AVAILABLE
        ]
        assert not ChargerTransaction.objects.exists()
    assert not Session.objects.exists()
