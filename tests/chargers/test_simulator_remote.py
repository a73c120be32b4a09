"""Simulated charge points and remote control, scripted: a remote start without Authorize
(AuthorizeRemoteTxRequests off) starts at once with the token sent, of the type sent; the
`remote-refused` behaviour refuses remote start, remote stop and unlock."""

from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from chargers.simulator.scenarios import Behaviour, Scenario
from chargers.simulator.station import Options
from tests.chargers.central_system import CentralSystem, FleetThread, running, station_spec

AUTHORIZE_LESS = Options(
    behaviour=Behaviour(authorize_remote_start=False), meter_interval=0.1, duration=30.0
)
REFUSING = Options(behaviour=Behaviour.of(Scenario.REMOTE_REFUSED), meter_interval=0.1)


@pytest.fixture
def central() -> Iterator[CentralSystem]:
    central = CentralSystem().start()
    yield central
    central.stop()


def fleet(
    central: CentralSystem, version: str, options: Options
) -> AbstractContextManager[FleetThread]:
    return running([station_spec(central, evses=2)], version, options)


def test_a_16_remote_start_without_authorize_starts_with_the_id_tag(central: CentralSystem) -> None:
    with fleet(central, "1.6", AUTHORIZE_LESS):
        central.wait_for(lambda: len(central.received("StatusNotification")) == 3, "statuses")
        answer = central.call(
            "SIM-0001", call16.RemoteStartTransaction(id_tag="APP-1", connector_id=2)
        )
        central.wait_for(lambda: central.received("StartTransaction"), "the start")

    assert answer.status == "Accepted"
    assert central.received("Authorize") == []
    started = central.payloads("StartTransaction")[0]
    assert (started["idTag"], started["connectorId"]) == ("APP-1", 2)


def test_a_201_remote_start_without_authorize_carries_its_id_and_token_type(
    central: CentralSystem,
) -> None:
    with fleet(central, "2.0.1", AUTHORIZE_LESS):
        central.wait_for(lambda: len(central.received("StatusNotification")) == 2, "statuses")
        answer = central.call(
            "SIM-0001",
            call201.RequestStartTransaction(
                id_token={"id_token": "APP-1", "type": "Central"}, remote_start_id=42, evse_id=1
            ),
        )
        central.wait_for(lambda: central.received("TransactionEvent"), "the start")

    assert answer.status == "Accepted"
    assert central.received("Authorize") == []
    started = central.payloads("TransactionEvent")[0]
    assert started["eventType"] == "Started"
    assert started["triggerReason"] == "RemoteStart"
    assert started["transactionInfo"]["remoteStartId"] == 42
    assert started["idToken"] == {"idToken": "APP-1", "type": "Central"}


def test_remote_calls_refused_when_scripted_on_1_6(central: CentralSystem) -> None:
    with fleet(central, "1.6", REFUSING):
        central.wait_for(lambda: len(central.received("StatusNotification")) == 3, "statuses")
        start = central.call("SIM-0001", call16.RemoteStartTransaction(id_tag="APP-1"))
        stop = central.call("SIM-0001", call16.RemoteStopTransaction(transaction_id=1))
        unlock = central.call("SIM-0001", call16.UnlockConnector(connector_id=1))

    assert (start.status, stop.status, unlock.status) == ("Rejected", "Rejected", "UnlockFailed")
    assert central.received("StartTransaction") == []


def test_remote_calls_refused_when_scripted_on_2_0_1(central: CentralSystem) -> None:
    with fleet(central, "2.0.1", REFUSING):
        central.wait_for(lambda: len(central.received("StatusNotification")) == 2, "statuses")
        start = central.call(
            "SIM-0001",
            call201.RequestStartTransaction(
                id_token={"id_token": "APP-1", "type": "Central"}, remote_start_id=1
            ),
        )
        unlock = central.call("SIM-0001", call201.UnlockConnector(evse_id=1, connector_id=1))

    assert (start.status, unlock.status) == ("Rejected", "UnlockFailed")
    assert central.received("TransactionEvent") == []
