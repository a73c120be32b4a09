"""StatusNotification (1.6 and 2.0.1) → our EVSEs' OCPI statuses, each change one PATCH to the
partners: the one table, connector 0 / EVSE 0, several connectors per EVSE, reports out of
order, connectors we do not map."""

import json
import logging
from datetime import timedelta
from pathlib import Path

import ocpp
import pytest
from pytest_django import DjangoAssertNumQueries

from chargers.handlers import Context, handler_for
from chargers.models import ConnectorStatus
from chargers.status import TO_OCPI
from credentials.models import PartnerPlatform
from locations.models import EVSE, Location
from locations.services import evse_set_status
from ocpi.time import now
from push.models import Delivery
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

SCHEMAS = Path(ocpp.__file__).parent


def status_16(connector: int, status: str, **fields: object) -> dict[str, object]:
    return {"connectorId": connector, "errorCode": "NoError", "status": status, **fields}


def status_201(evse: int, connector: int, status: str, at: str | None = None) -> dict[str, object]:
    return {
        "timestamp": at or stamp(now()),
        "connectorStatus": status,
        "evseId": evse,
        "connectorId": connector,
    }


# --- the table ----------------------------------------------------------------------------


def test_the_table_maps_every_status_of_both_versions_and_nothing_else() -> None:
    v16 = json.loads((SCHEMAS / "v16/schemas/StatusNotification.json").read_text())
    v201 = json.loads(
        (SCHEMAS / "v201/schemas/StatusNotificationRequest.json").read_text(encoding="utf-8-sig")
    )
    enum_201 = v201["definitions"]["ConnectorStatusEnumType"]["enum"]

    assert set(TO_OCPI) == set(v16["properties"]["status"]["enum"]) | set(enum_201)


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("Available", "AVAILABLE"),
        ("Preparing", "CHARGING"),
        ("Charging", "CHARGING"),
        ("SuspendedEV", "CHARGING"),
        ("SuspendedEVSE", "CHARGING"),
        ("Finishing", "CHARGING"),
        ("Reserved", "RESERVED"),
        ("Unavailable", "INOPERATIVE"),
        ("Faulted", "OUTOFORDER"),
    ],
)
def test_each_16_status_sets_its_evse_and_patches_it(
    location: Location, reported: str, expected: str
) -> None:
    cp = charge_point("1.6", *UIDS)
    evse_set_status(evse=EVSE.objects.get(uid="LOC1-E0"), status="UNKNOWN")

    assert call(cp, "StatusNotification", status_16(1, reported)) == {}

    assert statuses() == [expected, "AVAILABLE", "AVAILABLE"]
    assert patches() == [patch_of("LOC1-E0", "UNKNOWN"), patch_of("LOC1-E0", expected)]


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("Available", "AVAILABLE"),
        ("Occupied", "CHARGING"),
        ("Reserved", "RESERVED"),
        ("Unavailable", "INOPERATIVE"),
        ("Faulted", "OUTOFORDER"),
    ],
)
def test_each_201_status_sets_its_evse_and_patches_it(
    location: Location, reported: str, expected: str
) -> None:
    cp = charge_point("2.0.1", *UIDS)
    evse_set_status(evse=EVSE.objects.get(uid="LOC1-E1"), status="UNKNOWN")

    assert call(cp, "StatusNotification", status_201(2, 1, reported)) == {}

    assert statuses() == ["AVAILABLE", expected, "AVAILABLE"]
    assert patches() == [patch_of("LOC1-E1", "UNKNOWN"), patch_of("LOC1-E1", expected)]


def test_the_patch_is_queued_for_the_partner(location: Location, partner: PartnerPlatform) -> None:
    cp = charge_point("1.6", *UIDS)

    call(cp, "StatusNotification", status_16(3, "Charging"))

    delivery = Delivery.objects.select_related("change").get(change__method="PATCH")
    assert (delivery.partner, delivery.to_country_code, delivery.to_party_id) == (
        partner,
        "DE",
        "MSP",
    )
    assert delivery.change.method == "PATCH"
    assert delivery.change.path == ["BE", "BEC", "LOC1", "LOC1-E2"]
    assert delivery.change.payload is not None
    assert set(delivery.change.payload) == {"status", "last_updated"}


