"""The Locations Sender list under change: exact X-Total-Count, fresh JSON, stable pages.

X-Total-Count is cached per query until a write announces a change (ocpi.pagination), and
each location's JSON is cached by its version (ocpi.jsoncache): these tests change the list
between reads, through the services, and check that what is served is what is stored.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from locations.models import Location
from locations.services import evse_set_status, location_set_roaming
from ocpi.time import format_datetime, now
from tests.locations.conftest import BASE, URL

pytestmark = pytest.mark.django_db

MakeLocation = Callable[..., Location]


def ids(response: Any) -> list[str]:
    return [location["id"] for location in response.json()["data"]]


def follow(response: Any) -> str:
    link = response["Link"]
    return str(link[len(f"<{BASE}") : -len('>; rel="next"')])


def listed(client: APIClient, query: dict[str, str] | None = None) -> tuple[list[str], str]:
    response = client.get(URL, query or {})
    return ids(response), response["X-Total-Count"]


def status_of(client: APIClient, location_id: str) -> tuple[str, str]:
    """The first EVSE's status as the list shows it, and as the single GET shows it."""
    [location] = [item for item in client.get(URL).json()["data"] if item["id"] == location_id]
    single = client.get(f"{URL}/{location_id}").json()["data"]
    return location["evses"][0]["status"], single["evses"][0]["status"]


def test_the_count_follows_new_locations(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    make_location("L0")
    make_location("L1")

    before = listed(partner_client)
    make_location("L2")
    after = listed(partner_client)

    assert (before, after) == ((["L0", "L1"], "2"), (["L0", "L1", "L2"], "3"))


def test_the_count_follows_roaming_switched_off_and_on(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    locations = [make_location(f"L{n}") for n in range(3)]

    before = listed(partner_client)
    location_set_roaming(location=locations[1], roaming=False)
    withdrawn = listed(partner_client)
    location_set_roaming(location=locations[1], roaming=True)
    offered = listed(partner_client)

    assert [before, withdrawn, offered] == [
        (["L0", "L1", "L2"], "3"),
        (["L0", "L2"], "2"),
        (["L0", "L1", "L2"], "3"),
    ]


def test_dated_counts_follow_updates_that_cross_date_to_and_date_from(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    start = now()
    for n, hours_ago in enumerate([3, 2, 1]):
        make_location(f"L{n}", last_updated=format_datetime(start - timedelta(hours=hours_ago)))
    boundary = format_datetime(start - timedelta(minutes=90))
    until, since = {"date_to": boundary}, {"date_from": boundary}

    before = [listed(partner_client, until), listed(partner_client, since)]
    evse_set_status(evse=Location.objects.get(ocpi_id="L0").evses.get(), status="CHARGING")
    after_status = [listed(partner_client, until), listed(partner_client, since)]
    make_location("L1", name="Renamed")  # an edit of the location itself
    after_edit = [listed(partner_client, until), listed(partner_client, since)]

    assert before == [(["L0", "L1"], "2"), (["L2"], "1")]
    assert after_status == [(["L1"], "1"), (["L0", "L2"], "2")]
    assert after_edit == [([], "0"), (["L0", "L1", "L2"], "3")]


def test_a_changed_location_is_served_as_it_is_now(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    location = make_location("L0")

    before = status_of(partner_client, "L0")
    evse_set_status(evse=location.evses.get(), status="CHARGING")
    after = status_of(partner_client, "L0")

    assert (before, after) == (("AVAILABLE", "AVAILABLE"), ("CHARGING", "CHARGING"))


def test_changes_in_the_same_millisecond_are_served_too(
    partner_client: APIClient, make_location: MakeLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cached JSON is keyed by last_updated, so every write moves it on, even within 1 ms."""
    location = make_location("L0")
    instant = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    monkeypatch.setattr("ocpi.time.now", lambda: instant)

    evse_set_status(evse=location.evses.get(), status="CHARGING")
    first = status_of(partner_client, "L0")
    evse_set_status(evse=location.evses.get(), status="BLOCKED")
    second = status_of(partner_client, "L0")

    assert (first, second) == (("CHARGING", "CHARGING"), ("BLOCKED", "BLOCKED"))
    location.refresh_from_db()
    assert location.last_updated == instant + timedelta(milliseconds=1)


def test_locations_withdrawn_before_the_cursor_do_not_shift_the_pages(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    for n in range(6):
        make_location(f"L{n}")

    first = partner_client.get(URL, {"limit": 2})
    for location_id in ("L0", "L1"):
        location_set_roaming(location=Location.objects.get(ocpi_id=location_id), roaming=False)
    second = partner_client.get(follow(first))
    third = partner_client.get(follow(second))

    assert [ids(first), ids(second), ids(third)] == [["L0", "L1"], ["L2", "L3"], ["L4", "L5"]]
    assert [page["X-Total-Count"] for page in (first, second, third)] == ["6", "4", "4"]
    assert "Link" not in third


def test_a_deep_page_costs_the_queries_of_the_first(
    partner_client: APIClient,
    make_location: MakeLocation,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    for n in range(7):
        make_location(f"L{n}", evses=2)
    first = partner_client.get(URL, {"limit": 2})
    second = partner_client.get(follow(first))
    third_path = follow(second)
    partner_client.get(third_path)

    # The credentials generation (the caller is kept since the first page), the count's
    # generation, the rows.
    with django_assert_num_queries(3):
        third = partner_client.get(third_path)

    assert ids(third) == ["L4", "L5"]


def test_one_location_costs_two_queries_once_its_json_is_cached(
    partner_client: APIClient,
    make_location: MakeLocation,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    make_location("L0", evses=3)

    # The credentials generation, the row; the first time also the caller with its roles,
    # our parties, and the location, its EVSEs and their connectors.
    with django_assert_num_queries(7):
        cold = partner_client.get(f"{URL}/L0")
    with django_assert_num_queries(2):
        warm = partner_client.get(f"{URL}/L0")

    assert cold.json()["data"] == warm.json()["data"]
    assert len(warm.json()["data"]["evses"]) == 3
