"""The simulated charge points answer the central system's calls and act on them: a remote
start authorizes and charges, a TriggerMessage resends, a Reset reboots, ChangeAvailability
changes the status reported, UnlockConnector unlocks."""

from collections.abc import Iterator

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from chargers.simulator.station import Options
from tests.chargers.central_system import CentralSystem, FleetThread, running, station_spec

LONG = Options(meter_interval=0.1, duration=30.0)  # charges until stopped
TOKEN_201 = {"id_token": "TOKEN-1", "type": "ISO14443"}


@pytest.fixture
def central() -> Iterator[CentralSystem]:
    central = CentralSystem().start()
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


def statuses(central: CentralSystem, connector: int) -> list[str]:
    return [
        p.get("status") or p["connectorStatus"]
        for p in central.payloads("StatusNotification")
        if p.get("connectorId" if "status" in p else "evseId") == connector
    ]


# --- remote start and stop -------------------------------------------------------------------


def test_a_remote_start_authorizes_and_charges_until_the_remote_stop_on_1_6(
    central: CentralSystem, v16: FleetThread
) -> None:
    answer = central.call(
        "SIM-0001", call16.RemoteStartTransaction(id_tag="TOKEN-1", connector_id=2)
    )
    central.wait_for(lambda: central.received("MeterValues"), "meter values")
    stopped = central.call("SIM-0001", call16.RemoteStopTransaction(transaction_id=1001))
    central.wait_for(lambda: central.received("StopTransaction"), "the stop")

    assert answer.status == "Accepted"
    assert stopped.status == "Accepted"
    assert [
        f.action for f in central.received() if f.action in ("Authorize", "StartTransaction")
    ] == [
        "Authorize",
        "StartTransaction",
    ]
    assert central.payloads("StartTransaction")[0]["connectorId"] == 2
    assert central.payloads("StopTransaction")[0]["reason"] == "Remote"
    assert central.errors == []


def test_a_remote_start_is_rejected_where_it_cannot_charge_on_1_6(
    central: CentralSystem, v16: FleetThread
) -> None:
    first = central.call(
        "SIM-0001", call16.RemoteStartTransaction(id_tag="TOKEN-1", connector_id=1)
    )
    busy = central.call("SIM-0001", call16.RemoteStartTransaction(id_tag="TOKEN-1", connector_id=1))
    unknown = central.call(
        "SIM-0001", call16.RemoteStartTransaction(id_tag="TOKEN-1", connector_id=7)
    )
    stop_unknown = central.call("SIM-0001", call16.RemoteStopTransaction(transaction_id=4242))

    assert (first.status, busy.status, unknown.status) == ("Accepted", "Rejected", "Rejected")
    assert stop_unknown.status == "Rejected"


def test_a_remote_start_without_a_connector_takes_a_free_one_on_1_6(
    central: CentralSystem, v16: FleetThread
) -> None:
    central.call("SIM-0001", call16.RemoteStartTransaction(id_tag="TOKEN-1", connector_id=1))
    second = central.call("SIM-0001", call16.RemoteStartTransaction(id_tag="TOKEN-1"))
    central.wait_for(lambda: len(central.received("StartTransaction")) == 2, "two starts")

    assert second.status == "Accepted"
    assert sorted(p["connectorId"] for p in central.payloads("StartTransaction")) == [1, 2]


def test_a_request_start_charges_until_the_request_stop_on_2_0_1(
    central: CentralSystem, v201: FleetThread
) -> None:
    answer = central.call(
        "SIM-0001", call201.RequestStartTransaction(id_token=TOKEN_201, remote_start_id=7)
    )
    central.wait_for(lambda: len(central.received("TransactionEvent")) >= 2, "an update")
    started = central.payloads("TransactionEvent")[0]
    stopped = central.call(
        "SIM-0001",
        call201.RequestStopTransaction(transaction_id=started["transactionInfo"]["transactionId"]),
    )
    central.wait_for(
        lambda: central.payloads("TransactionEvent")[-1]["eventType"] == "Ended", "the end"
    )

    assert (answer.status, stopped.status) == ("Accepted", "Accepted")
    assert started["triggerReason"] == "RemoteStart"
    assert started["transactionInfo"]["remoteStartId"] == 7
    ended = central.payloads("TransactionEvent")[-1]
    assert ended["triggerReason"] == "RemoteStop"
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"
    assert central.received("Authorize")[0].at < central.received("TransactionEvent")[0].at
    assert central.errors == []


def test_a_refused_token_of_a_remote_start_does_not_charge_on_2_0_1(
    central: CentralSystem, v201: FleetThread
) -> None:
    answer = central.call(
        "SIM-0001",
        call201.RequestStartTransaction(
            id_token={"id_token": "STOLEN", "type": "ISO14443"}, remote_start_id=8
        ),
    )
    central.wait_for(lambda: statuses(central, 1)[1:] == ["Occupied", "Available"], "Available")

    assert answer.status == "Accepted"  # accepted, then refused by the Authorize
    assert central.received("TransactionEvent") == []


