"""The location and EVSE lists show the estate in use by default: REMOVED EVSEs, and
locations whose EVSEs are all REMOVED, only when the filter asks for them. Times are the
location's, labelled."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from locations.models import EVSE, Location
from tests.admin_pages import filter_choices, page_text, scans_for_choices

LOCATIONS = "/admin/locations/location/"
EVSES = "/admin/locations/evse/"
WINTER = datetime(2026, 12, 7, 13, 6, tzinfo=UTC)


def add_location(ocpi_id: str, *statuses: str, time_zone: str = "Europe/Brussels") -> Location:
    location = Location.objects.create(
        country_code="BE",
        party_id="BEC",
        ocpi_id=ocpi_id,
        name=f"Site {ocpi_id}",
        address="Street 1",
        city="Gent",
        country="BEL",
        latitude="51.047599",
        longitude="3.729944",
        time_zone=time_zone,
        last_updated=WINTER,
    )
    for index, status in enumerate(statuses):
        EVSE.objects.create(
            location=location, uid=f"{ocpi_id}-{index}", status=status, last_updated=WINTER
        )
    return location


def uids(response: Any) -> list[str]:
    return re.findall(
        r'<th class="field-uid"><a href="[^"]+">([^<]+)</a>', response.content.decode()
    )


def location_ids(response: Any) -> list[str]:
    return re.findall(
        r'<th class="field-ocpi_id"><a href="[^"]+">([^<]+)</a>', response.content.decode()
    )


@pytest.fixture
def estate(db: None) -> None:
    add_location("LIVE", "AVAILABLE", "REMOVED", "CHARGING")
    add_location("GONE", "REMOVED", "REMOVED")  # withdrawn from roaming
    add_location("NEW")  # no EVSEs yet: being set up


def test_the_evse_list_hides_removed_ones_by_default(operator: Client, estate: None) -> None:
    response = operator.get(EVSES)

    assert sorted(uids(response)) == ["LIVE-0", "LIVE-2"]
    text = page_text(response)
    assert "By status not removed (default) all AVAILABLE" in text


@pytest.mark.parametrize(
    ("choice", "shown"),
    [
        ("all", ["GONE-0", "GONE-1", "LIVE-0", "LIVE-1", "LIVE-2"]),
        ("REMOVED", ["GONE-0", "GONE-1", "LIVE-1"]),
        ("CHARGING", ["LIVE-2"]),  # the dashboard's links to each status
    ],
)
def test_the_evse_filter_shows_them_on_request(
    operator: Client, estate: None, choice: str, shown: list[str]
) -> None:
    assert sorted(uids(operator.get(EVSES, {"status__exact": choice}))) == shown


def test_the_location_list_hides_locations_whose_evses_are_all_removed(
    operator: Client, estate: None
) -> None:
    assert sorted(location_ids(operator.get(LOCATIONS))) == ["LIVE", "NEW"]
    assert location_ids(operator.get(LOCATIONS, {"evses": "removed"})) == ["GONE"]
    assert sorted(location_ids(operator.get(LOCATIONS, {"evses": "all"}))) == [
        "GONE",
        "LIVE",
        "NEW",
    ]
    assert "By EVSEs not all removed (default) all all removed" in page_text(
        operator.get(LOCATIONS)
    )


def test_the_lists_show_times_in_each_locations_zone(operator: Client, db: None) -> None:
    add_location("GENT", "AVAILABLE")
    add_location("LISBOA", "AVAILABLE", time_zone="Europe/Lisbon")

    evses = page_text(operator.get(EVSES))
    locations = page_text(operator.get(LOCATIONS))

    for text in (evses, locations):
        assert "2026-12-07 14:06 CET" in text  # Gent
        assert "2026-12-07 13:06 WET" in text  # Lisboa


def test_the_evse_list_costs_the_same_queries_for_more_locations(
    operator: Client, estate: None
) -> None:
    with CaptureQueriesContext(connection) as few:
        assert operator.get(EVSES).status_code == 200
    for index in range(5):
        add_location(f"MORE{index}", "AVAILABLE", "CHARGING", time_zone="Europe/Paris")
    with CaptureQueriesContext(connection) as many:
        response = operator.get(EVSES)

    assert len(uids(response)) == 12
    assert len(many) == len(few)


def test_the_lists_filter_by_our_cpo_party_without_reading_the_estate_for_choices(
    operator: Client, estate: None, our_parties: Any
) -> None:
    """The party choices come from our parties, not from a DISTINCT over the locations (a
    scan of the estate on every page of the list)."""
    add_location("OTHER", "AVAILABLE").__class__.objects.filter(ocpi_id="OTHER").update(
        country_code="NL", party_id="ALF"
    )
    with CaptureQueriesContext(connection) as captured:
        locations = operator.get(LOCATIONS, {"cpo": "nl*alf"})
        evses = operator.get(EVSES, {"cpo": "NL*ALF"})

    assert filter_choices(locations, "cpo") == ["BE*BEC", "NL*ALF", "NL*ALL", "SE*EVC"]
    assert location_ids(locations) == ["OTHER"]
    assert uids(evses) == ["OTHER-0"]
    assert scans_for_choices(captured, "locations_location") == []
    assert scans_for_choices(captured, "locations_evse") == []


def evse_counts(response: Any) -> dict[str, int]:
    rows = re.findall(
        r'<th class="field-ocpi_id"><a href="[^"]+">([^<]+)</a></th>.*?'
        r'<td class="field-evse_count">(\d+)</td>',
        response.content.decode(),
        flags=re.S,
    )
    return {ocpi_id: int(count) for ocpi_id, count in rows}


def test_the_location_list_counts_each_locations_evses_and_sorts_by_them(
    operator: Client, estate: None
) -> None:
    by_count = operator.get(LOCATIONS, {"evses": "all", "o": "-8"})  # the EVSEs column

    assert evse_counts(by_count) == {"LIVE": 3, "GONE": 2, "NEW": 0}
    assert location_ids(by_count) == ["LIVE", "GONE", "NEW"]


def test_the_location_list_counts_its_rows_without_joining_the_evses(
    operator: Client, estate: None
) -> None:
    """The list's counts (of its default filter, and of all) read the locations and, for the
    filter, the REMOVED EVSEs: no join of every EVSE grouped by location."""
    with CaptureQueriesContext(connection) as captured:
        response = operator.get(LOCATIONS)
    counts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT COUNT")]

    assert sorted(location_ids(response)) == ["LIVE", "NEW"]
    assert "2 results ( 3 total )" in page_text(response)
    assert len(counts) == 2
    assert all("JOIN" not in sql and "GROUP BY" not in sql for sql in counts), counts
