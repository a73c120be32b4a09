"""What a simulated charge point keeps for the operator's maintenance, and its answers to it:
configuration keys (1.6) and device-model variables (2.0.1), a local authorization list (kept,
versioned, reported; authorization itself still asks the central system), firmware updates
(Downloading, Downloaded, Installing, Installed, with a failure that a test scripts), diagnostics
and log uploads, ClearCache and DataTransfer.

`Maintenance` is the state (one per station); `Maintenance16` and `Maintenance201` are the
answers, mixed into the version's link (v16.Link16, v201.Link201). Everything a call sets off
(status notifications) starts after the answer, as OCPP asks.
"""

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

if TYPE_CHECKING:
    from chargers.simulator.station import Station

VENDOR_ID = "OCPI-Platform"  # the DataTransfer vendor it knows: its own
ECHO = "Echo"  # …and the one message of it: the data is answered back
FIRMWARE_STEPS = ("Downloading", "Downloaded", "Installing", "Installed")
# A failing step and the status it ends with (1.6 FirmwareStatus, 2.0.1 alike).
FIRMWARE_FAILURES = {"Downloading": "DownloadFailed", "Installing": "InstallationFailed"}


@dataclass
class Setting:
    value: str
    readonly: bool = False
    reboot: bool = False  # a change takes effect after a reboot (RebootRequired)


def _configuration() -> dict[str, Setting]:
    """A small, realistic 1.6 set (OCPP 1.6 §9)."""
    return {
        "AuthorizeRemoteTxRequests": Setting("true"),
        "ConnectionTimeOut": Setting("60"),
        "HeartbeatInterval": Setting("300"),
        "LocalAuthListEnabled": Setting("true"),
        "LocalAuthListMaxLength": Setting("1000", readonly=True),
        "LocalAuthorizeOffline": Setting("true"),
        "MeterValueSampleInterval": Setting("60"),
        "NumberOfConnectors": Setting("1", readonly=True),
        "SendLocalListMaxLength": Setting("100", readonly=True),
        "SupportedFeatureProfiles": Setting(
            "Core,FirmwareManagement,LocalAuthListManagement,RemoteTrigger", readonly=True
        ),
        "WebSocketPingInterval": Setting("30", reboot=True),
    }


def _variables() -> dict[tuple[str, str], Setting]:
    """A small, realistic 2.0.1 device model (Part 2, appendix: standardized components)."""
    return {
        ("OCPPCommCtrlr", "HeartbeatInterval"): Setting("300"),
        ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts"): Setting("3", reboot=True),
        ("AuthCtrlr", "AuthorizeRemoteStart"): Setting("true"),
        ("AuthCtrlr", "LocalAuthorizeOffline"): Setting("true"),
        ("AuthCtrlr", "LocalPreAuthorize"): Setting("false"),
        ("AuthCacheCtrlr", "Enabled"): Setting("false"),
        ("LocalAuthListCtrlr", "Enabled"): Setting("true"),
        ("LocalAuthListCtrlr", "ItemsPerMessage"): Setting("100", readonly=True),
        ("SampledDataCtrlr", "TxUpdatedInterval"): Setting("60"),
        ("TxCtrlr", "EVConnectionTimeOut"): Setting("60"),
    }


@dataclass
class Maintenance:
    configuration: dict[str, Setting] = field(default_factory=_configuration)
    variables: dict[tuple[str, str], Setting] = field(default_factory=_variables)
    list_version: int = 0
    local_list: dict[str, Any] = field(default_factory=dict)  # case-folded key → its info
    firmware_failure: str = ""  # a step of FIRMWARE_FAILURES that fails
    upload_fails: bool = False
    step_seconds: float = 0.05  # between two status notifications
    cache_cleared: int = 0
    connectors: int = 1

    def __post_init__(self) -> None:
        self.configuration["NumberOfConnectors"].value = str(self.connectors)

    def apply_list(self, version: int, full: bool, entries: list[tuple[str, Any]]) -> str:
        """SendLocalList (both versions; entries: (case-folded key, its info, None to delete
        it)): the status answered."""
        if not full and version <= self.list_version:
            return "VersionMismatch"
        if full:
            self.local_list = {}
        for key, info in entries:
            if info is None:
                self.local_list.pop(key, None)
            else:
                self.local_list[key] = info
        self.list_version = version
        return "Accepted"