# --- TriggerMessage ------------------------------------------------------------------------


def test_trigger_status_notification_resends_every_status_on_1_6(
    central: CentralSystem, v16: FleetThread
) -> None:
    answer = central.call("SIM-0001", call16.TriggerMessage(requested_message="StatusNotification"))
    central.wait_for(lambda: len(central.received("StatusNotification")) == 6, "statuses again")

    assert answer.status == "Accepted"
    assert [p["connectorId"] for p in central.payloads("StatusNotification")][3:] == [0, 1, 2]


def test_a_trigger_answered_while_the_first_reports_await_their_answers_is_carried_out(
    central: CentralSystem,
) -> None:
    # A central system slow to answer: the trigger comes while the station still sends its
    # first statuses; what it asks for goes out after them (it was dropped as "offline").
    central.status_delay = 0.5
    with running([station_spec(central, evses=2)], "1.6", LONG):
        central.wait_for(lambda: central.received("StatusNotification"), "the first status")
        answer = central.call(
            "SIM-0001",
            call16.TriggerMessage(requested_message="StatusNotification", connector_id=2),
        )
        central.wait_for(lambda: len(statuses(central, 2)) == 2, "the triggered status")

    assert answer.status == "Accepted"
    assert [p["connectorId"] for p in central.payloads("StatusNotification")] == [0, 1, 2, 2]


