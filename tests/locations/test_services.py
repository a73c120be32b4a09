"""Writes and their pushes (mod_locations.asciidoc, Flow and Lifecycle, PUT and PATCH):
last_updated moves up the tree, every change queues exactly the right request for every
catalogue partner, nothing is deleted, and the same upsert twice changes nothing."""

import copy
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from credentials.models import PartnerEndpoint, PartnerPlatform
from locations.models import EVSE, Connector, Location
from locations.selectors import location_for_render, version_sql
from locations.serializers import (
    ConnectorSerializer,
    EVSESerializer,
    LocationSerializer,
)
from locations.services import (
    connector_upsert,
    evse_set_status,
    evse_upsert,
    location_set_roaming,
    location_upsert,
)
from ocpi import json, sql
from ocpi import time as ocpi_time
from ocpi.time import format_datetime
from push.models import Change, Delivery, Method
from tests.locations.conftest import example, location_payload, make_partner, upsert, validated

pytestmark = pytest.mark.django_db

PATH = ["BE", "BEC", "LOC1"]


@pytest.fixture
def partners(our_parties: Any) -> list[PartnerPlatform]:
    """Two eMSP platforms (one with two parties), and two that must get nothing: a CPO, and
    an eMSP without a locations Receiver endpoint."""
    first = make_partner("Alpha", "tok-alpha", ("DE", "MSP"), ("DE", "MS2"))
    second = make_partner("Beta", "tok-beta", ("NL", "EMS"))
    cpo = make_partner("Gamma", "tok-gamma", ("FR", "CPO"))
    cpo.roles.update(role="CPO")
    no_endpoint = make_partner("Delta", "tok-delta", ("IT", "EMS"))
    PartnerEndpoint.objects.filter(partner=no_endpoint).delete()
    return [first, second]


def deliveries() -> list[tuple[str, str, str, list[str], Any]]:
    """(partner, to party, method, path, payload) of every queued request, oldest first."""
    return [
        (
            d.partner.name,
            f"{d.to_country_code}*{d.to_party_id}",
            d.change.method,
            d.change.path,
            d.change.payload,
        )
        for d in Delivery.objects.select_related("change", "partner").order_by(
            "change_id", "partner__name", "to_country_code", "to_party_id"
        )
    ]


def for_every_target(method: str, path: list[str], payload: Any) -> list[Any]:
    return [
        ("Alpha", "DE*MS2", method, path, payload),
        ("Alpha", "DE*MSP", method, path, payload),
        ("Beta", "NL*EMS", method, path, payload),
    ]


def last_payload() -> Any:
    change = Change.objects.order_by("pk").last()
    assert change is not None
    return change.payload


def rendered(location: Location) -> Any:
    return json.loads(json.dumps(LocationSerializer(location_for_render(location.pk)).data))


def evse_data(uid: str, **overrides: Any) -> dict[str, Any]:
    evse = copy.deepcopy(example("location_example.json")["evses"][0])
    evse.update({"uid": uid, "evse_id": f"BE*BEC*E{uid}", **overrides})
    serializer = EVSESerializer(data=evse)
    assert serializer.is_valid(), serializer.errors
    return dict(serializer.validated_data)


def connector_data(connector_id: str, **overrides: Any) -> dict[str, Any]:
    connector = {**example("location_example.json")["evses"][0]["connectors"][0], **overrides}
    connector["id"] = connector_id
    serializer = ConnectorSerializer(data=connector)
    assert serializer.is_valid(), serializer.errors
    return dict(serializer.validated_data)


# --- location upsert ----------------------------------------------------------------------


def test_new_location_is_one_put_to_every_catalogue_target(
    partners: list[PartnerPlatform],
) -> None:
    location = upsert(example("location_example.json"))

    assert Change.objects.count() == 1
    assert deliveries() == for_every_target("PUT", PATH, example("location_example.json"))
    assert rendered(location) == example("location_example.json")


def test_the_same_upsert_twice_is_one_row_and_one_push(partners: list[PartnerPlatform]) -> None:
    upsert(example("location_example.json"))
    upsert(example("location_example.json"))

    assert Location.objects.count() == 1
    assert EVSE.objects.count() == 2
    assert Connector.objects.count() == 3
    assert Change.objects.count() == 1


