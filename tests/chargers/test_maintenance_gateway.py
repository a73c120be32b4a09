"""The operator's maintenance, end to end on both OCPP versions: calls made through
chargers.calls / chargers.maintenance / chargers.local_list reach a simulated charge point
(chargers.simulator) through a real gateway; its answers and the notifications that follow
are recorded (follow-ups, chargers.handlers.maintenance), the EVSE an operator switches off is
INOPERATIVE in OCPI and returns to what the charge point reports, the connection history shows
a reset's reboot."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from chargers import calls, local_list, maintenance
from chargers.maintenance import VariableRef
from chargers.models import CallState, ChargePoint, ChargePointCall
from chargers.models_maintenance import (
    ChargePointSetting,
    ConnectionEvent,
    LocalAuthList,
    MaintenanceEvent,
)
from chargers.provisioning import charge_point_provision
from chargers.simulator.station import EvseSpec, Options, Station, StationSpec
from locations.models import Status
from tests.chargers.central_system import FleetThread, running
from tests.chargers.conftest import estate_location, evse
from tests.chargers.gatewayrunner import RunningGateway, eventually
from tests.tokens.conftest import cache_token

pytestmark = pytest.mark.django_db(transaction=True)

IDENTITY = "MAINT-1"
OPTIONS = Options(meter_interval=0.2, duration=30.0)


@dataclass
class Rig:
    version: str
    charge_point: ChargePoint
    fleet: FleetThread

    @property
    def station(self) -> Station:
        return self.fleet.fleet.stations[0]

    def lines(self) -> str:
        return "\n".join(self.fleet.lines)


@pytest.fixture(params=["1.6", "2.0.1"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def rig(version: str, our_parties: Any, eager_tasks: None, settings: Any) -> Iterator[Rig]:
    settings.OCPP_CALL_POLL_SECONDS = 0.05
    estate_location("LOC1", "E1", "E2")
    provisioned = charge_point_provision(
        identity=IDENTITY, evse_refs=["LOC1/E1", "LOC1/E2"], ocpp_version=version
    )
    with RunningGateway("maint-gateway") as gateway:
        spec = StationSpec(
            IDENTITY, gateway.url(IDENTITY), provisioned.password, (EvseSpec(1), EvseSpec(2))
        )
        with running([spec], version, OPTIONS) as fleet:
            rig = Rig(version, provisioned.charge_point, fleet)
            eventually(lambda: rig.station.accepted.is_set() and current().online)
            yield rig


def current() -> ChargePoint:
    return ChargePoint.objects.get(identity=IDENTITY)


def ended(call: ChargePointCall) -> ChargePointCall:
    """The call once final and its follow-up (if any) has run."""
    final = calls.wait(call, timeout=10)
    assert final.state in ChargePointCall.FINAL
    if final.follow_up:
        eventually(lambda: ChargePointCall.objects.get(pk=call.pk).followed_up_at)
    return ChargePointCall.objects.get(pk=call.pk)


def answered(call: ChargePointCall) -> dict[str, Any]:
    final = ended(call)
    assert final.state == CallState.ANSWERED, (final.error_code, final.error_description)
    assert final.response is not None
    return final.response


def statuses() -> list[str]:
    return [evse("LOC1", "E1").status, evse("LOC1", "E2").status]


# --- reset, availability, trigger ----------------------------------------------------------


def test_a_reset_reboots_it_and_the_connection_history_shows_why(rig: Rig) -> None:
    booted = current().booted_at

    assert answered(calls.reset(current(), False)) == {"status": "Accepted"}

    eventually(lambda: current().booted_at != booted and current().online)
    events = list(ConnectionEvent.objects.filter(charge_point=rig.charge_point).order_by("pk"))
    assert [e.kind for e in events] == ["CONNECTED", "DISCONNECTED", "CONNECTED"]
    assert events[0].version == rig.version
    assert events[1].reason == "closed by the charge point"
    assert events[1].close_code == 1000
    assert events[2].connection == events[0].connection + 1


def test_one_evse_set_inoperative_is_inoperative_in_ocpi_and_returns(rig: Rig) -> None:
    eventually(lambda: statuses() == [Status.AVAILABLE, Status.AVAILABLE])

    off = answered(calls.change_availability(current(), False, 2))
    eventually(lambda: statuses() == [Status.AVAILABLE, Status.INOPERATIVE])
    on = answered(calls.change_availability(current(), True, 2))
    eventually(lambda: statuses() == [Status.AVAILABLE, Status.AVAILABLE])

    assert off == on == {"status": "Accepted"}


def test_the_whole_charge_point_set_inoperative_and_back(rig: Rig) -> None:
    eventually(lambda: statuses() == [Status.AVAILABLE, Status.AVAILABLE])

    answered(calls.change_availability(current(), False))
    eventually(lambda: statuses() == [Status.INOPERATIVE, Status.INOPERATIVE])
    answered(calls.change_availability(current(), True))
    eventually(lambda: statuses() == [Status.AVAILABLE, Status.AVAILABLE])


def test_an_unknown_evse_is_rejected(rig: Rig) -> None:
    assert answered(calls.change_availability(current(), False, 9)) == {"status": "Rejected"}
    assert statuses() == [Status.AVAILABLE, Status.AVAILABLE]


def test_a_triggered_status_notification_comes(rig: Rig) -> None:
    before = rig.lines().count("TriggerMessage")

    assert answered(calls.trigger_message(current(), "StatusNotification", 1)) == {
        "status": "Accepted"
    }
    assert rig.lines().count("TriggerMessage StatusNotification: Accepted") == before + 1


# --- configuration (1.6) ------------------------------------------------------------------------


def settings_of(rig: Rig) -> dict[str, tuple[str, bool | None, str]]:
    return {
        s.name: (s.value, s.readonly, s.status)
        for s in ChargePointSetting.objects.filter(charge_point=rig.charge_point)
    }


@pytest.mark.parametrize("version", ["1.6"])
def test_the_configuration_is_read_kept_and_changed(rig: Rig) -> None:
    answered(maintenance.get_configuration(current()))
    kept = settings_of(rig)
    changes = {
        key: answered(maintenance.change_configuration(current(), key, value))["status"]
        for key, value in [
            ("HeartbeatInterval", "120"),
            ("WebSocketPingInterval", "60"),
            ("NumberOfConnectors", "4"),
            ("NoSuchKey", "1"),
        ]
    }
    answered(maintenance.get_configuration(current(), ["HeartbeatInterval", "Gone"]))

    assert len(kept) == 11
    assert kept["NumberOfConnectors"] == ("2", True, "Accepted")
    assert kept["HeartbeatInterval"] == ("300", False, "Accepted")
    assert changes == {
        "HeartbeatInterval": "Accepted",
        "WebSocketPingInterval": "RebootRequired",
        "NumberOfConnectors": "Rejected",
        "NoSuchKey": "NotSupported",
    }
    after = settings_of(rig)
    assert after["HeartbeatInterval"] == ("120", False, "Accepted")
    assert after["WebSocketPingInterval"] == ("60", False, "RebootRequired")
    assert after["NumberOfConnectors"] == ("2", True, "Rejected")
    assert "NoSuchKey" not in after
    assert rig.station.heartbeat_interval == 120


# --- variables (2.0.1) --------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.0.1"])
def test_variables_are_read_kept_and_set_each_with_its_result(rig: Rig) -> None:
    read = answered(maintenance.get_variables(current()))
    heartbeat = VariableRef("OCPPCommCtrlr", "HeartbeatInterval")
    result = answered(
        maintenance.set_variables(
            current(),
            [
                (heartbeat, "120"),
                (VariableRef("OCPPCommCtrlr", "NetworkProfileConnectionAttempts"), "5"),
                (VariableRef("LocalAuthListCtrlr", "ItemsPerMessage"), "5"),
                (VariableRef("NoSuchCtrlr", "X"), "1"),
                (VariableRef("AuthCtrlr", "NoSuchVariable"), "1"),
            ],
        )
    )

    assert len(read["getVariableResult"]) == len(maintenance.COMMON_VARIABLES)
    assert [r["attributeStatus"] for r in result["setVariableResult"]] == [
        "Accepted",
        "RebootRequired",
        "Rejected",
        "UnknownComponent",
        "UnknownVariable",
    ]
    kept = settings_of(rig)
    assert kept["OCPPCommCtrlr/HeartbeatInterval"] == ("120", None, "Accepted")
    assert kept["OCPPCommCtrlr/NetworkProfileConnectionAttempts"] == ("5", None, "RebootRequired")
    assert "LocalAuthListCtrlr/Entries" not in kept  # it has no such variable
    assert "NoSuchCtrlr/X" not in kept
    assert kept["LocalAuthListCtrlr/ItemsPerMessage"] == ("", None, "Rejected")
    assert kept["AuthCacheCtrlr/Enabled"] == ("false", None, "Accepted")


# --- firmware and uploads ---------------------------------------------------------------------


def history(rig: Rig, kind: str) -> list[tuple[bool, str]]:
    return [
        (e.requested, e.status)
        for e in MaintenanceEvent.objects.filter(charge_point=rig.charge_point, kind=kind).order_by(
            "pk"
        )
    ]


def test_a_firmware_update_goes_through_its_steps(rig: Rig) -> None:
    sent = maintenance.update_firmware(
        current(), "https://firmware.example.com/sim-2.0.bin", timezone.now(), retries=2
    )
    answered(sent)
    steps = [
        (True, "Accepted"),
        *((False, s) for s in ("Downloading", "Downloaded", "Installing", "Installed")),
    ]
    eventually(lambda: len(history(rig, "FIRMWARE")) == 5)
    assert history(rig, "FIRMWARE") == steps

    request = MaintenanceEvent.objects.get(call=sent)
    assert request.detail == "https://firmware.example.com/sim-2.0.bin"
    assert current().firmware_status == "Installed"
    if rig.version == "2.0.1":
        assert sent.payload["requestId"] == request.request_id == 1
        assert sent.payload["firmware"]["location"] == request.detail
    else:
        assert sent.payload["location"] == request.detail
        assert sent.payload["retries"] == 2


def test_a_scripted_firmware_failure_is_tracked(rig: Rig) -> None:
    rig.fleet.call(lambda: setattr(rig.station.maintenance, "firmware_failure", "Downloading"))

    answered(
        maintenance.update_firmware(current(), "ftp://files.example.com/fw.bin", timezone.now())
    )

    eventually(lambda: history(rig, "FIRMWARE") == [(True, "Accepted"), (False, "DownloadFailed")])
    assert current().firmware_status == "DownloadFailed"


def test_a_diagnostics_or_log_upload_is_tracked(rig: Rig) -> None:
    location = "sftp://upload.example.com/logs/"
    if rig.version == "1.6":
        sent = maintenance.get_diagnostics(current(), location)
        kind, name = "DIAGNOSTICS", "diagnostics-MAINT-1.log"
        assert answered(sent) == {"fileName": name}
    else:
        sent = maintenance.get_log(current(), location, oldest=timezone.now() - timedelta(days=1))
        kind, name = "LOG", "DiagnosticsLog-MAINT-1.log"
        assert answered(sent) == {"status": "Accepted", "filename": name}

    eventually(
        lambda: (
            history(rig, kind) == [(True, "Accepted"), (False, "Uploading"), (False, "Uploaded")]
        )
    )
    assert MaintenanceEvent.objects.get(call=sent).detail == name


# --- clear cache, data transfer -----------------------------------------------------------------


def test_clear_cache_and_data_transfer_answers(rig: Rig) -> None:
    cleared = answered(maintenance.clear_cache(current()))
    echoed = answered(maintenance.data_transfer(current(), "OCPI-Platform", "Echo", "ping"))
    unknown_message = answered(maintenance.data_transfer(current(), "OCPI-Platform", "Nope"))
    unknown_vendor = answered(maintenance.data_transfer(current(), "com.example", "Echo", "x"))

    assert cleared == {"status": "Accepted"}
    assert rig.station.maintenance.cache_cleared == 1
    assert echoed == {"status": "Accepted", "data": "ping"}
    assert unknown_message == {"status": "UnknownMessageId"}
    assert unknown_vendor == {"status": "UnknownVendorId"}


# --- local list -------------------------------------------------------------------------------


def test_the_local_list_full_then_differential_then_full_after_a_mismatch(rig: Rig) -> None:
    cache_token("CARD-1")
    cache_token("CARD-2", whitelist="ALWAYS")

    full = local_list.sync(current())
    assert full is not None
    answered(full)
    cache_token("CARD-3", whitelist="ALWAYS")
    cache_token("CARD-1", valid=False)
    differential = local_list.sync(current())
    assert differential is not None
    answered(differential)
    held_keys = sorted(rig.station.maintenance.local_list)
    rig.fleet.call(lambda: setattr(rig.station.maintenance, "list_version", 10))
    cache_token("CARD-4", whitelist="ALWAYS")
    mismatched = local_list.sync(current())
    assert mismatched is not None
    assert answered(mismatched) == {"status": "VersionMismatch"}
    eventually(lambda: LocalAuthList.objects.get(charge_point=rig.charge_point).version == 3)
    reported = answered(local_list.get_version(current()))

    prefix = "" if rig.version == "1.6" else "ISO14443 "
    assert held_keys == [f"{prefix}CARD-2", f"{prefix}CARD-3"]
    assert sorted(rig.station.maintenance.local_list) == [
        f"{prefix}CARD-2",
        f"{prefix}CARD-3",
        f"{prefix}CARD-4",
    ]
    assert reported == ({"listVersion": 3} if rig.version == "1.6" else {"versionNumber": 3})
    state = LocalAuthList.objects.get(charge_point=rig.charge_point)
    assert (state.version, state.reported_version, state.status) == (3, 3, "Accepted")
    kinds = [
        (c.payload["updateType"], c.response["status"] if c.response else None)
        for c in ChargePointCall.objects.filter(action="SendLocalList").order_by("created_at")
    ]
    assert kinds == [
        ("Full", "Accepted"),
        ("Differential", "Accepted"),
        ("Differential", "VersionMismatch"),
        ("Full", "Accepted"),
    ]


# --- bad paths --------------------------------------------------------------------------------


def test_an_offline_charge_point_is_refused_at_once_nothing_stored(rig: Rig) -> None:
    rig.fleet.run(rig.station.disconnect(30))
    eventually(lambda: not current().online)
    before = ChargePointCall.objects.count()

    with pytest.raises(calls.ChargePointOffline):
        maintenance.update_firmware(current(), "https://x.example.com/f.bin", timezone.now())
    with pytest.raises(calls.ChargePointOffline):
        maintenance.clear_cache(current())

    assert ChargePointCall.objects.count() == before
    assert not MaintenanceEvent.objects.filter(requested=True).exists()
    events = ConnectionEvent.objects.filter(charge_point=rig.charge_point).order_by("pk")
    assert [e.kind for e in events] == ["CONNECTED", "DISCONNECTED"]


def test_an_action_of_the_other_version_is_refused(rig: Rig) -> None:
    other = maintenance.get_variables if rig.version == "1.6" else maintenance.get_configuration

    with pytest.raises(calls.InvalidCall, match="has no action"):
        other(current())

    assert not ChargePointCall.objects.filter(
        action__in=["GetVariables", "GetConfiguration"]
    ).exists()
