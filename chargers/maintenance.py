"""The operator's maintenance calls to a charge point, through chargers.calls, and what their
answers leave behind.

    configuration   1.6 GetConfiguration / ChangeConfiguration; 2.0.1 GetVariables /
                    SetVariables. Answers are kept per charge point (ChargePointSetting), so
                    its page shows the last known values without asking again.
    firmware        UpdateFirmware (1.6 location/retrieveDate; 2.0.1 requestId, firmware.location,
                    retrieveDateTime). The request and every FirmwareStatusNotification are kept
                    (MaintenanceEvent, chargers.handlers.maintenance).
    uploads         1.6 GetDiagnostics → DiagnosticsStatusNotification; 2.0.1 GetLog →
                    LogStatusNotification: tracked the same way.
    the rest        ClearCache, DataTransfer: their answers are the calls' own.

Each function sends (calls.send: never waits) and returns the call; its answer is recorded by a
follow-up (chargers.follow_ups) once it is final, so neither the admin request nor a worker
blocks on a charge point. Payloads are checked against the charge point's OCPP version by
send() (calls.InvalidCall): a 1.6 action asked of a 2.0.1 charge point is refused, nothing sent.
Locations the charge point uploads to or downloads from are the operator's: checked here
(scheme ftp, ftps, http, https or sftp), never fetched by us.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from chargers import calls
from chargers.follow_ups import follow_up
from chargers.models import CallState, ChargePoint, ChargePointCall, OcppVersion
from chargers.models_maintenance import ChargePointSetting, MaintenanceEvent, MaintenanceKind
from ocpi.time import format_datetime

logger = logging.getLogger(__name__)

Payload = dict[str, Any]

LOCATION_SCHEMES = ("ftp", "ftps", "http", "https", "sftp")
LOCATION_MAX_LENGTH = 512  # 2.0.1 FirmwareType.location, LogParametersType.remoteLocation
REQUESTED = "Requested"  # a request's status until its answer is known

# What `get_variables` reads when the operator names none: the 2.0.1 variables an operator
# looks at most (Part 2, appendix "Standardized components"), all Required or common.
COMMON_VARIABLES: tuple[tuple[str, str], ...] = (
    ("OCPPCommCtrlr", "HeartbeatInterval"),
    ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts"),
    ("AuthCtrlr", "AuthorizeRemoteStart"),
    ("AuthCtrlr", "LocalAuthorizeOffline"),
    ("AuthCtrlr", "LocalPreAuthorize"),
    ("AuthCacheCtrlr", "Enabled"),
    ("LocalAuthListCtrlr", "Enabled"),
    ("LocalAuthListCtrlr", "Entries"),
    ("SampledDataCtrlr", "TxUpdatedInterval"),
    ("TxCtrlr", "EVConnectionTimeOut"),
)


class InvalidLocation(ValueError):
    """Not a URL a charge point can upload to or download from; nothing was sent."""


@dataclass(frozen=True)
class VariableRef:
    """A 2.0.1 component/variable/attribute, as ComponentType and VariableType name it."""

    component: str
    variable: str
    attribute: str = "Actual"
    component_instance: str = ""
    variable_instance: str = ""
    evse_id: int = 0

    def payload(self) -> Payload:
        component: Payload = {"name": self.component}
        if self.component_instance:
            component["instance"] = self.component_instance
        if self.evse_id:
            component["evse"] = {"id": self.evse_id}
        variable: Payload = {"name": self.variable}
        if self.variable_instance:
            variable["instance"] = self.variable_instance
        return {"component": component, "variable": variable}

    @classmethod
    def of(cls, result: Payload) -> "VariableRef":
        """The variable a Get/SetVariableResult names."""
        component, variable = result["component"], result["variable"]
        return cls(
            component=component["name"],
            variable=variable["name"],
            attribute=result.get("attributeType") or "Actual",
            component_instance=component.get("instance") or "",
            variable_instance=variable.get("instance") or "",
            evse_id=(component.get("evse") or {}).get("id") or 0,
        )


def check_location(url: str) -> str:
    """`url` stripped, if a charge point can use it: ftp, ftps, http, https or sftp, with a
    host, at most LOCATION_MAX_LENGTH characters. Raises InvalidLocation."""
    url = url.strip()
    if len(url) > LOCATION_MAX_LENGTH:
        raise InvalidLocation(f"A location has at most {LOCATION_MAX_LENGTH} characters")
    try:
        URLValidator(schemes=list(LOCATION_SCHEMES))(url)
    except ValidationError as exc:
        raise InvalidLocation(
            f"Not a URL with scheme {', '.join(LOCATION_SCHEMES)}: {url!r}"
        ) from exc
    return url


# --- configuration (1.6) and variables (2.0.1) ----------------------------------------------


def get_configuration(
    charge_point: ChargePoint, keys: list[str] | None = None, **options: Any
) -> ChargePointCall:
    """1.6 GetConfiguration of `keys` (none: every key it has); the answer is kept."""
    payload: Payload = {"key": keys} if keys else {}
    return calls.send(
        charge_point, "GetConfiguration", payload, follow_up=CONFIGURATION_READ, **options
    )


def change_configuration(
    charge_point: ChargePoint, key: str, value: str, **options: Any
) -> ChargePointCall:
    """1.6 ChangeConfiguration; Accepted or RebootRequired: the value is kept."""
    return calls.send(
        charge_point,
        "ChangeConfiguration",
        {"key": key, "value": value},
        follow_up=CONFIGURATION_CHANGED,
        **options,
    )


def get_variables(
    charge_point: ChargePoint, refs: list[VariableRef] | None = None, **options: Any
) -> ChargePointCall:
    """2.0.1 GetVariables of `refs` (none: COMMON_VARIABLES); each result is kept."""
    wanted = refs or [VariableRef(component, variable) for component, variable in COMMON_VARIABLES]
    payload = {
        "getVariableData": [{**ref.payload(), "attributeType": ref.attribute} for ref in wanted]
    }
    return calls.send(charge_point, "GetVariables", payload, follow_up=VARIABLES_READ, **options)


def set_variables(
    charge_point: ChargePoint, values: list[tuple[VariableRef, str]], **options: Any
) -> ChargePointCall:
    """2.0.1 SetVariables; each value Accepted or RebootRequired is kept."""
    payload = {
        "setVariableData": [
            {**ref.payload(), "attributeType": ref.attribute, "attributeValue": value}
            for ref, value in values
        ]
    }
    return calls.send(charge_point, "SetVariables", payload, follow_up=VARIABLES_SET, **options)


# --- firmware and uploads --------------------------------------------------------------------


def update_firmware(
    charge_point: ChargePoint,
    location: str,
    retrieve_at: datetime,
    *,
    retries: int | None = None,
    retry_interval: int | None = None,
    **options: Any,
) -> ChargePointCall:
    """UpdateFirmware from `location` (checked) at `retrieve_at` or after."""
    location = check_location(location)
    retry = _retries(retries, retry_interval)
    stamp = format_datetime(retrieve_at)
    with transaction.atomic():
        request_id = _next_request_id(charge_point, MaintenanceKind.FIRMWARE)
        if calls.version_of(charge_point) == OcppVersion.V16:
            payload: Payload = {"location": location, "retrieveDate": stamp, **retry}
        else:
            firmware = {"location": location, "retrieveDateTime": stamp}
            payload = {"requestId": request_id, "firmware": firmware, **retry}
        return _requested(
            charge_point,
            "UpdateFirmware",
            payload,
            MaintenanceKind.FIRMWARE,
            request_id,
            location,
            options,
        )


def get_diagnostics(
    charge_point: ChargePoint,
    location: str,
    *,
    start: datetime | None = None,
    stop: datetime | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
    **options: Any,
) -> ChargePointCall:
    """1.6 GetDiagnostics uploaded to `location` (checked)."""
    location = check_location(location)
    payload: Payload = {"location": location, **_retries(retries, retry_interval)}
    if start is not None:
        payload["startTime"] = format_datetime(start)
    if stop is not None:
        payload["stopTime"] = format_datetime(stop)
    with transaction.atomic():
        return _requested(
            charge_point,
            "GetDiagnostics",
            payload,
            MaintenanceKind.DIAGNOSTICS,
            None,
            location,
            options,
        )


def get_log(
    charge_point: ChargePoint,
    location: str,
    *,
    security: bool = False,
    oldest: datetime | None = None,
    latest: datetime | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
    **options: Any,
) -> ChargePointCall:
    """2.0.1 GetLog (DiagnosticsLog, or SecurityLog) uploaded to `location` (checked); 1.6
    charge points with the security extension know it too."""
    location = check_location(location)
    log: Payload = {"remoteLocation": location}
    if oldest is not None:
        log["oldestTimestamp"] = format_datetime(oldest)
    if latest is not None:
        log["latestTimestamp"] = format_datetime(latest)
    with transaction.atomic():
        request_id = _next_request_id(charge_point, MaintenanceKind.LOG)
        payload = {
            "logType": "SecurityLog" if security else "DiagnosticsLog",
            "requestId": request_id,
            "log": log,
            **_retries(retries, retry_interval),
        }
        return _requested(
            charge_point, "GetLog", payload, MaintenanceKind.LOG, request_id, location, options
        )


def _retries(retries: int | None, retry_interval: int | None) -> Payload:
    found: Payload = {}
    if retries is not None:
        found["retries"] = retries
    if retry_interval is not None:
        found["retryInterval"] = retry_interval
    return found


def _next_request_id(charge_point: ChargePoint, kind: str) -> int:
    """One more than the last request id of this kind to the charge point (locked: two
    operators at once get two ids)."""
    ChargePoint.objects.select_for_update().filter(pk=charge_point.pk).values_list(
        "pk", flat=True
    ).first()
    last = MaintenanceEvent.objects.filter(
        charge_point=charge_point, kind=kind, requested=True
    ).aggregate(last=Max("request_id"))["last"]
    return (last or 0) + 1


def _requested(
    charge_point: ChargePoint,
    action: str,
    payload: Payload,
    kind: str,
    request_id: int | None,
    location: str,
    options: dict[str, Any],
) -> ChargePointCall:
    """Send, and keep the request in the history with its call (inside the caller's
    transaction: both or neither)."""
    sent = calls.send(charge_point, action, payload, follow_up=REQUEST_ANSWERED, **options)
    MaintenanceEvent.objects.create(
        charge_point=charge_point,
        kind=kind,
        status=REQUESTED,
        request_id=request_id,
        requested=True,
        detail=location[:255],
        at=sent.created_at,
        call=sent,
    )
    return sent


# --- the rest --------------------------------------------------------------------------------


def clear_cache(charge_point: ChargePoint, **options: Any) -> ChargePointCall:
    return calls.send(charge_point, "ClearCache", {}, **options)


def data_transfer(
    charge_point: ChargePoint,
    vendor_id: str,
    message_id: str = "",
    data: str = "",
    **options: Any,
) -> ChargePointCall:
    payload: Payload = {"vendorId": vendor_id}
    if message_id:
        payload["messageId"] = message_id
    if data:
        payload["data"] = data
    return calls.send(charge_point, "DataTransfer", payload, **options)


# --- follow-ups: what the answers leave behind -----------------------------------------------

CONFIGURATION_READ = "chargers.configuration_read"
CONFIGURATION_CHANGED = "chargers.configuration_changed"
VARIABLES_READ = "chargers.variables_read"
VARIABLES_SET = "chargers.variables_set"
REQUEST_ANSWERED = "chargers.maintenance_request_answered"

# Answers that leave the new value in place (1.6 ConfigurationStatus, 2.0.1 SetVariableStatus).
VALUE_TAKEN = frozenset({"Accepted", "RebootRequired"})
# Answers saying it has no such setting (1.6 ChangeConfiguration NotSupported: "the key is not
# supported"; 2.0.1 Get/SetVariableStatus).
UNKNOWN = frozenset({"NotSupported", "UnknownComponent", "UnknownVariable"})


def _answered(call: ChargePointCall) -> Payload | None:
    answered = call.state == CallState.ANSWERED and call.response is not None
    return call.response if answered else None


@follow_up(CONFIGURATION_READ)
def configuration_read(call: ChargePointCall) -> None:
    """Keep each key reported; one it does not know is forgotten. A read of every key is the
    whole truth: keys no longer reported are forgotten too."""
    answer = _answered(call)
    if answer is None:
        return
    now = call.finished_at or timezone.now()
    keys = answer.get("configurationKey") or []
    for item in keys:
        ref = VariableRef("", item["key"], attribute="")
        ChargePointSetting.objects.update_or_create(
            **_key(ref, call.charge_point_id),
            defaults={
                "value": item.get("value") or "",
                "readonly": item["readonly"],
                "status": "Accepted",
                "updated_at": now,
            },
        )
    ones = ChargePointSetting.objects.filter(charge_point_id=call.charge_point_id, component="")
    if call.payload.get("key"):
        ones.filter(variable__in=answer.get("unknownKey") or []).delete()
    else:
        ones.exclude(variable__in=[item["key"] for item in keys]).delete()


@follow_up(CONFIGURATION_CHANGED)
def configuration_changed(call: ChargePointCall) -> None:
    answer = _answered(call)
    if answer is None:
        return
    ref = VariableRef("", call.payload["key"], attribute="")
    status = answer["status"]
    _kept(call, ref, status, call.payload["value"] if status in VALUE_TAKEN else None)


@follow_up(VARIABLES_READ)
def variables_read(call: ChargePointCall) -> None:
    answer = _answered(call)
    if answer is None:
        return
    for result in answer["getVariableResult"]:
        status = result["attributeStatus"]
        value = result.get("attributeValue") if status == "Accepted" else None
        _kept(call, VariableRef.of(result), status, value)


@follow_up(VARIABLES_SET)
def variables_set(call: ChargePointCall) -> None:
    answer = _answered(call)
    if answer is None:
        return
    asked = {
        VariableRef.of(data): data["attributeValue"] for data in call.payload["setVariableData"]
    }
    for result in answer["setVariableResult"]:
        ref = VariableRef.of(result)
        status = result["attributeStatus"]
        _kept(call, ref, status, asked.get(ref) if status in VALUE_TAKEN else None)


@follow_up(REQUEST_ANSWERED)
def request_answered(call: ChargePointCall) -> None:
    """The request's line in the history gets its answer (or why there is none); its detail
    becomes the file name the charge point answered, if any."""
    answer = _answered(call)
    if answer is not None:
        # 1.6 UpdateFirmware and GetDiagnostics are answered without a status: taken.
        status = str(answer.get("status") or "Accepted")
        detail = answer.get("fileName") or answer.get("filename")
    elif call.state == CallState.FAILED:
        status, detail = f"Refused: {call.error_code}", None
    else:
        status, detail = "No answer", None
    values: Payload = {"status": status[:30]}
    if detail:
        values["detail"] = str(detail)[:255]
    MaintenanceEvent.objects.filter(call=call, requested=True).update(**values)


def _key(ref: VariableRef, charge_point_id: int) -> Payload:
    return {
        "charge_point_id": charge_point_id,
        "component": ref.component,
        "component_instance": ref.component_instance,
        "evse_id": ref.evse_id,
        "variable": ref.variable,
        "variable_instance": ref.variable_instance,
        "attribute": ref.attribute,
    }


def _kept(call: ChargePointCall, ref: VariableRef, status: str, value: str | None) -> None:
    """Record the answer about one setting: its status, its value when known; one the charge
    point does not have is forgotten."""
    now = call.finished_at or timezone.now()
    key = _key(ref, call.charge_point_id)
    if status in UNKNOWN:
        ChargePointSetting.objects.filter(**key).delete()
        return
    defaults: Payload = {"status": status[:30], "updated_at": now}
    if value is not None:
        defaults["value"] = value
    updated = ChargePointSetting.objects.filter(**key).update(**defaults)
    if not updated:
        ChargePointSetting.objects.create(**key, **defaults)