def test_trigger_of_one_connector_and_of_what_is_not_supported_on_1_6(
    central: CentralSystem, v16: FleetThread
) -> None:
    one = central.call(
        "SIM-0001", call16.TriggerMessage(requested_message="MeterValues", connector_id=2)
    )
    unknown = central.call(
        "SIM-0001", call16.TriggerMessage(requested_message="StatusNotification", connector_id=9)
    )
    firmware = central.call(
        "SIM-0001", call16.TriggerMessage(requested_message="FirmwareStatusNotification")
    )
    central.wait_for(lambda: central.received("MeterValues"), "the meter values")

    assert (one.status, unknown.status, firmware.status) == (
        "Accepted",
        "Rejected",
        "NotImplemented",
    )
    meter_values = central.payloads("MeterValues")
    assert [p["connectorId"] for p in meter_values] == [2]
    assert meter_values[0]["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"


def test_trigger_status_and_transaction_event_on_2_0_1(
    central: CentralSystem, v201: FleetThread
) -> None:
    status = central.call(
        "SIM-0001",
        call201.TriggerMessage(
            requested_message="StatusNotification", evse={"id": 2, "connector_id": 1}
        ),
    )
    nothing_running = central.call(
        "SIM-0001", call201.TriggerMessage(requested_message="TransactionEvent")
    )
    central.wait_for(lambda: len(central.received("StatusNotification")) == 3, "one more status")
    central.call("SIM-0001", call201.RequestStartTransaction(id_token=TOKEN_201, remote_start_id=1))
    central.wait_for(lambda: central.received("TransactionEvent"), "the start")
    running_one = central.call(
        "SIM-0001", call201.TriggerMessage(requested_message="TransactionEvent")
    )
    central.wait_for(
        lambda: any(p["triggerReason"] == "Trigger" for p in central.payloads("TransactionEvent")),
        "the triggered event",
    )

    assert (status.status, nothing_running.status, running_one.status) == (
        "Accepted",
        "Rejected",
        "Accepted",
    )
    assert central.payloads("StatusNotification")[2]["evseId"] == 2
    assert central.errors == []


# --- Reset ---------------------------------------------------------------------------------


def test_a_soft_reset_stops_the_transaction_and_boots_again_on_1_6(
    central: CentralSystem, v16: FleetThread
) -> None:
    central.call("SIM-0001", call16.RemoteStartTransaction(id_tag="TOKEN-1", connector_id=1))
    central.wait_for(lambda: central.received("MeterValues"), "charging")
    answer = central.call("SIM-0001", call16.Reset(type="Soft"))
    central.wait_for(lambda: len(central.received("BootNotification")) == 2, "the boot again")

    assert answer.status == "Accepted"
    stop = central.received("StopTransaction")[0]
    assert stop.payload["reason"] == "SoftReset"
    assert stop.at < central.received("BootNotification")[1].at
    assert central.connections["SIM-0001"] == 2


def test_an_immediate_reset_on_2_0_1_ends_with_immediate_reset_and_boots_remote_reset(
    central: CentralSystem, v201: FleetThread
) -> None:
    central.call("SIM-0001", call201.RequestStartTransaction(id_token=TOKEN_201, remote_start_id=1))
    central.wait_for(lambda: len(central.received("TransactionEvent")) >= 2, "charging")
    on_idle = central.call("SIM-0001", call201.Reset(type="OnIdle"))
    central.call("SIM-0001", call201.Reset(type="Immediate"))
    central.wait_for(lambda: len(central.received("BootNotification")) == 2, "the boot again")

    assert on_idle.status == "Scheduled"
    ended = [p for p in central.payloads("TransactionEvent") if p["eventType"] == "Ended"]
    assert [e["transactionInfo"]["stoppedReason"] for e in ended] == ["ImmediateReset"]
    assert ended[0]["triggerReason"] == "ResetCommand"
    assert central.payloads("BootNotification")[1]["reason"] == "RemoteReset"


def test_a_reset_of_one_evse_is_rejected_on_2_0_1(
    central: CentralSystem, v201: FleetThread
) -> None:
    assert central.call("SIM-0001", call201.Reset(type="Immediate", evse_id=1)).status == "Rejected"


# --- ChangeAvailability --------------------------------------------------------------------


def test_change_availability_reports_unavailable_and_available_again_on_1_6(
    central: CentralSystem, v16: FleetThread
) -> None:
    off = central.call("SIM-0001", call16.ChangeAvailability(connector_id=0, type="Inoperative"))
    central.wait_for(lambda: statuses(central, 2)[-1] == "Unavailable", "Unavailable")
    refused = central.call(
        "SIM-0001", call16.RemoteStartTransaction(id_tag="TOKEN-1", connector_id=1)
    )
    on = central.call("SIM-0001", call16.ChangeAvailability(connector_id=1, type="Operative"))
    central.wait_for(lambda: statuses(central, 1)[-1] == "Available", "Available")

    assert (off.status, refused.status, on.status) == ("Accepted", "Rejected", "Accepted")
    assert statuses(central, 1) == ["Available", "Unavailable", "Available"]
    assert statuses(central, 2) == ["Available", "Unavailable"]


def test_change_availability_while_charging_is_scheduled_on_2_0_1(
    central: CentralSystem, v201: FleetThread
) -> None:
    central.call(
        "SIM-0001",
        call201.RequestStartTransaction(id_token=TOKEN_201, remote_start_id=1, evse_id=1),
    )
    central.wait_for(lambda: central.received("TransactionEvent"), "charging")
    answer = central.call(
        "SIM-0001",
        call201.ChangeAvailability(operational_status="Inoperative", evse={"id": 1}),
    )
    started = central.payloads("TransactionEvent")[0]
    central.call(
        "SIM-0001",
        call201.RequestStopTransaction(transaction_id=started["transactionInfo"]["transactionId"]),
    )
    central.wait_for(lambda: statuses(central, 1)[-1] == "Unavailable", "Unavailable after")
    unknown = central.call(
        "SIM-0001", call201.ChangeAvailability(operational_status="Inoperative", evse={"id": 5})
    )

    assert answer.status == "Scheduled"
    assert unknown.status == "Rejected"
    assert statuses(central, 1)[-2:] == ["Occupied", "Unavailable"]


# --- UnlockConnector -----------------------------------------------------------------------


def test_unlock_connector_on_1_6(central: CentralSystem, v16: FleetThread) -> None:
    unlocked = central.call("SIM-0001", call16.UnlockConnector(connector_id=1))
    unknown = central.call("SIM-0001", call16.UnlockConnector(connector_id=3))

    assert (unlocked.status, unknown.status) == ("Unlocked", "NotSupported")


def test_unlock_connector_on_1_6_stops_the_transaction_first(
    central: CentralSystem, v16: FleetThread
) -> None:
    central.call("SIM-0001", call16.RemoteStartTransaction(id_tag="TOKEN-1", connector_id=1))
    central.wait_for(lambda: central.received("MeterValues"), "charging")
    answer = central.call("SIM-0001", call16.UnlockConnector(connector_id=1))
    central.wait_for(lambda: central.received("StopTransaction"), "the stop")

    assert answer.status == "Unlocked"
    assert central.payloads("StopTransaction")[0]["reason"] == "UnlockCommand"


def test_unlock_connector_on_2_0_1_refuses_during_a_transaction(
    central: CentralSystem, v201: FleetThread
) -> None:
    free = central.call("SIM-0001", call201.UnlockConnector(evse_id=2, connector_id=1))
    central.call(
        "SIM-0001",
        call201.RequestStartTransaction(id_token=TOKEN_201, remote_start_id=1, evse_id=1),
    )
    central.wait_for(lambda: central.received("TransactionEvent"), "charging")
    busy = central.call("SIM-0001", call201.UnlockConnector(evse_id=1, connector_id=1))
    unknown = central.call("SIM-0001", call201.UnlockConnector(evse_id=1, connector_id=2))

    assert (free.status, busy.status, unknown.status) == (
        "Unlocked",
        "OngoingAuthorizedTransaction",
        "UnknownConnector",
    )
