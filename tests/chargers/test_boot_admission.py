"""chargers.handlers.admitted: what a charge point whose BootNotification was answered Pending
or Rejected may send (1.6 §4.2; 2.0.1 B01.FR.10, B02.FR.09): the gateway asks before every
handler."""

from datetime import timedelta

import pytest
from ocpp.exceptions import SecurityError
from pytest_django import DjangoAssertNumQueries

from chargers.handlers import Context, admitted
from chargers.models import ChargePoint, RegistrationStatus
from locations.models import Location
from ocpi.time import now
from tests.chargers.status_estate import UIDS, call, charge_point, location, partner, statuses
from tests.chargers.test_boot import BOOT_16, trigger

__all__ = ["location", "partner"]  # fixtures

pytestmark = pytest.mark.django_db

BOOT_201 = {"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"}


def context(cp: ChargePoint) -> Context:
    return Context(charge_point=cp, version=cp.connected_version, received_at=now(), unique_id="1")


def booted(status: str, version: str = "1.6") -> ChargePoint:
    """A charge point whose BootNotification was answered `status`."""
    cp = ChargePoint.objects.create(
        identity=f"CP-{version}",
        ocpp_version=version,
        connected_version=version,
        registration_status=status,
    )
    call(cp, "BootNotification", BOOT_16 if version == "1.6" else BOOT_201)
    return cp


def test_a_pending_charge_point_sending_a_status_is_refused_and_nothing_changes(
    location: Location,
) -> None:
    cp = charge_point("1.6", *UIDS, registration_status=RegistrationStatus.PENDING)
    call(cp, "BootNotification", BOOT_16)

    with pytest.raises(SecurityError, match="answered Pending"):
        admitted(context(cp), "StatusNotification")

    assert statuses() == ["AVAILABLE", "AVAILABLE", "AVAILABLE"]


@pytest.mark.parametrize("status", [RegistrationStatus.PENDING, RegistrationStatus.REJECTED])
@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize("action", ["Heartbeat", "StatusNotification", "Authorize"])
def test_pending_and_rejected_charge_points_may_send_nothing_but_boot(
    status: str, version: str, action: str
) -> None:
    cp = booted(status, version)

    with pytest.raises(SecurityError):
        admitted(context(cp), action)
    admitted(context(cp), "BootNotification")  # no SecurityError


def test_an_accepted_charge_point_is_admitted_without_a_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    cp = booted(RegistrationStatus.ACCEPTED)

    with django_assert_num_queries(0):
        admitted(context(cp), "StatusNotification")


def test_a_charge_point_never_answered_is_admitted_whatever_its_registration(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    """A charge point reconnecting does not boot again: B02.FR.09 holds once it was answered."""
    cp = ChargePoint.objects.create(identity="CP", registration_status=RegistrationStatus.PENDING)

    with django_assert_num_queries(0):
        admitted(context(cp), "Heartbeat")


def test_accepted_at_its_next_boot_it_may_send_everything() -> None:
    cp = booted(RegistrationStatus.PENDING)
    ChargePoint.objects.filter(pk=cp.pk).update(registration_status=RegistrationStatus.ACCEPTED)

    call(cp, "BootNotification", BOOT_16)

    admitted(context(cp), "StatusNotification")


def test_a_pending_charge_point_may_send_what_we_triggered() -> None:
    cp = booted(RegistrationStatus.PENDING)
    trigger(cp, "StatusNotification", sent_at=now() - timedelta(seconds=3))

    admitted(context(cp), "StatusNotification")
    with pytest.raises(SecurityError):
        admitted(context(cp), "Heartbeat")


def test_a_pending_station_may_send_the_report_we_asked_for() -> None:
    cp = booted(RegistrationStatus.PENDING, "2.0.1")
    trigger(cp, "", action="GetBaseReport", sent_at=now() - timedelta(seconds=30))

    admitted(context(cp), "NotifyReport")
    with pytest.raises(SecurityError):
        admitted(context(cp), "NotifyMonitoringReport")


def test_a_trigger_long_past_admits_nothing_more() -> None:
    cp = booted(RegistrationStatus.PENDING)
    trigger(cp, "StatusNotification", sent_at=now() - timedelta(minutes=30))

    with pytest.raises(SecurityError):
        admitted(context(cp), "StatusNotification")


def test_a_rejected_charge_point_may_not_send_even_what_we_triggered() -> None:
    cp = booted(RegistrationStatus.REJECTED)
    trigger(cp, "StatusNotification", sent_at=now() - timedelta(seconds=3))

    with pytest.raises(SecurityError, match="answered Rejected"):
        admitted(context(cp), "StatusNotification")
