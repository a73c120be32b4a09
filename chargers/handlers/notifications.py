"""What else a charge point tells us: firmware, diagnostics and log uploads, security events
(1.6 with its security extension, and 2.0.1), and DataTransfer. Each is acknowledged with the
empty (or the one valid) answer; what an operator needs is recorded or logged.

Certificate management (SignCertificate, Get15118EVCertificate, GetCertificateStatus) is not
handled: the gateway answers it NotImplemented.
"""

import logging

from chargers.handlers import Context, Payload, handles
from chargers.handlers.offset import measure
from chargers.handlers.values import clipped
from chargers.models import ChargePoint

logger = logging.getLogger(__name__)

# Firmware statuses that need someone to look (1.6 FirmwareStatus, 2.0.1 FirmwareStatusEnumType).
FIRMWARE_FAILURES = frozenset(
    {"DownloadFailed", "InstallationFailed", "InstallVerificationFailed", "InvalidSignature"}
)


@handles("1.6", "DataTransfer")
@handles("2.0.1", "DataTransfer")
def data_transfer(context: Context, payload: Payload) -> Payload:
    """We know no vendor's extensions: each is UnknownVendorId (1.6 §4.3, 2.0.1 P02)."""
    logger.info(
        "Charge point %s DataTransfer of vendor %r, message %r: UnknownVendorId",
        context.charge_point.identity,
        payload["vendorId"],
        payload.get("messageId"),
    )
    return {"status": "UnknownVendorId"}


@handles("1.6", "FirmwareStatusNotification", "SignedFirmwareStatusNotification")
@handles("2.0.1", "FirmwareStatusNotification")
def firmware_status_notification(context: Context, payload: Payload) -> Payload:
    """Kept on the charge point, where the operator follows an update (its new version comes
    with the BootNotification after it)."""
    charge_point = context.charge_point
    status = clipped(payload["status"], ChargePoint, "firmware_status")
    ChargePoint.objects.filter(pk=charge_point.pk).update(
        firmware_status=status, firmware_status_at=context.received_at
    )
    charge_point.firmware_status = status
    charge_point.firmware_status_at = context.received_at
    level = logging.WARNING if status in FIRMWARE_FAILURES else logging.INFO
    logger.log(
        level,
        "Charge point %s firmware %s (request %s)",
        charge_point.identity,
        status,
        payload.get("requestId"),
    )
    return {}


@handles("1.6", "DiagnosticsStatusNotification", "LogStatusNotification")
@handles("2.0.1", "LogStatusNotification")
def upload_status_notification(context: Context, payload: Payload) -> Payload:
    """How an upload we asked for (GetDiagnostics, GetLog) goes: its call has the request."""
    logger.info(
        "Charge point %s upload %s (request %s)",
        context.charge_point.identity,
        payload["status"],
        payload.get("requestId"),
    )
    return {}


@handles("1.6", "SecurityEventNotification")
@handles("2.0.1", "SecurityEventNotification")
def security_event_notification(context: Context, payload: Payload) -> Payload:
    """Logged for the operator (2.0.1 A04; the list of security events, Part 2 appendix)."""
    measure(context, payload["timestamp"])
    logger.warning(
        "Charge point %s security event %r at %r: %r",
        context.charge_point.identity,
        payload["type"],
        payload["timestamp"],
        payload.get("techInfo"),
    )
    return {}
