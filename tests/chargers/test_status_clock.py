"""The charge point's clock offset, read from the timestamps of its status and notification
messages (chargers.handlers.offset): the largest reading since its boot, impossible times
always, a good clock written once."""

import pytest
from pytest_django import DjangoAssertNumQueries

from chargers.handlers import Context
from chargers.handlers.offset import measure
from chargers.models import ChargePoint
from locations.models import Location
from ocpi.time import now
from tests.chargers.status_estate import UIDS, call, charge_point, location, partner, stamp

__all__ = ["location", "partner"]  # fixtures

pytestmark = pytest.mark.django_db


def status(timestamp: str, connector: int = 1) -> dict[str, object]:
    return {
        "connectorId": connector,
        "errorCode": "NoError",
        "status": "Available",
        "timestamp": timestamp,
    }


def stored_offset(cp: ChargePoint) -> float | None:
    return ChargePoint.objects.get(pk=cp.pk).clock_offset


def test_a_clock_ahead_is_measured(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    received = now()

    call(cp, "StatusNotification", status(stamp(received, 42.5)), at=received)

    assert stored_offset(cp) == 42.5


def test_a_late_report_does_not_make_the_clock_look_behind(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    received = now()
    call(cp, "StatusNotification", status(stamp(received, -0.2)), at=received)

    call(cp, "StatusNotification", status(stamp(received, -3600), connector=2), at=received)

    assert stored_offset(cp) == -0.2


def test_a_good_clock_is_written_once(
    location: Location, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    cp = charge_point("1.6", *UIDS)
    received = now()
    call(cp, "StatusNotification", status(stamp(received, -0.3)), at=received)

    # Same reading within the resolution: the status is recorded, the offset not rewritten.
    with django_assert_num_queries(0):
        measure(
            Context(charge_point=cp, version="1.6", received_at=received, unique_id="x"),
            stamp(received, 0.5),
        )

    assert stored_offset(cp) == -0.3


def test_an_impossible_time_is_recorded_whatever_came_before(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    received = now()
    call(cp, "StatusNotification", status(stamp(received, -0.1)), at=received)

    call(cp, "StatusNotification", status("1970-01-01T00:00:00Z"), at=received)

    assert stored_offset(cp) == round(-received.timestamp(), 3)


def test_a_boot_clears_the_offset(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    received = now()
    call(cp, "StatusNotification", status(stamp(received, 600)), at=received)

    call(cp, "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    call(cp, "StatusNotification", status(stamp(received, -0.4)), at=received)

    assert stored_offset(cp) == -0.4


def test_a_timestamp_that_is_no_time_is_no_reading(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    measure(Context(charge_point=cp, version="1.6", received_at=now(), unique_id="x"), "soon")

    assert stored_offset(cp) is None