def test_ids_are_matched_case_insensitively_on_upsert(partners: list[PartnerPlatform]) -> None:
    upsert(example("location_example.json"))
    payload = example("location_example.json")
    payload.update(country_code="be", party_id="bec", id="loc1")
    payload["evses"][0]["uid"] = "3256"

    upsert(payload)

    assert Location.objects.get().ocpi_id == "LOC1"
    assert Change.objects.count() == 1


def test_changed_location_is_put_with_a_new_last_updated(partners: list[PartnerPlatform]) -> None:
    upsert(example("location_example.json"))
    payload = {**example("location_example.json"), "name": "Gent Zuid Station"}

    location = upsert(payload)

    assert location.last_updated > validated(payload)["last_updated"]
    assert [change.method for change in Change.objects.all()] == ["PUT", "PUT"]
    assert last_payload()["name"] == "Gent Zuid Station"
    # Unchanged EVSEs and connectors keep their own last_updated.
    assert [evse["last_updated"] for evse in rendered(location)["evses"]] == [
        "2015-06-28T08:12:01Z",
        "2015-06-29T20:39:09Z",
    ]


def test_a_given_last_updated_is_kept_only_when_created(partners: list[PartnerPlatform]) -> None:
    created = upsert(example("location_example.json"))
    payload = {
        **example("location_example.json"),
        "name": "Renamed",
        "last_updated": "2019-06-24T12:39:09Z",
    }

    changed = upsert(payload)

    assert format_datetime(created.last_updated) == "2015-06-29T20:39:09Z"
    assert changed.last_updated > validated(payload)["last_updated"]


def test_only_an_evse_status_changed_is_a_patch_of_that_evse(
    partners: list[PartnerPlatform],
) -> None:
    upsert(example("location_example.json"))
    payload = example("location_example.json")
    payload["evses"][1]["status"] = "CHARGING"

    location = upsert(payload)

    evse = location.evses.get(uid="3257")
    assert deliveries()[3:] == for_every_target(
        "PATCH",
        [*PATH, "3257"],
        {"status": "CHARGING", "last_updated": format_datetime(evse.last_updated)},
    )
    assert location.last_updated == evse.last_updated


def test_evse_left_out_is_removed_not_deleted(partners: list[PartnerPlatform]) -> None:
    upsert(example("location_example.json"))
    payload = example("location_example.json")
    del payload["evses"][0]

    location = upsert(payload)

    assert list(location.evses.order_by("pk").values_list("uid", "status")) == [
        ("3256", "REMOVED"),
        ("3257", "RESERVED"),
    ]
    removed = location.evses.get(uid="3256")
    assert deliveries()[3:] == for_every_target(
        "PATCH",
        [*PATH, "3256"],
        {"status": "REMOVED", "last_updated": format_datetime(removed.last_updated)},
    )


def test_an_upsert_without_evses_key_leaves_the_evses_alone(
    partners: list[PartnerPlatform],
) -> None:
    upsert(example("location_example.json"))
    data = validated({**example("location_example.json"), "name": "Renamed"})
    del data["evses"]

    location = location_upsert(data=data)

    assert list(location.evses.values_list("status", flat=True)) == ["AVAILABLE", "RESERVED"]
    assert len(last_payload()["evses"]) == 2


def test_leaving_out_a_connector_is_refused(partners: list[PartnerPlatform]) -> None:
    upsert(example("location_example.json"))
    payload = example("location_example.json")
    del payload["evses"][0]["connectors"][1]

    with pytest.raises(ValidationError, match="Connectors are never deleted"):
        upsert(payload)

    assert Connector.objects.count() == 3
    assert Change.objects.count() == 1


def test_pushed_payload_keeps_exact_decimals(partners: list[PartnerPlatform]) -> None:
    payload = {
        **example("location_example.json"),
        **example("location_energymix_example_complete.json"),
    }

    upsert(payload)

    stored: Any = Change.objects.get().payload
    # Decimal("0.0006") equals no float: equality proves the digits survived exactly.
    assert stored["energy_mix"] == payload["energy_mix"]
    assert stored["energy_mix"]["environ_impact"][0]["amount"] == Decimal("0.0006")


