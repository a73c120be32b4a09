"""Reservations end to end on both OCPP versions: simulated charge points
(chargers.simulator) connected to a real gateway; the reservation service sends through
chargers.calls, the gateway records the answer, the follow-up applies it (Celery eager).

RESERVE_NOW accepted → the RESERVATION session, the EVSE RESERVED; the driver with the
reserved token taps → the same session ACTIVE, then COMPLETED with its charge; the charge
point expires one (2.0.1 ReservationStatusUpdate, 1.6 its connector Available); a cancel; a
scripted Occupied; a charge point that never answers → FAILED."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chargers import reservations
from chargers.models import ChargePoint, Reservation, ReservationEnd, ReservationState
from chargers.provisioning import charge_point_provision
from chargers.simulator.station import EvseSpec, Options, Station, StationSpec
from locations.models import EVSE, Status
from ocpi.time import now
from sessions.models import Session, SessionStatus
from tests.chargers.central_system import FleetThread, running
from tests.chargers.gatewayrunner import RunningGateway, connect_as
from tests.chargers.reservations_setup import APP_TOKEN, EMSP_A, command_token
from tests.chargers.transactions_setup import emsp, estate
from tests.push.polling import wait_until

pytestmark = [pytest.mark.django_db(transaction=True)]

VERSIONS = ["1.6", "2.0.1"]
SHORT = Options(meter_interval=0.2, duration=1.0)


@pytest.fixture
def gateway(eager_tasks: None) -> Iterator[RunningGateway]:
    estate()
    emsp()
    with RunningGateway("reserve-gateway") as running_gateway:
        yield running_gateway


@pytest.fixture(params=VERSIONS)
def fleet(request: pytest.FixtureRequest, gateway: RunningGateway) -> Iterator[FleetThread]:
    version = request.param
    identity = f"RES-CP-{version}"
    provisioned = charge_point_provision(
        identity=identity, evse_refs=["LOC1/3256", "LOC1/3257"], ocpp_version=version
    )
    spec = StationSpec(
        identity, gateway.url(identity), provisioned.password, (EvseSpec(1), EvseSpec(2))
    )
    with running([spec], version, SHORT) as fleet:
        wait_until(
            lambda: (
                ChargePoint.objects.get(identity=identity).online
                and EVSE.objects.filter(uid__in=["3256", "3257"], status=Status.AVAILABLE).count()
                == 2
            ),
            what="the charge point connected, its EVSEs available",
        )
        yield fleet


def station(fleet: FleetThread) -> Station:
    return fleet.fleet.stations[0]


def evse_status(uid: str = "3256") -> str:
    return EVSE.objects.get(uid=uid).status


def reserve(seconds: float = 600, evse_uid: str = "3256", **options: Any) -> Reservation:
    return reservations.reserve(
        evse=EVSE.objects.get(uid=evse_uid),
        token=command_token(),
        reservation_id="RES-1",
        party=EMSP_A,
        expiry_date=now() + timedelta(seconds=seconds),
        **options,
    )


def state_of(row: Reservation, *states: str) -> Reservation | None:
    current = Reservation.objects.select_related("session").get(pk=row.pk)
    return current if current.state in states else None


def held(row: Reservation) -> Reservation:
    return wait_until(lambda: state_of(row, ReservationState.ACTIVE), what="the reservation held")


def test_a_reservation_is_held_then_used_by_its_token(fleet: FleetThread) -> None:
    row = held(reserve())
    reserved = row.session
    assert reserved is not None
    assert reserved.status == SessionStatus.RESERVATION
    wait_until(lambda: evse_status() == Status.RESERVED, what="EVSE RESERVED")

    fleet.call(lambda: station(fleet).tap(APP_TOKEN))

    used = wait_until(lambda: state_of(row, ReservationState.USED), what="the reservation used")
    assert used.ended_by == ReservationEnd.TRANSACTION
    completed = wait_until(
        lambda: Session.objects.filter(pk=reserved.pk, status=SessionStatus.COMPLETED).first(),
        what="the charge completed",
    )
    assert Session.objects.count() == 1  # the reservation's session was the charge's
    assert completed.connector is not None
    assert completed.kwh > 0
    assert completed.reserved_until is not None
    wait_until(lambda: evse_status() == Status.AVAILABLE, what="EVSE available again")


def test_the_charge_point_expires_a_reservation(fleet: FleetThread) -> None:
    row = held(reserve(seconds=2))

    expired = wait_until(
        lambda: state_of(row, ReservationState.EXPIRED), what="the expiry", timeout=20
    )

    assert expired.ended_by == ReservationEnd.EXPIRY
    assert expired.session is not None
    assert expired.session.status == SessionStatus.COMPLETED
    wait_until(lambda: evse_status() == Status.AVAILABLE, what="EVSE available again")


def test_a_cancelled_reservation_frees_the_evse(fleet: FleetThread) -> None:
    row = held(reserve())

    reservations.cancel(row)

    cancelled = wait_until(lambda: state_of(row, ReservationState.CANCELLED), what="cancelled")
    assert cancelled.ended_by == ReservationEnd.EMSP
    assert fleet.call(lambda: dict(station(fleet).reservations.held)) == {}
    wait_until(lambda: evse_status() == Status.AVAILABLE, what="EVSE available again")


def test_an_occupied_answer_rejects_the_reservation(fleet: FleetThread) -> None:
    fleet.call(lambda: setattr(station(fleet).reservations, "answer", "Occupied"))

    row = reserve()

    rejected = wait_until(lambda: state_of(row, ReservationState.REJECTED), what="rejected")
    assert rejected.answer == "Occupied"
    assert not Session.objects.exists()
    assert evse_status() == Status.AVAILABLE


@pytest.mark.parametrize("version", VERSIONS)
def test_a_charge_point_that_never_answers_fails_the_reservation(
    gateway: RunningGateway, version: str
) -> None:
    identity = f"SILENT-{version}"
    provisioned = charge_point_provision(
        identity=identity, evse_refs=["LOC1/3256"], ocpp_version=version
    )
    with connect_as(gateway.url(identity), version, password=provisioned.password):
        wait_until(lambda: ChargePoint.objects.get(identity=identity).online, what="connected")
        row = reserve(timeout=1)

        failed = wait_until(lambda: state_of(row, ReservationState.FAILED), what="failed")

    assert failed.answer == "no answer in time"
    assert not Session.objects.exists()
