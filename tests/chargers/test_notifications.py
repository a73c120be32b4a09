"""DataTransfer, security events and the 2.0.1 device-model reports: each answered validly,
what matters recorded or logged (firmware / diagnostics / log statuses:
test_maintenance_notifications.py)."""

import logging
from typing import Any

import pytest

from chargers.models import ChargePoint, ConnectorStatus
from locations.models import Location
from ocpi.time import now
from tests.chargers.status_estate import (
    UIDS,
    call,
    charge_point,
    location,
    partner,
    patch_of,
    patches,
    stamp,
    statuses,
)

__all__ = ["location", "partner"]  # fixtures

pytestmark = pytest.mark.django_db


def make(version: str) -> ChargePoint:
    return ChargePoint.objects.create(
        identity=f"CP-{version}", ocpp_version=version, connected_version=version
    )


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_data_transfer_of_any_vendor_is_unknown_vendor_id(
    version: str, caplog: pytest.LogCaptureFixture
) -> None:
    cp = make(version)

    with caplog.at_level(logging.INFO, logger="chargers.handlers.notifications"):
        response = call(
            cp, "DataTransfer", {"vendorId": "com.example", "messageId": "Hello", "data": "x"}
        )

    assert response == {"status": "UnknownVendorId"}
    assert "'com.example'" in caplog.text


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_security_event_is_a_warning_and_a_clock_reading(
    version: str, caplog: pytest.LogCaptureFixture
) -> None:
    cp = make(version)
    received = now()
    payload = {
        "type": "InvalidCentralSystemCertificate",
        "timestamp": stamp(received, 12),
        "techInfo": "chain\nforged line",
    }

    with caplog.at_level(logging.WARNING, logger="chargers.handlers.notifications"):
        assert call(cp, "SecurityEventNotification", payload, at=received) == {}

    assert "'InvalidCentralSystemCertificate'" in caplog.text
    assert "'chain\\nforged line'" in caplog.text  # one log line, whatever it sends
    assert ChargePoint.objects.get(pk=cp.pk).clock_offset == 12


# --- 2.0.1 device model -------------------------------------------------------------------


def event(name: str, variable: str, value: str, **evse: int) -> dict[str, Any]:
    component: dict[str, Any] = {"name": name}
    if evse:
        component["evse"] = evse
    return {
        "eventId": 1,
        "timestamp": stamp(now()),
        "trigger": "Delta",
        "actualValue": value,
        "eventNotificationType": "HardWiredNotification",
        "component": component,
        "variable": {"name": variable},
    }


def notify_event(*events: dict[str, Any]) -> dict[str, Any]:
    return {"generatedAt": stamp(now()), "seqNo": 0, "eventData": list(events)}


def test_a_connector_availability_event_sets_the_evse_as_a_status_notification_does(
    location: Location,
) -> None:
    cp = charge_point("2.0.1", *UIDS)

    response = call(
        cp,
        "NotifyEvent",
        notify_event(
            event("Connector", "AvailabilityState", "Occupied", id=2, connectorId=1),
            event("EVSE", "Power", "7400", id=2),
        ),
    )

    assert response == {}
    assert statuses() == ["AVAILABLE", "CHARGING", "AVAILABLE"]
    assert patches() == [patch_of("LOC1-E1", "CHARGING")]


@pytest.mark.parametrize(
    "ignored",
    [
        event("Connector", "AvailabilityState", "Occupied", id=2),  # no connector id
        event("Connector", "AvailabilityState", "Broken", id=2, connectorId=1),
        event("Connector", "Enabled", "false", id=2, connectorId=1),
        event("ChargingStation", "AvailabilityState", "Unavailable"),
    ],
)
def test_other_events_change_no_status(location: Location, ignored: dict[str, Any]) -> None:
    cp = charge_point("2.0.1", *UIDS)

    assert call(cp, "NotifyEvent", notify_event(ignored)) == {}

    assert not ConnectorStatus.objects.exists()
    assert patches() == []


@pytest.mark.parametrize("action", ["NotifyReport", "NotifyMonitoringReport"])
def test_reports_are_acknowledged_and_their_time_read(action: str) -> None:
    cp = make("2.0.1")
    received = now()

    response = call(
        cp,
        action,
        {"requestId": 5, "generatedAt": stamp(received, 3), "seqNo": 0, "tbc": True},
        at=received,
    )

    assert response == {}
    assert ChargePoint.objects.get(pk=cp.pk).clock_offset == 3
