"""StatusNotification, 1.6 and 2.0.1: each connector's status, our EVSEs' from them
(chargers.status). Always answered: a refused status would be sent again and again."""

from collections.abc import Callable
from datetime import datetime

from chargers import clock, reservations
from chargers.handlers import Context, Payload, handles
from chargers.handlers.offset import measure
from chargers.handlers.values import clipped
from chargers.models import ConnectorStatus, OcppVersion
from chargers.status import Report, record

# 1.6 has no message for a reservation ending at the charge point: its connector leaving
# Reserved for one of these (not for Preparing or Charging: its driver came) says it no longer
# holds it, expired there or dropped (chargers.reservations.connector_released).
RESERVED = "Reserved"
RELEASED = frozenset({"Available", "Unavailable", "Faulted"})


def reported_at(context: Context, timestamp: object) -> datetime:
    """The time a status holds from: the charge point's when given and possible, else ours
    (1.6 timestamp is optional; 2.0.1: "If absent time of receipt of the message will be
    assumed")."""
    if timestamp is None:
        return context.received_at
    measure(context, timestamp)
    moment, _ = clock.charge_point_time(context.charge_point, timestamp, context.received_at)
    return moment


def report_16(context: Context, payload: Payload) -> Report:
    return Report(
        ocpp_evse_id=payload["connectorId"],
        connector_id=0,
        status=clipped(payload["status"], ConnectorStatus, "status"),
        reported_at=reported_at(context, payload.get("timestamp")),
        error_code=clipped(payload["errorCode"], ConnectorStatus, "error_code"),
        info=clipped(payload.get("info"), ConnectorStatus, "info"),
        vendor_error_code=clipped(
            payload.get("vendorErrorCode"), ConnectorStatus, "vendor_error_code"
        ),
    )


def report_201(context: Context, payload: Payload) -> Report:
    return Report(
        ocpp_evse_id=payload["evseId"],
        connector_id=payload["connectorId"],
        status=clipped(payload["connectorStatus"], ConnectorStatus, "status"),
        reported_at=reported_at(context, payload.get("timestamp")),
    )


# The report a StatusNotification makes, by version: the handlers' and the gateway's batches'
# (chargers.gateway.statuses).
REPORTS: dict[str, Callable[[Context, Payload], Report]] = {
    OcppVersion.V16: report_16,
    OcppVersion.V201: report_201,
}


def recorded(context: Context, report: Report, previous: str | None) -> None:
    """What follows once `report` is recorded (`previous`: record's answer)."""
    released = previous == RESERVED and report.status in RELEASED and report.ocpp_evse_id
    if context.version == OcppVersion.V16 and released:
        reservations.connector_released(
            context.charge_point, report.ocpp_evse_id, report.reported_at
        )


@handles(OcppVersion.V16, "StatusNotification")
@handles(OcppVersion.V201, "StatusNotification")
def status_notification(context: Context, payload: Payload) -> Payload:
    report = REPORTS[context.version](context, payload)
    previous = record(
        charge_point=context.charge_point, report=report, received_at=context.received_at
    )
    recorded(context, report, previous)
    return {}
