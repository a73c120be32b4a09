"""How a firmware update and an upload we asked for go (chargers.maintenance): 1.6
FirmwareStatusNotification (and SignedFirmwareStatusNotification of the security extension),
DiagnosticsStatusNotification, LogStatusNotification; 2.0.1 FirmwareStatusNotification,
LogStatusNotification. Each is kept in the charge point's history (MaintenanceEvent, its most
recent OCPP_MAINTENANCE_HISTORY_SIZE), the firmware's last status on the charge point too, and
acknowledged with the empty answer, whatever it says."""

import logging

from django.conf import settings

from chargers.handlers import Context, Payload, handles
from chargers.handlers.values import clipped
from chargers.history import keep_recent
from chargers.models import ChargePoint
from chargers.models_maintenance import MaintenanceEvent, MaintenanceKind

logger = logging.getLogger(__name__)

# Firmware statuses that need someone to look (1.6 FirmwareStatus, 2.0.1 FirmwareStatusEnumType).
FIRMWARE_FAILURES = frozenset(
    {"DownloadFailed", "InstallationFailed", "InstallVerificationFailed", "InvalidSignature"}
)
# Upload statuses that did not upload (1.6 DiagnosticsStatus, 2.0.1 UploadLogStatusEnumType).
UPLOAD_FAILURES = frozenset(
    {"UploadFailed", "UploadFailure", "BadMessage", "PermissionDenied", "NotSupportedOperation"}
)


@handles("1.6", "FirmwareStatusNotification", "SignedFirmwareStatusNotification")
@handles("2.0.1", "FirmwareStatusNotification")
def firmware_status_notification(context: Context, payload: Payload) -> Payload:
    """Kept on the charge point too, where the operator follows an update (its new version
    comes with the BootNotification after it)."""
    charge_point = context.charge_point
    status = clipped(payload["status"], ChargePoint, "firmware_status")
    ChargePoint.objects.filter(pk=charge_point.pk).update(
        firmware_status=status, firmware_status_at=context.received_at
    )
    charge_point.firmware_status = status
    charge_point.firmware_status_at = context.received_at
    _keep(context, MaintenanceKind.FIRMWARE, payload)
    level = logging.WARNING if status in FIRMWARE_FAILURES else logging.INFO
    logger.log(
        level,
        "Charge point %s firmware %s (request %s)",
        charge_point.identity,
        status,
        payload.get("requestId"),
    )
    return {}


@handles("1.6", "DiagnosticsStatusNotification")
def diagnostics_status_notification(context: Context, payload: Payload) -> Payload:
    _upload(context, MaintenanceKind.DIAGNOSTICS, payload)
    return {}


@handles("1.6", "LogStatusNotification")
@handles("2.0.1", "LogStatusNotification")
def log_status_notification(context: Context, payload: Payload) -> Payload:
    _upload(context, MaintenanceKind.LOG, payload)
    return {}


def _upload(context: Context, kind: MaintenanceKind, payload: Payload) -> None:
    _keep(context, kind, payload)
    status = payload["status"]
    logger.log(
        logging.WARNING if status in UPLOAD_FAILURES else logging.INFO,
        "Charge point %s upload %s (request %s)",
        context.charge_point.identity,
        status,
        payload.get("requestId"),
    )


def _keep(context: Context, kind: MaintenanceKind, payload: Payload) -> None:
    event = MaintenanceEvent.objects.create(
        charge_point=context.charge_point,
        kind=kind,
        status=clipped(payload["status"], MaintenanceEvent, "status"),
        request_id=payload.get("requestId"),
        at=context.received_at,
    )
    keep_recent(
        MaintenanceEvent.objects.filter(charge_point=context.charge_point, kind=kind),
        settings.OCPP_MAINTENANCE_HISTORY_SIZE,
        event.pk,
    )
