"""Calls to charge points from anywhere (issue 12, item 5): the part the admin uses.

The calls helper's version of this module replaces this one at merge (it also validates the
payload against the OCPP schema, wakes the gateways, waits for answers and times calls out).
This one keeps the same contract, so the admin is typed and testable in this branch: send()
refuses a charge point that no gateway holds (ChargePointOffline) and otherwise stores a
PENDING ChargePointCall, returned at once, which the gateway holding the charge point sends.
"""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from chargers.models import ChargePoint, ChargePointCall, OcppVersion

Payload = dict[str, Any]

DEFAULT_TIMEOUT_SECONDS = 30.0


class ChargePointOffline(Exception):
    """No gateway holds the charge point's websocket; nothing was stored."""


def version_of(charge_point: ChargePoint) -> str:
    """The OCPP version its messages use: the one it connected with, else the provisioned one."""
    return charge_point.connected_version or charge_point.ocpp_version


def send(
    charge_point: ChargePoint,
    action: str,
    payload: Payload,
    *,
    timeout: float | None = None,
    requested_by: str = "",
) -> ChargePointCall:
    """Queue a call of `action` to the charge point and return its PENDING row at once."""
    current = ChargePoint.objects.get(pk=charge_point.pk)
    if not current.online:
        raise ChargePointOffline(f"Charge point {current.identity} is not connected")
    now = timezone.now()
    seconds = DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout
    return ChargePointCall.objects.create(
        charge_point=current,
        action=action,
        payload=payload,
        requested_by=requested_by,
        created_at=now,
        deadline=now + timedelta(seconds=seconds),
    )


def trigger_message(
    charge_point: ChargePoint, requested: str, evse_id: int | None = None, **options: Any
) -> ChargePointCall:
    """Ask for a message now (StatusNotification, MeterValues, …), of one EVSE (1.6: its
    connector) or of the charge point. `options` are send()'s."""
    payload: Payload = {"requestedMessage": requested}
    if evse_id is not None:
        if version_of(charge_point) == OcppVersion.V16:
            payload["connectorId"] = evse_id
        else:
            payload["evse"] = {"id": evse_id}
    return send(charge_point, "TriggerMessage", payload, **options)


def change_availability(
    charge_point: ChargePoint, operative: bool, evse_id: int | None = None, **options: Any
) -> ChargePointCall:
    """Make one EVSE (1.6: its connector), or the whole charge point, (in)operative."""
    status = "Operative" if operative else "Inoperative"
    if version_of(charge_point) == OcppVersion.V16:
        # 1.6 ChangeAvailability: connectorId 0 is the charge point as a whole.
        payload: Payload = {"connectorId": evse_id or 0, "type": status}
    else:
        payload = {"operationalStatus": status}
        if evse_id is not None:
            payload["evse"] = {"id": evse_id}
    return send(charge_point, "ChangeAvailability", payload, **options)


def reset(charge_point: ChargePoint, hard: bool, **options: Any) -> ChargePointCall:
    """Reboot the charge point: hard stops transactions at once (1.6 Hard, 2.0.1 Immediate),
    soft lets them end first (1.6 Soft, 2.0.1 OnIdle)."""
    if version_of(charge_point) == OcppVersion.V16:
        payload = {"type": "Hard" if hard else "Soft"}
    else:
        payload = {"type": "Immediate" if hard else "OnIdle"}
    return send(charge_point, "Reset", payload, **options)
