"""The tariff list: each tariff's one-line price summary and the connectors using it, counted
for the whole page at once, linking to the EVSE list filtered by that tariff."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from locations.models import EVSE
from locations.services import evse_set_status
from tariffs.models import Tariff
from tests.tariffs.conftest import simple_tariff
from tests.tariffs.test_references import add_location

pytestmark = pytest.mark.django_db

Upsert = Callable[[dict[str, Any]], Tariff]
LIST = "/admin/tariffs/tariff/"


def counts(response: Any) -> dict[str, int]:
    return {t.ocpi_id: t.connector_count for t in response.context["cl"].result_list}


def test_used_by_counts_connectors_naming_each_tariff(admin_client: Client, upsert: Upsert) -> None:
    for tariff_id in ("T1", "T2", "T10", "IDLE"):
        upsert(simple_tariff(tariff_id))
    add_location("LOC1", ["t1", "T2"])  # ids are CiStrings: t1 names T1
    add_location("LOC2", ["T1"])
    add_location("LOC3", ["T10"])  # "T1" is in "T10" as text, not as an id
    add_location("GONE", ["T2"])
    evse_set_status(evse=EVSE.objects.get(location__ocpi_id="GONE"), status="REMOVED")
    add_location("FOREIGN", ["T1"], party_id="XYZ")  # another party's connector

    response = admin_client.get(LIST)

    assert response.status_code == 200
    assert counts(response) == {"T1": 2, "T2": 1, "T10": 1, "IDLE": 0}
    html = response.content.decode()
    assert '<a href="/admin/locations/evse/?tariff=DE%2AALL%2AT1">2 connectors</a>' in html
    assert ">1 connector</a>" in html
    assert "0.25 EUR/kWh" in html


def test_the_link_lists_the_evses_of_those_connectors(admin_client: Client, upsert: Upsert) -> None:
    upsert(simple_tariff("T1"))
    add_location("LOC1", ["T1"])
    add_location("LOC2", ["T1"])
    add_location("LOC3", ["T10"])

    response = admin_client.get("/admin/locations/evse/", {"tariff": "DE*ALL*t1"})

    assert response.status_code == 200
    listed = [evse.location.ocpi_id for evse in response.context["cl"].result_list]
    assert sorted(listed) == ["LOC1", "LOC2"]
    assert "DE*ALL*t1" in response.content.decode()  # the filter is shown, to be cleared


@pytest.mark.parametrize("value", ["T1", "DE*ALL", "**T1"])
def test_a_malformed_tariff_filter_lists_nothing(
    admin_client: Client, upsert: Upsert, value: str
) -> None:
    upsert(simple_tariff("T1"))
    add_location("LOC1", ["T1"])

    response = admin_client.get("/admin/locations/evse/", {"tariff": value})

    assert list(response.context["cl"].result_list) == []


def test_the_list_costs_the_same_queries_for_one_tariff_or_many(
    admin_client: Client, upsert: Upsert
) -> None:
    upsert(simple_tariff("T0"))
    add_location("LOC0", ["T0"])
    admin_client.get(LIST)  # warm: session, content types
    with CaptureQueriesContext(connection) as one:
        admin_client.get(LIST)
    for n in range(1, 7):
        upsert(simple_tariff(f"T{n}"))
        add_location(f"LOC{n}", [f"T{n}", "T0"])

    with CaptureQueriesContext(connection) as seven:
        response = admin_client.get(LIST)

    assert counts(response) == {"T0": 7, **{f"T{n}": 1 for n in range(1, 7)}}
    assert len(seven) == len(one)
    naming = [q["sql"] for q in seven.captured_queries if "tariff_ids" in q["sql"]]
    assert len(naming) == 1  # the page's connectors, in one query