def test_changes_of_one_location_share_one_queue(partners: list[PartnerPlatform]) -> None:
    location = upsert(example("location_example.json"))
    evse_set_status(evse=location.evses.get(uid="3256"), status="CHARGING")
    upsert(location_payload("LOC2"))

    keys = list(Change.objects.order_by("pk").values_list("object_key", flat=True))
    assert keys == ["LOCATIONS:BE:BEC:LOC1", "LOCATIONS:BE:BEC:LOC1", "LOCATIONS:BE:BEC:LOC2"]


# --- EVSE status --------------------------------------------------------------------------


def test_evse_status_change_bumps_parents_and_is_one_patch_per_target(
    partners: list[PartnerPlatform],
) -> None:
    location = upsert(example("location_example.json"))
    before = location.last_updated

    evse = evse_set_status(evse=location.evses.get(uid="3256"), status="CHARGING")

    location.refresh_from_db()
    assert evse.last_updated > before
    assert location.last_updated == evse.last_updated
    assert Change.objects.count() == 2
    assert deliveries()[3:] == for_every_target(
        "PATCH",
        [*PATH, "3256"],
        {"status": "CHARGING", "last_updated": format_datetime(evse.last_updated)},
    )
    # Its connectors did not change.
    assert [c["last_updated"] for c in rendered(location)["evses"][0]["connectors"]] == [
        "2015-03-16T10:10:02Z",
        "2015-03-18T08:12:01Z",
    ]


def test_setting_the_same_status_again_changes_nothing(partners: list[PartnerPlatform]) -> None:
    location = upsert(example("location_example.json"))
    before = location.last_updated

    evse_set_status(evse=location.evses.get(uid="3256"), status="AVAILABLE")

    location.refresh_from_db()
    assert location.last_updated == before
    assert Change.objects.count() == 1


def test_an_unknown_status_is_refused(partners: list[PartnerPlatform]) -> None:
    location = upsert(example("location_example.json"))

    with pytest.raises(ValidationError):
        evse_set_status(evse=location.evses.get(uid="3256"), status="available")


def test_removed_evse_frees_its_evse_id_for_a_new_one(partners: list[PartnerPlatform]) -> None:
    location = upsert(example("location_example.json"))
    old = evse_set_status(evse=location.evses.get(uid="3256"), status="REMOVED")

    new = evse_upsert(location=location, data=evse_data("3258", evse_id=old.evse_id))

    assert new.evse_id == old.evse_id
    with pytest.raises(ValidationError, match="in use by another EVSE"):
        evse_set_status(evse=old, status="AVAILABLE")


def test_a_refused_status_leaves_the_callers_transaction_usable(
    partners: list[PartnerPlatform],
) -> None:
    """evse_set_status takes no savepoint: its refusal must leave nothing to roll back, so
    a caller in a transaction (the admin's action, EVSE after EVSE) goes on."""
    location = upsert(example("location_example.json"))
    old = evse_set_status(evse=location.evses.get(uid="3256"), status="REMOVED")
    evse_upsert(location=location, data=evse_data("3258", evse_id=old.evse_id))
    patches = Change.objects.filter(method=Method.PATCH).count()

    with transaction.atomic():
        with pytest.raises(ValidationError, match="in use by another EVSE"):
            evse_set_status(evse=old, status="AVAILABLE")
        other = evse_set_status(evse=location.evses.get(uid="3257"), status="OUTOFORDER")

    assert location.evses.get(uid="3256").status == "REMOVED"
    assert other.status == "OUTOFORDER"
    assert Change.objects.filter(method=Method.PATCH).count() == patches + 1


# --- EVSE and connector upserts -----------------------------------------------------------


def test_new_evse_is_a_put_of_the_evse_and_bumps_the_location(
    partners: list[PartnerPlatform],
) -> None:
    location = upsert(example("location_example.json"))
    before = location.last_updated

    evse = evse_upsert(location=location, data=evse_data("3258"))

    location.refresh_from_db()
    assert format_datetime(evse.last_updated) == "2015-06-28T08:12:01Z"  # given, on creation
    assert location.last_updated > before
    assert deliveries()[3:] == for_every_target(
        "PUT",
        [*PATH, "3258"],
        json.loads(json.dumps(EVSESerializer(evse).data)),
    )
    assert [e["uid"] for e in rendered(location)["evses"]] == ["3256", "3257", "3258"]


