"""BootNotification and Heartbeat (1.6 and 2.0.1): what a charge point says of itself is kept,
each registration status is answered with its interval and our time; a reboot settles its
transactions (chargers.transactions.after_boot), a BootNotification we asked for does not."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from pytest_django import DjangoAssertNumQueries

from chargers import transactions
from chargers.handlers import Context, handler_for
from chargers.models import CallState, ChargePoint, ChargePointCall, RegistrationStatus
from ocpi.time import now, parse_datetime
from tests.chargers.status_estate import call

pytestmark = pytest.mark.django_db

BOOT_16 = {
    "chargePointVendor": "Alfen BV",
    "chargePointModel": "NG920-61001",
    "chargePointSerialNumber": "ACE0123456",
    "firmwareVersion": "6.1.0-4225",
}
BOOT_201 = {
    "chargingStation": {
        "vendorName": "EVerest",
        "model": "YetiDriver",
        "serialNumber": "EV-0001",
        "firmwareVersion": "2024.9.0",
    },
    "reason": "PowerUp",
}


def make(version: str, **fields: Any) -> ChargePoint:
    return ChargePoint.objects.create(
        identity=f"CP-{version}", ocpp_version=version, connected_version=version, **fields
    )


@pytest.fixture
def reboots(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, datetime]]:
    """The calls of chargers.transactions.after_boot: (identity, at)."""
    seen: list[tuple[str, datetime]] = []
    monkeypatch.setattr(transactions, "after_boot", lambda cp, at: seen.append((cp.identity, at)))
    return seen


def assert_our_time(text: str, before: datetime) -> None:
    assert text.endswith("Z")
    assert before - timedelta(milliseconds=1) <= parse_datetime(text) <= now()


@pytest.mark.parametrize(
    ("version", "payload", "expected"),
    [
        ("1.6", BOOT_16, ("Alfen BV", "NG920-61001", "ACE0123456", "6.1.0-4225")),
        ("2.0.1", BOOT_201, ("EVerest", "YetiDriver", "EV-0001", "2024.9.0")),
    ],
)
def test_a_boot_is_recorded_and_accepted_with_the_heartbeat_interval(
    reboots: list[tuple[str, datetime]],
    version: str,
    payload: dict[str, Any],
    expected: tuple[str, ...],
) -> None:
    cp = make(version, heartbeat_interval=120)
    received = now()

    response = call(cp, "BootNotification", payload, at=received)

    assert (response["status"], response["interval"]) == ("Accepted", 120)
    assert_our_time(response["currentTime"], received)
    stored = ChargePoint.objects.get(pk=cp.pk)
    assert (
        stored.vendor,
        stored.model,
        stored.serial_number,
        stored.firmware_version,
    ) == expected
    assert (stored.booted_at, stored.boot_status) == (received, "Accepted")
    assert cp.boot_status == "Accepted"  # the gateway's copy too
    assert reboots == [(cp.identity, received)]


@pytest.mark.parametrize("status", [RegistrationStatus.PENDING, RegistrationStatus.REJECTED])
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_charge_point_not_accepted_is_told_when_to_boot_again(
    settings: Any, reboots: list[tuple[str, datetime]], version: str, status: str
) -> None:
    settings.OCPP_BOOT_RETRY_SECONDS = 45
    cp = make(version, registration_status=status, heartbeat_interval=120)

    response = call(cp, "BootNotification", BOOT_16 if version == "1.6" else BOOT_201)

    assert (response["status"], response["interval"]) == (status, 45)
    stored = ChargePoint.objects.get(pk=cp.pk)
    assert (stored.boot_status, stored.vendor) == (
        status,
        "Alfen BV" if version == "1.6" else "EVerest",
    )


def test_the_registration_is_read_afresh_not_from_the_gateways_copy() -> None:
    cp = make("1.6", registration_status=RegistrationStatus.PENDING)
    ChargePoint.objects.filter(pk=cp.pk).update(
        registration_status=RegistrationStatus.ACCEPTED, heartbeat_interval=900
    )

    response = call(cp, "BootNotification", BOOT_16)

    assert (response["status"], response["interval"]) == ("Accepted", 900)
    assert cp.boot_status == "Accepted"


def test_the_old_serial_number_field_is_read_when_the_new_one_is_absent() -> None:
    cp = make("1.6")
    payload = {"chargePointVendor": "V", "chargePointModel": "M", "chargeBoxSerialNumber": "B-7"}

    call(cp, "BootNotification", payload)

    stored = ChargePoint.objects.get(pk=cp.pk)
    assert (stored.serial_number, stored.firmware_version) == ("B-7", "")


def test_values_longer_than_we_keep_are_cut() -> None:
    """A vendor relaxation (maxLength) lets them through; the boot is still answered."""
    cp = make("1.6")
    handler = handler_for("1.6", "BootNotification")
    assert handler is not None
    payload = {"chargePointVendor": "V" * 60, "chargePointModel": "M", "firmwareVersion": "f" * 99}

    handler(Context(charge_point=cp, version="1.6", received_at=now(), unique_id="1"), payload)

    stored = ChargePoint.objects.get(pk=cp.pk)
    assert (stored.vendor, stored.firmware_version) == ("V" * 50, "f" * 50)


def test_a_201_boot_we_asked_for_is_no_reboot(reboots: list[tuple[str, datetime]]) -> None:
    cp = make("2.0.1")

    call(cp, "BootNotification", {**BOOT_201, "reason": "Triggered"})

    assert reboots == []
    assert ChargePoint.objects.get(pk=cp.pk).vendor == "EVerest"


def test_a_16_boot_we_asked_for_is_no_reboot(reboots: list[tuple[str, datetime]]) -> None:
    cp = make("1.6")
    asked = now()
    trigger(cp, "BootNotification", sent_at=asked - timedelta(seconds=2))

    call(cp, "BootNotification", BOOT_16, at=asked)

    assert reboots == []


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_boot_retrying_after_pending_is_no_reboot(
    reboots: list[tuple[str, datetime]], version: str
) -> None:
    cp = make(version, registration_status=RegistrationStatus.PENDING)
    payload = BOOT_16 if version == "1.6" else BOOT_201
    first = now()
    call(cp, "BootNotification", payload, at=first)
    ChargePoint.objects.filter(pk=cp.pk).update(registration_status=RegistrationStatus.ACCEPTED)

    response = call(cp, "BootNotification", payload)

    assert response["status"] == "Accepted"
    assert reboots == [(cp.identity, first)]


def test_a_16_boot_long_after_one_we_asked_for_is_a_reboot(
    reboots: list[tuple[str, datetime]],
) -> None:
    cp = make("1.6")
    received = now()
    trigger(cp, "BootNotification", sent_at=received - timedelta(hours=1))

    call(cp, "BootNotification", BOOT_16, at=received)

    assert reboots == [(cp.identity, received)]


# --- Heartbeat ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_heartbeat_is_answered_our_time_without_a_query(
    django_assert_num_queries: DjangoAssertNumQueries, version: str
) -> None:
    cp = make(version)
    before = now()

    with django_assert_num_queries(0):
        response = call(cp, "Heartbeat", {})

    assert_our_time(response["currentTime"], before)


@pytest.mark.parametrize(
    ("version", "payload", "queries"), [("1.6", BOOT_16, 3), ("2.0.1", BOOT_201, 2)]
)
def test_a_boot_is_recorded_and_answered_in_one_update_of_its_charge_point(
    django_assert_num_queries: DjangoAssertNumQueries,
    version: str,
    payload: dict[str, Any],
    queries: int,
) -> None:
    """The UPDATE that records it returns the operator's decision it answers (RETURNING): no
    read before it. Besides it: its open transactions marked rebooted; 1.6 first asks whether
    we triggered it (2.0.1 says so in its reason)."""
    cp = make(version, heartbeat_interval=120)
    ChargePoint.objects.filter(pk=cp.pk).update(heartbeat_interval=300)  # the operator, since

    with django_assert_num_queries(queries) as captured:
        response = call(cp, "BootNotification", payload)

    of_its_row = [query["sql"] for query in captured if '"chargers_chargepoint"' in query["sql"]]
    assert [sql.split(" ", 1)[0] for sql in of_its_row] == ["UPDATE"], of_its_row
    assert (response["status"], response["interval"]) == ("Accepted", 300)
    assert (cp.boot_status, cp.heartbeat_interval) == ("Accepted", 300)


def trigger(cp: ChargePoint, requested: str, *, sent_at: datetime, action: str = "") -> None:
    """A call to `cp` sent at `sent_at` and answered: a TriggerMessage for `requested`, or
    `action` (a request a report answers)."""
    ChargePointCall.objects.create(
        charge_point=cp,
        action=action or "TriggerMessage",
        payload={} if action else {"requestedMessage": requested},
        state=CallState.ANSWERED,
        response={"status": "Accepted"},
        created_at=sent_at,
        sent_at=sent_at,
        deadline=sent_at + timedelta(seconds=30),
        finished_at=sent_at + timedelta(seconds=1),
    )