class Maintenance16:
    """The 1.6 answers (mixed into v16.Link16, which has `station`)."""

    station: "Station"

    @on(Action16.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        settings = self.station.maintenance.configuration
        asked = key or sorted(settings)
        known = [
            {"key": name, "readonly": settings[name].readonly, "value": settings[name].value}
            for name in asked
            if name in settings
        ]
        unknown = [name for name in asked if name not in settings]
        return result16.GetConfiguration(
            configuration_key=known or None, unknown_key=unknown or None
        )

    @on(Action16.change_configuration)
    def on_change_configuration(self, key: str, value: str, **_: Any) -> Any:
        setting = self.station.maintenance.configuration.get(key)
        status = _changed(setting, value)
        if key == "HeartbeatInterval" and status == "Accepted" and value.isdigit():
            self.station.heartbeat_interval = int(value) or self.station.heartbeat_interval
        self.station.report(f"ChangeConfiguration {key}={value}: {status}")
        return result16.ChangeConfiguration(status=status)

    @on(Action16.update_firmware)
    def on_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> Any:
        self.station.report(f"UpdateFirmware from {location}")
        station = self.station
        station.later(
            lambda: _firmware(station, lambda s: call16.FirmwareStatusNotification(status=s))
        )
        return result16.UpdateFirmware()

    @on(Action16.get_diagnostics)
    def on_get_diagnostics(self, location: str, **_: Any) -> Any:
        station = self.station
        name = f"diagnostics-{station.identity}.log"
        station.report(f"GetDiagnostics to {location}: {name}")
        station.later(
            lambda: _upload(
                station, lambda s: call16.DiagnosticsStatusNotification(status=s), "UploadFailed"
            )
        )
        return result16.GetDiagnostics(file_name=name)

    @on(Action16.clear_cache)
    def on_clear_cache(self, **_: Any) -> Any:
        self.station.maintenance.cache_cleared += 1
        self.station.report("ClearCache: Accepted")
        return result16.ClearCache(status="Accepted")

    @on(Action16.data_transfer)
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None, **_: Any
    ) -> Any:
        status, answer = _data_transfer(vendor_id, message_id, data)
        self.station.report(f"DataTransfer {vendor_id}/{message_id}: {status}")
        return result16.DataTransfer(status=status, data=answer)

    @on(Action16.send_local_list)
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        entries = [
            (entry["id_tag"].upper(), entry.get("id_tag_info"))
            for entry in local_authorization_list or []
        ]
        status = self.station.maintenance.apply_list(list_version, update_type == "Full", entries)
        self.station.report(f"SendLocalList {update_type} v{list_version}: {status}")
        return result16.SendLocalList(status=status)

    @on(Action16.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> Any:
        return result16.GetLocalListVersion(list_version=self.station.maintenance.list_version)


class Maintenance201:
    """The 2.0.1 answers (mixed into v201.Link201, which has `station`)."""

    station: "Station"

    @on(Action201.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        variables = self.station.maintenance.variables
        results = []
        for data in get_variable_data:
            status, setting = _variable(variables, data)
            result = {
                "attribute_status": status,
                "component": data["component"],
                "variable": data["variable"],
            }
            if data.get("attribute_type"):
                result["attribute_type"] = data["attribute_type"]
            if setting is not None and status == "Accepted":
                result["attribute_value"] = setting.value
            results.append(result)
        return result201.GetVariables(get_variable_result=results)

    @on(Action201.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        variables = self.station.maintenance.variables
        results = []
        for data in set_variable_data:
            status, setting = _variable(variables, data)
            if setting is not None:
                status = _changed(setting, data["attribute_value"])
            result = {
                "attribute_status": status,
                "component": data["component"],
                "variable": data["variable"],
            }
            if data.get("attribute_type"):
                result["attribute_type"] = data["attribute_type"]
            results.append(result)
            self.station.report(
                f"SetVariables {data['component']['name']}/{data['variable']['name']}: {status}"
            )
        return result201.SetVariables(set_variable_result=results)

    @on(Action201.update_firmware)
    def on_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> Any:
        station = self.station
        station.report(f"UpdateFirmware {request_id} from {firmware['location']}")
        station.later(
            lambda: _firmware(
                station,
                lambda s: call201.FirmwareStatusNotification(status=s, request_id=request_id),
            )
        )
        return result201.UpdateFirmware(status="Accepted")

    @on(Action201.get_log)
    def on_get_log(self, log_type: str, request_id: int, log: dict[str, Any], **_: Any) -> Any:
        station = self.station
        name = f"{log_type}-{station.identity}.log"
        station.report(f"GetLog {log_type} to {log['remote_location']}: {name}")
        station.later(
            lambda: _upload(
                station,
                lambda s: call201.LogStatusNotification(status=s, request_id=request_id),
                "UploadFailure",
            )
        )
        return result201.GetLog(status="Accepted", filename=name)

    @on(Action201.clear_cache)
    def on_clear_cache(self, **_: Any) -> Any:
        self.station.maintenance.cache_cleared += 1
        self.station.report("ClearCache: Accepted")
        return result201.ClearCache(status="Accepted")

    @on(Action201.data_transfer)
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None, **_: Any
    ) -> Any:
        status, answer = _data_transfer(vendor_id, message_id, data)
        self.station.report(f"DataTransfer {vendor_id}/{message_id}: {status}")
        return result201.DataTransfer(status=status, data=answer)

    @on(Action201.send_local_list)
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        entries = [
            (
                f"{entry['id_token']['type']} {entry['id_token']['id_token'].upper()}",
                entry.get("id_token_info"),
            )
            for entry in local_authorization_list or []
        ]
        status = self.station.maintenance.apply_list(version_number, update_type == "Full", entries)
        self.station.report(f"SendLocalList {update_type} v{version_number}: {status}")
        return result201.SendLocalList(status=status)

    @on(Action201.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> Any:
        return result201.GetLocalListVersion(version_number=self.station.maintenance.list_version)


def _changed(setting: Setting | None, value: str) -> str:
    """A change of `setting` to `value`: the status answered (1.6 ConfigurationStatus; 2.0.1
    SetVariableStatus has the same three)."""
    if setting is None:
        return "NotSupported"
    if setting.readonly:
        return "Rejected"
    setting.value = value
    return "RebootRequired" if setting.reboot else "Accepted"


def _variable(
    variables: dict[tuple[str, str], Setting], data: dict[str, Any]
) -> tuple[str, Setting | None]:
    """(status, the setting) of a Get/SetVariableData: only Actual attributes, no instances."""
    component, variable = data["component"]["name"], data["variable"]["name"]
    if not any(name == component for name, _ in variables):
        return "UnknownComponent", None
    setting = variables.get((component, variable))
    if setting is None:
        return "UnknownVariable", None
    if data.get("attribute_type", "Actual") != "Actual":
        return "NotSupportedAttributeType", None
    return "Accepted", setting


def _data_transfer(vendor_id: str, message_id: str | None, data: Any) -> tuple[str, Any]:
    if vendor_id != VENDOR_ID:
        return "UnknownVendorId", None
    if message_id != ECHO:
        return "UnknownMessageId", None
    return "Accepted", data


async def _firmware(station: "Station", message: Any) -> None:
    """The steps of an update, each notified; a scripted failing step ends it."""
    state = station.maintenance
    for step in FIRMWARE_STEPS:
        await asyncio.sleep(state.step_seconds)
        if step == state.firmware_failure:
            await station.send_now(message(FIRMWARE_FAILURES[step]))
            station.report(f"firmware update: {FIRMWARE_FAILURES[step]}")
            return
        await station.send_now(message(step))
    station.report("firmware update: Installed")


async def _upload(station: "Station", message: Any, failure: str) -> None:
    """Uploading, then Uploaded or (scripted) `failure`, the version's status for it."""
    state = station.maintenance
    await asyncio.sleep(state.step_seconds)
    await station.send_now(message("Uploading"))
    await asyncio.sleep(state.step_seconds)
    status = failure if state.upload_fails else "Uploaded"
    await station.send_now(message(status))
    station.report(f"upload: {status}")
