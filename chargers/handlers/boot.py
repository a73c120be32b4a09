"""BootNotification and Heartbeat: who the charge point is, whether we accept it, our time.

A BootNotification is answered ChargePoint.registration_status (the operator's decision), with
the heartbeat interval when Accepted, else the wait before its next BootNotification
(OCPP_BOOT_RETRY_SECONDS; 1.6 §4.2, 2.0.1 B02/B03); the answer is kept (boot_status) because
until it is Accepted the charge point may send nothing else (chargers.handlers.admitted).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q

from chargers import transactions
from chargers.handlers import Context, Payload, handles
from chargers.handlers.values import clipped
from chargers.models import CallState, ChargePoint, ChargePointCall, RegistrationStatus
from ocpi.querysets import update_returning
from ocpi.time import format_datetime, now

logger = logging.getLogger(__name__)

# A message we asked for follows the answer to our request within seconds; a report in many
# parts (NotifyReport with tbc) may take minutes.
SOLICITED_FOR = timedelta(minutes=5)

# What each report answers (2.0.1 B07, B08, N02); anything may be asked for with TriggerMessage.
_REQUESTED_BY = {
    "NotifyReport": ("GetBaseReport", "GetReport"),
    "NotifyMonitoringReport": ("GetMonitoringReport",),
}


def solicited(charge_point: ChargePoint, action: str, at: datetime) -> bool:
    """Whether we asked `charge_point` for an `action` message lately: a TriggerMessage for it,
    or the request a report answers, sent within SOLICITED_FOR before `at`."""
    asked = Q(action="TriggerMessage", payload__requestedMessage=action)
    if action in _REQUESTED_BY:
        asked |= Q(action__in=_REQUESTED_BY[action])
    return ChargePointCall.objects.filter(
        asked,
        charge_point=charge_point,
        state__in=(CallState.SENT, CallState.ANSWERED),
        sent_at__gte=at - SOLICITED_FOR,
    ).exists()


@handles("1.6", "BootNotification")
def boot_notification_16(context: Context, payload: Payload) -> Payload:
    serial = payload.get("chargePointSerialNumber") or payload.get("chargeBoxSerialNumber")
    return _boot(
        context,
        vendor=payload["chargePointVendor"],
        model=payload["chargePointModel"],
        serial_number=serial,
        firmware_version=payload.get("firmwareVersion"),
        triggered=solicited(context.charge_point, "BootNotification", context.received_at),
    )


@handles("2.0.1", "BootNotification")
def boot_notification_201(context: Context, payload: Payload) -> Payload:
    station = payload["chargingStation"]
    return _boot(
        context,
        vendor=station["vendorName"],
        model=station["model"],
        serial_number=station.get("serialNumber"),
        firmware_version=station.get("firmwareVersion"),
        triggered=payload["reason"] == "Triggered",
    )


@handles("1.6", "Heartbeat")
@handles("2.0.1", "Heartbeat")
def heartbeat(context: Context, payload: Payload) -> Payload:
    """Our time, and nothing written: the gateway records that a message came."""
    return heartbeat_answer()


def heartbeat_answer() -> Payload:
    """A Heartbeat's answer, 1.6 and 2.0.1: our time. Needs no database, so the gateway answers
    an accepted charge point's Heartbeat with it on its event loop (chargers.gateway.dispatch)."""
    return {"currentTime": format_datetime(now())}


def _boot(
    context: Context,
    *,
    vendor: object,
    model: object,
    serial_number: object,
    firmware_version: object,
    triggered: bool,
) -> Payload:
    """Record what it says about itself and answer it. After a reboot its open transactions are
    settled (chargers.transactions.after_boot), whatever we answer: the reboot happened. A
    BootNotification we asked for (`triggered`) is no reboot, nor one that retries after we did
    not accept the last: since that answer it could open no transaction with us."""
    charge_point = context.charge_point
    retry = charge_point.boot_status in (RegistrationStatus.PENDING, RegistrationStatus.REJECTED)
    values: dict[str, object] = {
        "vendor": clipped(vendor, ChargePoint, "vendor"),
        "model": clipped(model, ChargePoint, "model"),
        "serial_number": clipped(serial_number, ChargePoint, "serial_number"),
        "firmware_version": clipped(firmware_version, ChargePoint, "firmware_version"),
        "booted_at": context.received_at,
        "clock_offset": None,  # measured afresh: it may take our time now (handlers.offset)
    }
    # The answer is the operator's decision as the row holds it now (the gateway's copy may be
    # as old as the connection): kept as boot_status and read back by the same UPDATE.
    written = update_returning(
        ChargePoint.objects.filter(pk=charge_point.pk),
        {**values, "boot_status": F("registration_status")},
        ["registration_status", "heartbeat_interval"],
    )
    if not written:
        raise ChargePoint.DoesNotExist(f"Charge point {charge_point.pk} is gone")
    status, interval = written[0]
    values.update(registration_status=status, heartbeat_interval=interval, boot_status=status)
    for name, value in values.items():
        setattr(charge_point, name, value)
    logger.info(
        "Charge point %s booted%s: %r %r serial %r firmware %r; answered %s",
        charge_point.identity,
        " (asked)" if triggered else "",
        values["vendor"],
        values["model"],
        values["serial_number"],
        values["firmware_version"],
        status,
    )
    if not (triggered or retry):
        transactions.after_boot(charge_point, context.received_at)
    accepted = status == RegistrationStatus.ACCEPTED
    return {
        "status": status,
        "currentTime": format_datetime(now()),
        "interval": interval if accepted else settings.OCPP_BOOT_RETRY_SECONDS,
    }
