"""Firmware, diagnostics and log statuses (chargers.handlers.maintenance): each answered with
the empty answer, kept in the charge point's history (bounded), the firmware's last status on
the charge point too, failures logged as warnings."""

import logging
from datetime import timedelta
from typing import Any

import pytest

from chargers import history
from chargers.models import ChargePoint
from chargers.models_maintenance import MaintenanceEvent
from ocpi.time import now
from tests.chargers.status_estate import call

pytestmark = pytest.mark.django_db


def make(version: str) -> ChargePoint:
    return ChargePoint.objects.create(
        identity=f"CP-{version}", ocpp_version=version, connected_version=version
    )


def kept(cp: ChargePoint) -> list[tuple[str, str, int | None, bool]]:
    return [
        (e.kind, e.status, e.request_id, e.requested)
        for e in MaintenanceEvent.objects.filter(charge_point=cp).order_by("pk")
    ]


@pytest.mark.parametrize(
    ("version", "action", "payload"),
    [
        ("1.6", "FirmwareStatusNotification", {"status": "Installing"}),
        ("1.6", "SignedFirmwareStatusNotification", {"status": "Installing", "requestId": 3}),
        ("2.0.1", "FirmwareStatusNotification", {"status": "Installing", "requestId": 3}),
    ],
)
def test_firmware_status_is_kept_on_the_charge_point_and_in_its_history(
    version: str, action: str, payload: dict[str, Any]
) -> None:
    cp = make(version)
    received = now()

    assert call(cp, action, payload, at=received) == {}

    stored = ChargePoint.objects.get(pk=cp.pk)
    assert (stored.firmware_status, stored.firmware_status_at) == ("Installing", received)
    assert kept(cp) == [("FIRMWARE", "Installing", payload.get("requestId"), False)]
    assert MaintenanceEvent.objects.get().at == received


def test_a_failed_firmware_update_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    cp = make("2.0.1")

    with caplog.at_level(logging.WARNING, logger="chargers.handlers.maintenance"):
        call(cp, "FirmwareStatusNotification", {"status": "InvalidSignature", "requestId": 9})

    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert ChargePoint.objects.get(pk=cp.pk).firmware_status == "InvalidSignature"


@pytest.mark.parametrize(
    ("version", "action", "payload", "kind"),
    [
        ("1.6", "DiagnosticsStatusNotification", {"status": "Uploaded"}, "DIAGNOSTICS"),
        ("1.6", "LogStatusNotification", {"status": "Uploaded", "requestId": 4}, "LOG"),
        ("2.0.1", "LogStatusNotification", {"status": "Uploading", "requestId": 4}, "LOG"),
    ],
)
def test_upload_statuses_are_kept(
    version: str, action: str, payload: dict[str, Any], kind: str
) -> None:
    cp = make(version)

    assert call(cp, action, payload) == {}

    assert kept(cp) == [(kind, payload["status"], payload.get("requestId"), False)]


def test_a_failed_upload_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    cp = make("2.0.1")

    with caplog.at_level(logging.INFO, logger="chargers.handlers.maintenance"):
        call(cp, "LogStatusNotification", {"status": "UploadFailure", "requestId": 2})

    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "Charge point CP-2.0.1 upload UploadFailure (request 2)")
    ]


def test_the_history_keeps_the_most_recent(settings: Any) -> None:
    settings.OCPP_MAINTENANCE_HISTORY_SIZE = 5
    cp = make("1.6")
    start = now()

    for n in range(3 * history.PRUNE_EVERY):
        call(
            cp,
            "DiagnosticsStatusNotification",
            {"status": "Uploading"},
            at=start + timedelta(seconds=n),
        )

    rows = list(MaintenanceEvent.objects.filter(charge_point=cp).order_by("pk"))
    # Pruned every PRUNE_EVERY rows: at most that many more than the size, the newest kept.
    assert 5 <= len(rows) < 5 + history.PRUNE_EVERY
    assert rows[-1].at == start + timedelta(seconds=3 * history.PRUNE_EVERY - 1)