def test_the_same_status_again_patches_nothing_more(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)

    call(cp, "StatusNotification", status_16(1, "Preparing"))
    call(cp, "StatusNotification", status_16(1, "Charging"))  # still CHARGING for OCPI
    call(cp, "StatusNotification", status_16(1, "Charging"))

    assert patches() == [patch_of("LOC1-E0", "CHARGING")]
    assert ConnectorStatus.objects.get(ocpp_evse_id=1).status == "Charging"


def test_a_repeated_status_only_updates_its_row(
    location: Location, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """What a charge point reconnecting sends for every connector: no EVSE is locked."""
    cp = charge_point("1.6", *UIDS)
    call(cp, "StatusNotification", status_16(1, "Charging"))

    # One conditional UPDATE of its row, no transaction.
    with django_assert_num_queries(1):
        call(cp, "StatusNotification", status_16(1, "Charging"))


def test_a_repeated_status_moves_its_time_on_and_keeps_its_new_error(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    moment = now()
    call(cp, "StatusNotification", status_16(1, "Faulted", timestamp=stamp(moment, -20)))

    repeated = status_16(1, "Faulted", errorCode="GroundFailure", timestamp=stamp(moment, -10))
    call(cp, "StatusNotification", repeated, at=moment)

    row = ConnectorStatus.objects.get(ocpp_evse_id=1)
    assert (row.status, row.error_code, row.reported_at, row.received_at) == (
        "Faulted",
        "GroundFailure",
        moment - timedelta(seconds=10),
        moment,
    )
    assert patches() == [patch_of("LOC1-E0", "OUTOFORDER")]


def test_a_repeated_status_older_than_the_last_is_kept_out(location: Location) -> None:
    """Else a later report older than the last applied could pass as newer than it."""
    cp = charge_point("1.6", *UIDS)
    moment = now()
    call(cp, "StatusNotification", status_16(1, "Charging", timestamp=stamp(moment, -10)))

    older = status_16(1, "Charging", info="late", timestamp=stamp(moment, -20))
    call(cp, "StatusNotification", older)
    call(cp, "StatusNotification", status_16(1, "Available", timestamp=stamp(moment, -15)))

    row = ConnectorStatus.objects.get(ocpp_evse_id=1)
    assert (row.status, row.info, row.reported_at) == (
        "Charging",
        "",
        moment - timedelta(seconds=10),
    )
    assert statuses()[0] == "CHARGING"


def test_a_status_repeating_another_connectors_is_no_repeat_for_its_own(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    call(cp, "StatusNotification", status_16(1, "Charging"))
    call(cp, "StatusNotification", status_16(2, "Available"))

    call(cp, "StatusNotification", status_16(2, "Charging"))

    assert statuses()[:2] == ["CHARGING", "CHARGING"]
    assert [row.status for row in ConnectorStatus.objects.order_by("ocpp_evse_id")] == [
        "Charging",
        "Charging",
    ]


# --- the charge point as a whole ----------------------------------------------------------


def test_connector_0_faulted_puts_every_evse_out_of_order_but_one_in_use(
    location: Location,
) -> None:
    cp = charge_point("1.6", *UIDS)
    call(cp, "StatusNotification", status_16(1, "Reserved"))
    call(cp, "StatusNotification", status_16(2, "Available"))
    call(cp, "StatusNotification", status_16(3, "Charging"))

    call(cp, "StatusNotification", status_16(0, "Faulted", errorCode="GroundFailure"))

    assert statuses() == ["OUTOFORDER", "OUTOFORDER", "CHARGING"]


def test_connector_0_clearing_returns_each_evse_to_its_own_status(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    call(cp, "StatusNotification", status_16(1, "Reserved"))
    call(cp, "StatusNotification", status_16(2, "Available"))
    call(cp, "StatusNotification", status_16(0, "Unavailable"))
    assert statuses() == ["INOPERATIVE", "INOPERATIVE", "INOPERATIVE"]

    call(cp, "StatusNotification", status_16(0, "Available"))

    # The third never reported: nothing is known of it.
    assert statuses() == ["RESERVED", "AVAILABLE", "UNKNOWN"]
    assert patches()[-3:] == [
        patch_of("LOC1-E0", "RESERVED"),
        patch_of("LOC1-E1", "AVAILABLE"),
        patch_of("LOC1-E2", "UNKNOWN"),
    ]


def test_a_report_of_an_evse_while_the_whole_is_unavailable_stays_overridden(
    location: Location,
) -> None:
    cp = charge_point("1.6", *UIDS)
    call(cp, "StatusNotification", status_16(0, "Unavailable"))

    call(cp, "StatusNotification", status_16(1, "Available"))
    assert statuses()[0] == "INOPERATIVE"
    call(cp, "StatusNotification", status_16(1, "Preparing"))
    assert statuses()[0] == "CHARGING"  # in use: its own status shows


def test_connector_0_available_at_boot_changes_no_evse(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)

    call(cp, "StatusNotification", status_16(0, "Available"))

    assert statuses() == ["AVAILABLE", "AVAILABLE", "AVAILABLE"]
    assert patches() == []


def test_201_evse_0_overrides_and_restores(location: Location) -> None:
    cp = charge_point("2.0.1", *UIDS)
    call(cp, "StatusNotification", status_201(1, 1, "Occupied"))
    call(cp, "StatusNotification", status_201(2, 1, "Available"))
    call(cp, "StatusNotification", status_201(3, 1, "Available"))

    call(cp, "StatusNotification", status_201(0, 1, "Unavailable"))
    assert statuses() == ["CHARGING", "INOPERATIVE", "INOPERATIVE"]

    call(cp, "StatusNotification", status_201(0, 1, "Available"))
    assert statuses() == ["CHARGING", "AVAILABLE", "AVAILABLE"]


# --- several connectors of one 2.0.1 EVSE -------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("Available", "Occupied", "CHARGING"),
        ("Occupied", "Reserved", "CHARGING"),
        ("Reserved", "Available", "RESERVED"),
        ("Faulted", "Available", "AVAILABLE"),
        ("Unavailable", "Faulted", "INOPERATIVE"),
        ("Faulted", "Faulted", "OUTOFORDER"),
    ],
)
def test_an_evse_combines_its_connectors(
    location: Location, first: str, second: str, expected: str
) -> None:
    cp = charge_point("2.0.1", *UIDS)

    call(cp, "StatusNotification", status_201(1, 1, first))
    call(cp, "StatusNotification", status_201(1, 2, second))

    assert statuses()[0] == expected


def test_an_evse_is_free_again_when_its_last_occupied_connector_is(location: Location) -> None:
    cp = charge_point("2.0.1", *UIDS)
    call(cp, "StatusNotification", status_201(1, 1, "Occupied"))
    call(cp, "StatusNotification", status_201(1, 2, "Available"))

    call(cp, "StatusNotification", status_201(1, 1, "Available"))

    assert statuses()[0] == "AVAILABLE"
    assert patches() == [patch_of("LOC1-E0", "CHARGING"), patch_of("LOC1-E0", "AVAILABLE")]


# --- time order ---------------------------------------------------------------------------


def test_an_older_report_is_kept_out(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    moment = now()
    call(cp, "StatusNotification", status_16(1, "Charging", timestamp=stamp(moment, -10)))

    call(cp, "StatusNotification", status_16(1, "Available", timestamp=stamp(moment, -20)))

    assert statuses()[0] == "CHARGING"
    row = ConnectorStatus.objects.get(ocpp_evse_id=1)
    assert (row.status, row.reported_at) == ("Charging", moment - timedelta(seconds=10))


def test_a_report_of_the_same_moment_is_applied(location: Location) -> None:
    cp = charge_point("2.0.1", *UIDS)
    at = stamp(now(), -10)
    call(cp, "StatusNotification", status_201(1, 1, "Occupied", at=at))

    call(cp, "StatusNotification", status_201(1, 1, "Available", at=at))

    assert statuses()[0] == "AVAILABLE"


def test_without_a_timestamp_the_time_of_receipt_counts(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    received = now()

    call(cp, "StatusNotification", status_16(1, "Charging"), at=received)

    assert ConnectorStatus.objects.get(ocpp_evse_id=1).reported_at == received


def test_an_impossible_timestamp_gives_way_to_the_time_of_receipt(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    received = now()
    call(cp, "StatusNotification", status_16(1, "Charging", timestamp=stamp(received, -1)))

    call(
        cp,
        "StatusNotification",
        status_16(1, "Finishing", timestamp="1970-01-01T00:00:10Z"),
        at=received,
    )
    call(cp, "StatusNotification", status_16(1, "Available", timestamp="1970-01-01T00:00:20Z"))

    assert ConnectorStatus.objects.get(ocpp_evse_id=1).status == "Available"
    assert statuses()[0] == "AVAILABLE"


# --- what is kept, what is not applied ----------------------------------------------------


def test_errors_are_kept_and_logged(location: Location, caplog: pytest.LogCaptureFixture) -> None:
    cp = charge_point("1.6", *UIDS)
    payload = status_16(
        2, "Faulted", errorCode="GroundFailure", info="RCD tripped", vendorErrorCode="E42"
    )

    with caplog.at_level(logging.WARNING, logger="chargers.status"):
        call(cp, "StatusNotification", payload)

    row = ConnectorStatus.objects.get(ocpp_evse_id=2)
    assert (row.status, row.error_code, row.info, row.vendor_error_code) == (
        "Faulted",
        "GroundFailure",
        "RCD tripped",
        "E42",
    )
    assert "GroundFailure" in caplog.text
    assert statuses()[1] == "OUTOFORDER"


@pytest.mark.parametrize(
    ("version", "payload"),
    [
        ("1.6", status_16(7, "Faulted", errorCode="PowerMeterFailure")),
        ("2.0.1", {**status_201(9, 1, "Occupied")}),
    ],
)
def test_a_connector_we_do_not_map_is_answered_kept_and_logged(
    location: Location, caplog: pytest.LogCaptureFixture, version: str, payload: dict[str, object]
) -> None:
    cp = charge_point(version, *UIDS)

    with caplog.at_level(logging.WARNING, logger="chargers.status"):
        assert call(cp, "StatusNotification", payload) == {}

    assert statuses() == ["AVAILABLE", "AVAILABLE", "AVAILABLE"]
    assert patches() == []
    row = ConnectorStatus.objects.get(charge_point=cp)
    assert row.status == payload.get("status", payload.get("connectorStatus"))
    assert row.error_code == payload.get("errorCode", "")
    assert "none of our EVSEs" in caplog.text


def test_an_impossible_connector_id_is_answered_and_ignored(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)

    assert call(cp, "StatusNotification", status_16(-1, "Charging")) == {}

    assert not ConnectorStatus.objects.exists()
    assert patches() == []


def test_a_removed_evse_stays_removed(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    evse_set_status(evse=EVSE.objects.get(uid="LOC1-E0"), status="REMOVED")

    call(cp, "StatusNotification", status_16(1, "Charging"))
    call(cp, "StatusNotification", status_16(0, "Faulted"))

    assert statuses() == ["REMOVED", "OUTOFORDER", "OUTOFORDER"]


def test_a_status_longer_than_we_keep_is_cut_not_refused(location: Location) -> None:
    """A vendor relaxation may let through what the schema would refuse."""
    cp = charge_point("1.6", *UIDS)
    handler = handler_for("1.6", "StatusNotification")
    assert handler is not None
    context = Context(charge_point=cp, version="1.6", received_at=now(), unique_id="m-1")

    handler(context, status_16(1, "Available", info="x" * 80, vendorErrorCode="y" * 300))

    row = ConnectorStatus.objects.get(ocpp_evse_id=1)
    assert (row.info, row.vendor_error_code) == ("x" * 50, "y" * 50)
