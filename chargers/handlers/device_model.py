"""OCPP 2.0.1 device-model reports: NotifyEvent, NotifyReport, NotifyMonitoringReport.

Their content is the charge point's configuration and monitoring, which we do not keep; one
event matters to OCPI: a connector's AvailabilityState, which a station may report with
NotifyEvent instead of StatusNotification (2.0.1 G01; OCPP 2.1 prefers it). It changes our EVSE
exactly as a StatusNotification would. Each message's generatedAt is a clock reading.
"""

import logging
from typing import Any

from chargers.handlers import Context, Payload, handles
from chargers.handlers.offset import measure
from chargers.handlers.status import reported_at
from chargers.status import Report, record

logger = logging.getLogger(__name__)

_CONNECTOR_STATUSES = frozenset({"Available", "Occupied", "Reserved", "Unavailable", "Faulted"})


@handles("2.0.1", "NotifyEvent")
def notify_event(context: Context, payload: Payload) -> Payload:
    measure(context, payload["generatedAt"])
    events = payload["eventData"]
    for event in events:
        report = _availability(context, event)
        if report is not None:
            record(
                charge_point=context.charge_point,
                report=report,
                received_at=context.received_at,
            )
    logger.info(
        "Charge point %s NotifyEvent %s: %s events%s",
        context.charge_point.identity,
        payload["seqNo"],
        len(events),
        ", more to come" if payload.get("tbc") else "",
    )
    return {}


@handles("2.0.1", "NotifyReport", "NotifyMonitoringReport")
def notify_report(context: Context, payload: Payload) -> Payload:
    """A part of a report we asked for (GetBaseReport, GetReport, GetMonitoringReport)."""
    measure(context, payload["generatedAt"])
    logger.info(
        "Charge point %s report of request %s, part %s%s",
        context.charge_point.identity,
        payload["requestId"],
        payload["seqNo"],
        ", more to come" if payload.get("tbc") else "",
    )
    return {}


def _availability(context: Context, event: dict[str, Any]) -> Report | None:
    """The connector status an event reports, if it is one (component Connector, variable
    AvailabilityState, its EVSE and connector ids given)."""
    component, variable = event["component"], event["variable"]
    evse = component.get("evse") or {}
    if (
        component["name"] != "Connector"
        or variable["name"] != "AvailabilityState"
        or event["actualValue"] not in _CONNECTOR_STATUSES
        or "connectorId" not in evse
    ):
        return None
    return Report(
        ocpp_evse_id=evse["id"],
        connector_id=evse["connectorId"],
        status=event["actualValue"],
        reported_at=reported_at(context, event["timestamp"]),
    )
