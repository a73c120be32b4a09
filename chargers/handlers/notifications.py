"""What else a charge point tells us: security events (1.6 with its security extension, and
2.0.1), and DataTransfer. Each is acknowledged with the empty (or the one valid) answer; what an
operator needs is recorded or logged. Firmware, diagnostics and log uploads:
chargers.handlers.maintenance.

Certificate management (SignCertificate, Get15118EVCertificate, GetCertificateStatus) is not
handled: the gateway answers it NotImplemented.
"""

import logging

from chargers.handlers import Context, Payload, handles
from chargers.handlers.offset import measure

logger = logging.getLogger(__name__)


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
