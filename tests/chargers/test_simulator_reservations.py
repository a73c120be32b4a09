"""The simulated charge points hold reservations (chargers.simulator.reserving): ReserveNow
accepted reports the EVSE Reserved, refused as the EVSE's state says or as scripted; the
reserved token's start carries the reservation id; CancelReservation and the expiry free the
EVSE (2.0.1 says so with ReservationStatusUpdate); only the reserved token starts there."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from chargers.simulator.station import Options, Station
from tests.chargers.central_system import CentralSystem, FleetThread, running, station_spec

LONG = Options(meter_interval=0.1, duration=30.0)
TOKEN = "TOKEN-1"


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def central() -> Iterator[CentralSystem]:
    central = CentralSystem(valid_tokens=("TOKEN-1", "TOKEN-2"))
    central.start()
    yield central
    central.stop()


@pytest.fixture
def v16(central: CentralSystem) -> Iterator[FleetThread]:
    with running([station_spec(central, evses=2)], "1.6", LONG) as fleet:
        central.wait_for(lambda: len(central.received("StatusNotification")) == 3, "statuses")
        yield fleet


@pytest.fixture
def v201(central: CentralSystem) -> Iterator[FleetThread]:
    with running([station_spec(central, evses=2)], "2.0.1", LONG) as fleet:
        central.wait_for(lambda: len(central.received("StatusNotification")) == 2, "statuses")
        yield fleet


def station(fleet: FleetThread) -> Station:
    return fleet.fleet.stations[0]


def statuses(central: CentralSystem, connector: int) -> list[str]:
    return [
        p.get("status") or p["connectorStatus"]
        for p in central.payloads("StatusNotification")
        if p.get("connectorId" if "status" in p else "evseId") == connector
    ]


def reserve_16(central: CentralSystem, reservation_id: int, connector: int, seconds: float) -> str:
    answer = central.call(
        "SIM-0001",
        call16.ReserveNow(
            connector_id=connector,
            expiry_date=later(seconds),
            id_tag=TOKEN,
            reservation_id=reservation_id,
        ),
    )
    return str(answer.status)


def reserve_201(central: CentralSystem, reservation_id: int, evse: int, seconds: float) -> str:
    answer = central.call(
        "SIM-0001",
        call201.ReserveNow(
            id=reservation_id,
            expiry_date_time=later(seconds),
            id_token={"id_token": TOKEN, "type": "ISO14443"},
            evse_id=evse,
        ),
    )
    return str(answer.status)


def test_1_6_a_reservation_is_reported_and_used_by_its_token(
    central: CentralSystem, v16: FleetThread
) -> None:
    assert reserve_16(central, 41, 2, 60) == "Accepted"
    central.wait_for(lambda: statuses(central, 2)[-1:] == ["Reserved"], "Reserved")
    assert v16.call(lambda: station(v16).tap("TOKEN-2")).ocpp_id == 1  # not the reserved one

    v16.call(lambda: station(v16).tap(TOKEN))
    central.wait_for(lambda: len(central.received("StartTransaction")) == 2, "both starts")

    starts = {p["connectorId"]: p for p in central.payloads("StartTransaction")}
    assert starts[2]["reservationId"] == 41
    assert "reservationId" not in starts[1]
    assert v16.call(lambda: dict(station(v16).reservations.held)) == {}


def test_1_6_a_reservation_made_while_its_first_reports_await_their_answers_is_reported(
    central: CentralSystem,
) -> None:
    # A central system slow to answer: the station is still sending its first statuses when
    # the reservation comes; its Reserved goes out after them (it was dropped as "offline").
    central.status_delay = 0.5
    with running([station_spec(central, evses=2)], "1.6", LONG):
        central.wait_for(lambda: central.received("StatusNotification"), "the first status")
        assert reserve_16(central, 1, connector=1, seconds=60) == "Accepted"

        central.wait_for(lambda: statuses(central, 1)[-1:] == ["Reserved"], "Reserved reported")
        assert statuses(central, 1) == ["Available", "Reserved"]


def test_1_6_refusals_and_a_replacement(central: CentralSystem, v16: FleetThread) -> None:
    assert reserve_16(central, 1, 1, 60) == "Accepted"
    other = reserve_16(central, 2, 1, 60)
    replaced = reserve_16(central, 1, 2, 60)  # the same id on another connector: moved there
    unknown = reserve_16(central, 3, 9, 60)
    v16.call(lambda: setattr(station(v16).reservations, "answer", "Rejected"))
    scripted = reserve_16(central, 4, 1, 60)

    assert (other, replaced, unknown, scripted) == ("Occupied", "Accepted", "Rejected", "Rejected")
    held = v16.call(lambda: {r.id: r.evse_id for r in station(v16).reservations.held.values()})
    assert held == {1: 2}
    central.wait_for(lambda: statuses(central, 1)[-1:] == ["Available"], "1 free again")


def test_1_6_an_evse_in_use_is_occupied_and_a_cancel_frees_the_evse(
    central: CentralSystem, v16: FleetThread
) -> None:
    v16.call(lambda: station(v16).tap("TOKEN-2"))
    central.wait_for(lambda: central.received("StartTransaction"), "a start")
    assert reserve_16(central, 5, 1, 60) == "Occupied"
    assert reserve_16(central, 6, 2, 60) == "Accepted"

    cancelled = central.call("SIM-0001", call16.CancelReservation(reservation_id=6))
    unknown = central.call("SIM-0001", call16.CancelReservation(reservation_id=6))

    assert (cancelled.status, unknown.status) == ("Accepted", "Rejected")
    central.wait_for(lambda: statuses(central, 2)[-2:] == ["Reserved", "Available"], "freed")


def test_1_6_a_reservation_expires_at_its_date(central: CentralSystem, v16: FleetThread) -> None:
    assert reserve_16(central, 7, 1, 0.5) == "Accepted"

    central.wait_for(lambda: statuses(central, 1)[-2:] == ["Reserved", "Available"], "expiry")

    assert v16.call(lambda: dict(station(v16).reservations.held)) == {}


def test_2_0_1_expiry_and_removal_are_reported(central: CentralSystem, v201: FleetThread) -> None:
    assert reserve_201(central, 8, 1, 0.5) == "Accepted"
    assert reserve_201(central, 9, 2, 60) == "Accepted"
    central.wait_for(lambda: statuses(central, 2)[-1:] == ["Reserved"], "Reserved")

    v201.run(station(v201).reservations.remove(9))
    central.wait_for(lambda: len(central.received("ReservationStatusUpdate")) == 2, "both ends")

    updates = {
        p["reservationId"]: p["reservationUpdateStatus"]
        for p in central.payloads("ReservationStatusUpdate")
    }
    assert updates == {8: "Expired", 9: "Removed"}
    # The station frees each connector after reporting its reservation's end: wait for both.
    central.wait_for(
        lambda: statuses(central, 1)[-1:] == statuses(central, 2)[-1:] == ["Available"], "freed"
    )
    assert statuses(central, 1)[-1] == statuses(central, 2)[-1] == "Available"
    assert central.errors == []


def test_2_0_1_the_reserved_token_starts_with_the_reservation_id(
    central: CentralSystem, v201: FleetThread
) -> None:
    assert reserve_201(central, 10, 2, 60) == "Accepted"
    no_evse = central.call(
        "SIM-0001",
        call201.ReserveNow(
            id=11, expiry_date_time=later(60), id_token={"id_token": TOKEN, "type": "ISO14443"}
        ),
    )

    v201.call(lambda: station(v201).tap(TOKEN))
    central.wait_for(lambda: central.received("TransactionEvent"), "the start")

    assert no_evse.status == "Rejected"
    started = central.payloads("TransactionEvent")[0]
    assert (started["reservationId"], started["evse"]["id"]) == (10, 2)
    assert central.errors == []