def test_evse_upsert_with_only_a_new_status_is_a_patch(partners: list[PartnerPlatform]) -> None:
    location = upsert(example("location_example.json"))
    data = validated(example("location_example.json"))["evses"][0]
    data["status"] = "OUTOFORDER"

    evse = evse_upsert(location=location, data=data)

    assert [change.method for change in Change.objects.all()] == ["PUT", "PATCH"]
    assert last_payload() == {
        "status": "OUTOFORDER",
        "last_updated": format_datetime(evse.last_updated),
    }


def test_connector_upsert_is_a_put_of_the_connector_and_bumps_evse_and_location(
    partners: list[PartnerPlatform],
) -> None:
    location = upsert(example("location_example.json"))
    evse = location.evses.get(uid="3257")

    connector = connector_upsert(evse=evse, data=connector_data("1", tariff_ids=["15"]))

    evse.refresh_from_db()
    location.refresh_from_db()
    assert evse.last_updated == connector.last_updated == location.last_updated
    assert deliveries()[3:] == for_every_target(
        "PUT",
        [*PATH, "3257", "1"],
        json.loads(json.dumps(ConnectorSerializer(connector).data)),
    )
    assert last_payload()["tariff_ids"] == ["15"]


def test_unchanged_connector_upsert_changes_nothing(partners: list[PartnerPlatform]) -> None:
    location = upsert(example("location_example.json"))
    data = validated(example("location_example.json"))["evses"][1]["connectors"][0]

    connector_upsert(evse=location.evses.get(uid="3257"), data=data)

    assert Change.objects.count() == 1


# --- roaming ------------------------------------------------------------------------------


def test_location_not_offered_to_roaming_is_never_pushed(partners: list[PartnerPlatform]) -> None:
    location = upsert(example("location_example.json"), roaming=False)
    evse_set_status(evse=location.evses.get(uid="3256"), status="CHARGING")
    evse_upsert(location=location, data=evse_data("3258"))
    upsert({**example("location_example.json"), "name": "Home"})

    assert Change.objects.count() == 0
    assert Location.objects.get().roaming is False


def test_withdrawing_from_roaming_is_a_last_put_with_every_evse_removed(
    partners: list[PartnerPlatform],
) -> None:
    location = upsert(example("location_example.json"))

    location = location_set_roaming(location=location, roaming=False)

    stamp = format_datetime(location.last_updated)
    withdrawal = last_payload()
    assert [(e["uid"], e["status"], e["last_updated"]) for e in withdrawal["evses"]] == [
        ("3256", "REMOVED", stamp),
        ("3257", "REMOVED", stamp),
    ]
    assert withdrawal["last_updated"] == stamp
    # The EVSEs themselves keep their real status.
    assert list(location.evses.values_list("status", flat=True)) == ["AVAILABLE", "RESERVED"]


def test_offering_to_roaming_again_puts_the_real_location(
    partners: list[PartnerPlatform],
) -> None:
    location = upsert(example("location_example.json"), roaming=False)

    location = location_set_roaming(location=location, roaming=True)

    assert Change.objects.count() == 1
    assert Change.objects.get().payload == rendered(location)
    assert rendered(location)["evses"][1]["status"] == "RESERVED"


def test_roaming_flag_through_upsert_withdraws_too(partners: list[PartnerPlatform]) -> None:
    upsert(example("location_example.json"))

    upsert(example("location_example.json"), roaming=False)

    assert [e["status"] for e in last_payload()["evses"]] == [
        "REMOVED",
        "REMOVED",
    ]


# --- last_updated only grows: the version the JSON cache is keyed by (ocpi.jsoncache) -----


def version_of(location: Location) -> str:
    """The version locations.views keys the location's cached JSON by."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {version_sql()} FROM {sql.table(Location)} WHERE id = %s",  # noqa: S608
            [location.pk],
        )
        return str(cursor.fetchone()[0])


def test_writes_in_one_millisecond_give_the_location_new_versions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    location = upsert(example("location_example.json"))
    stopped = location.last_updated - timedelta(minutes=1)  # a clock behind the stored time
    monkeypatch.setattr(ocpi_time, "now", lambda: stopped)
    evse = location.evses.get(uid="3256")

    versions = [version_of(location)]
    for status in ("CHARGING", "AVAILABLE", "CHARGING"):
        evse = evse_set_status(evse=evse, status=status)
        versions.append(version_of(location))

    assert len(set(versions)) == 4
    location.refresh_from_db()
    assert location.last_updated == Location.objects.get().evses.get(uid="3256").last_updated
