"""A tariff that connectors still list in tariff_ids is not deleted (mod_tariffs, DELETE:
"it is RECOMMENDED to ensure that the Tariff object is not referenced by any Connector").

The locations app is a sibling layer; tariffs finds its Connector model through the app
registry. These tests build locations through the locations app's own serializer and service.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from credentials.models import LocalParty
from locations.models import EVSE
from locations.serializers import LocationSerializer
from locations.services import evse_set_status, location_upsert
from push.models import Change
from tariffs.models import Tariff
from tariffs.services import TariffInUse, tariff_delete, tariff_references
from tests.tariffs.conftest import simple_tariff

pytestmark = pytest.mark.django_db

Upsert = Callable[[dict[str, Any]], Tariff]


def add_location(location_id: str, tariff_ids: list[str], party_id: str = "ALL") -> None:
    connector = {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 16,
        "tariff_ids": tariff_ids,
        "last_updated": "2024-01-01T00:00:00Z",
    }
    payload = {
        "country_code": "DE",
        "party_id": party_id,
        "id": location_id,
        "publish": True,
        "address": "Street 1",
        "city": "Berlin",
        "country": "DEU",
        "coordinates": {"latitude": "52.52000", "longitude": "13.40500"},
        "time_zone": "Europe/Berlin",
        "evses": [
            {
                "uid": "E1",
                "status": "AVAILABLE",
                "connectors": [connector],
                "last_updated": "2024-01-01T00:00:00Z",
            }
        ],
        "last_updated": "2024-01-01T00:00:00Z",
    }
    serializer = LocationSerializer(data=payload)
    assert serializer.is_valid(), serializer.errors
    location_upsert(data=serializer.validated_data)


def test_a_referenced_tariff_is_not_deleted(upsert: Upsert) -> None:
    tariff = upsert(simple_tariff("T1"))
    add_location("LOC1", ["other", "t1"])  # ids are CiStrings: t1 names T1
    changes = Change.objects.count()

    with pytest.raises(TariffInUse) as refused:
        tariff_delete(tariff=tariff)

    assert refused.value.connectors == ["LOC1/E1/1"]
    assert Tariff.objects.count() == 1
    assert Change.objects.count() == changes


def test_references_count_only_live_connectors_of_the_same_party(
    upsert: Upsert, cpo_party: LocalParty
) -> None:
    tariff = upsert(simple_tariff("T1"))
    add_location("OTHER-PARTY", ["T1"], party_id="XYZ")
    add_location("GONE", ["T1"])
    evse_set_status(evse=EVSE.objects.get(location__ocpi_id="GONE"), status="REMOVED")
    add_location("UNRELATED", ["T2"])

    assert tariff_references(tariff=tariff) == []

    tariff_delete(tariff=tariff)
    assert Tariff.objects.count() == 0


def test_the_admin_refuses_to_delete_a_referenced_tariff(
    admin_client: Client, upsert: Upsert
) -> None:
    tariff = upsert(simple_tariff("T1"))
    add_location("LOC1", ["T1"])

    page = admin_client.get(f"/admin/tariffs/tariff/{tariff.pk}/delete/")
    response = admin_client.post(f"/admin/tariffs/tariff/{tariff.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200
    assert page.context["protected"] == ["Connector LOC1/E1/1 lists tariff T1 in its tariff_ids"]
    assert response.status_code == 200
    assert Tariff.objects.count() == 1
