"""Integrity held by the database itself, whatever code writes (mod_locations.asciidoc:
ids unique per party, EVSE uid per location, connector id per EVSE, evse_id while not
REMOVED; enum values and non-negative ratings)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from locations.models import EVSE, Connector, Location
from ocpi.time import now

pytestmark = pytest.mark.django_db


def location(ocpi_id: str = "LOC1", country_code: str = "BE", party_id: str = "BEC") -> Location:
    return Location.objects.create(
        country_code=country_code,
        party_id=party_id,
        ocpi_id=ocpi_id,
        address="F.Rooseveltlaan 3A",
        city="Gent",
        country="BEL",
        latitude="51.047599",
        longitude="3.729944",
        time_zone="Europe/Brussels",
        last_updated=now(),
    )


def evse(at: Location, uid: str = "3256", **fields: Any) -> EVSE:
    return EVSE.objects.create(location=at, uid=uid, last_updated=now(), **fields)


def connector(of: EVSE, ocpi_id: str = "1", **fields: Any) -> Connector:
    values = {
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 16,
        **fields,
    }
    return Connector.objects.create(evse=of, ocpi_id=ocpi_id, last_updated=now(), **values)


def refused(write: Callable[[], object]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_location_id_is_unique_per_party_case_insensitively() -> None:
    location("LOC1")

    refused(lambda: location("loc1", "be", "bec"))
    location("LOC1", "NL", "TNM")

    assert Location.objects.count() == 2


def test_evse_uid_is_unique_per_location_case_insensitively() -> None:
    first, second = location("LOC1"), location("LOC2")
    evse(first, "E-1")

    refused(lambda: evse(first, "e-1"))
    evse(second, "E-1")

    assert EVSE.objects.count() == 2


def test_evse_id_is_unique_among_evses_that_are_not_removed() -> None:
    first, second = location("LOC1"), location("LOC2")
    evse(first, "A", evse_id="BE*BEC*E1", status="REMOVED")
    evse(first, "B", evse_id="BE*BEC*E1")
    evse(first, "C")
    evse(first, "D")  # several EVSEs without evse_id

    refused(lambda: evse(second, "E", evse_id="be*bec*e1"))

    assert EVSE.objects.count() == 4


def test_connector_id_is_unique_per_evse() -> None:
    at = location()
    first, second = evse(at, "A"), evse(at, "B")
    connector(first, "1")

    refused(lambda: connector(first, "1"))
    connector(second, "1")

    assert Connector.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"standard": "IEC_60309_2_SINGLE_16"}, "standard"),
        ({"format": "socket"}, "format"),
        ({"power_type": "AC"}, "power_type"),
        ({"max_voltage": -1}, "max_voltage"),
        ({"max_amperage": -16}, "max_amperage"),
        ({"max_electric_power": -1}, "max_electric_power"),
    ],
)
def test_connector_values_are_checked(fields: dict[str, Any], field: str) -> None:
    at = evse(location())

    refused(lambda: connector(at, **fields))

    assert not Connector.objects.filter(**{f"{field}__in": [fields[field]]}).exists()


def test_evse_status_and_parking_type_are_checked() -> None:
    at = location()

    refused(lambda: evse(at, status="available"))
    refused(lambda: Location.objects.filter(pk=at.pk).update(parking_type="STREET"))

    assert EVSE.objects.count() == 0


def test_evse_coordinates_come_in_pairs() -> None:
    at = location()

    refused(lambda: evse(at, latitude="51.047599"))


def test_evses_and_connectors_are_never_deleted_from_under_their_parents() -> None:
    at = location()
    connector(evse(at))

    with pytest.raises(ProtectedError):
        at.evses.get().delete()

    assert Connector.objects.count() == 1
