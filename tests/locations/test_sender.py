"""The Locations Sender interface (mod_locations.asciidoc, Sender Interface; pagination in
transport_and_format.asciidoc): GET list and objects, scoping, envelopes, query counts."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from pytest_django import DjangoAssertNumQueries
from rest_framework.test import APIClient

from credentials.models import Invitation
from locations.models import Location
from locations.selectors import location_for_render
from locations.serializers import LocationSerializer
from locations.services import location_set_roaming
from ocpi import json
from ocpi.time import format_datetime
from tests.conftest import authorization
from tests.locations.conftest import BASE, URL, example, upsert

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MakeLocation = Callable[..., Location]


def ids(response: Any) -> list[str]:
    return [location["id"] for location in response.json()["data"]]


def next_link(response: Any) -> str | None:
    link = response.get("Link")
    return None if link is None else str(link[len(f"<{BASE}") : -len('>; rel="next"')])


def follow(response: Any) -> str:
    link = next_link(response)
    assert link is not None
    return link


def routing_to(country_code: str, party_id: str) -> dict[str, Any]:
    return {
        "HTTP_OCPI_FROM_COUNTRY_CODE": "DE",
        "HTTP_OCPI_FROM_PARTY_ID": "MSP",
        "HTTP_OCPI_TO_COUNTRY_CODE": country_code,
        "HTTP_OCPI_TO_PARTY_ID": party_id,
    }


def at(hours: float) -> str:
    return format_datetime(T0 + timedelta(hours=hours))


# --- the list -----------------------------------------------------------------------------


def test_list_renders_locations_with_their_evses_and_connectors(
    partner_client: APIClient, our_parties: Any
) -> None:
    upsert(example("location_example.json"))

    response = partner_client.get(URL)

    assert response.status_code == 200
    assert response.json()["status_code"] == 1000
    assert response.json()["data"] == [json.loads(json.dumps(example("location_example.json")))]
    assert response["X-Total-Count"] == "1"
    assert response["X-Limit"] == "100"
    assert "Link" not in response


def test_pages_follow_creation_order_while_locations_are_added(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    for n in range(5):
        make_location(f"L{n}")

    first = partner_client.get(URL, {"limit": 2})
    make_location("L5")
    make_location("L6")
    second = partner_client.get(follow(first))
    third = partner_client.get(follow(second))
    fourth = partner_client.get(follow(third))

    assert [ids(first), ids(second), ids(third), ids(fourth)] == [
        ["L0", "L1"],
        ["L2", "L3"],
        ["L4", "L5"],
        ["L6"],
    ]
    assert [page["X-Total-Count"] for page in (first, second, third, fourth)] == [
        "5",
        "7",
        "7",
        "7",
    ]
    cursor = Location.objects.get(ocpi_id="L1").pk
    assert first["Link"] == f'<{BASE}{URL}?offset=2&limit=2&after={cursor}>; rel="next"'
    assert next_link(fourth) is None


def test_an_update_does_not_move_a_location_between_pages(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    for n in range(4):
        make_location(f"L{n}")

    first = partner_client.get(URL, {"limit": 2})
    make_location("L0", name="Renamed")
    second = partner_client.get(follow(first))

    assert ids(first) + ids(second) == ["L0", "L1", "L2", "L3"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"date_from": at(1)}, ["L1", "L2"]),  # inclusive
        ({"date_to": at(2)}, ["L0", "L1"]),  # exclusive
        ({"date_from": at(1), "date_to": at(2)}, ["L1"]),
        ({"date_from": format_datetime(T0 + timedelta(hours=1, milliseconds=1))}, ["L2"]),
        ({"date_to": at(0)}, []),
        ({"date_from": at(1).removesuffix("Z")}, ["L1", "L2"]),  # without Z: still UTC
    ],
)
def test_date_filters_bound_last_updated(
    partner_client: APIClient,
    make_location: MakeLocation,
    query: dict[str, str],
    expected: list[str],
) -> None:
    for n in range(3):
        make_location(f"L{n}", last_updated=at(n))

    response = partner_client.get(URL, query)

    assert ids(response) == expected
    assert response["X-Total-Count"] == str(len(expected))


def test_date_filter_with_an_offset_is_refused(partner_client: APIClient, our_parties: Any) -> None:
    response = partner_client.get(URL, {"date_from": "2026-03-01T12:00:00+01:00"})

    assert response.status_code == 200
    assert response.json()["status_code"] == 2001


def test_link_keeps_the_filters_and_counts_only_what_matches(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    for n in range(5):
        make_location(f"L{n}", last_updated=at(n))
    query = {"date_from": at(1), "limit": "2"}

    response = partner_client.get(URL, query)

    assert ids(response) == ["L1", "L2"]
    assert response["X-Total-Count"] == "4"
    assert next_link(response) == f"{URL}?" + urlencode(
        {
            "date_from": at(1),
            "offset": "2",
            "limit": "2",
            "after": str(Location.objects.get(ocpi_id="L2").pk),
        }
    )


def test_limit_is_capped_by_the_server(
    partner_client: APIClient, make_location: MakeLocation, settings: Any
) -> None:
    settings.OCPI_PAGE_LIMIT = 3
    for n in range(5):
        make_location(f"L{n}")

    response = partner_client.get(URL, {"limit": 1000})

    assert ids(response) == ["L0", "L1", "L2"]
    assert response["X-Limit"] == "3"
    assert response["X-Total-Count"] == "5"
    assert (
        next_link(response)
        == f"{URL}?offset=3&limit=3&after={Location.objects.get(ocpi_id='L2').pk}"
    )


@pytest.mark.parametrize(
    ("locations", "evses_per_location", "limit"),
    [(1, 1, 1), (4, 1, 4), (4, 6, 4), (12, 3, 10)],
)
def test_queries_per_page_do_not_grow_with_page_size_or_evses(
    partner_client: APIClient,
    make_location: MakeLocation,
    django_assert_num_queries: DjangoAssertNumQueries,
    locations: int,
    evses_per_location: int,
    limit: int,
) -> None:
    for n in range(locations):
        make_location(f"L{n}", evses=evses_per_location)

    # The credentials generation, the count (with its generation) and the page's rows; the
    # first time also the caller with its roles and our parties (then kept by the process)
    # and, while the page's JSON is not cached, its locations, EVSEs and connectors: the
    # same whatever is on the page.
    with django_assert_num_queries(8):
        response = partner_client.get(URL, {"limit": limit})
    with django_assert_num_queries(3):
        again = partner_client.get(URL, {"limit": limit})

    assert len(response.json()["data"]) == min(locations, limit)
    assert {len(location["evses"]) for location in response.json()["data"]} == {evses_per_location}
    assert again.json()["data"] == response.json()["data"]


def test_location_with_every_evse_removed_is_still_listed(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    make_location("L0", evses=2)
    make_location("L0", evses=0)

    response = partner_client.get(URL)

    assert [evse["status"] for evse in response.json()["data"][0]["evses"]] == [
        "REMOVED",
        "REMOVED",
    ]


def test_unpublished_location_is_listed_with_publish_allowed_to(
    partner_client: APIClient, our_parties: Any
) -> None:
    upsert(example("location_example_uc4_limited_visibility.json"))

    response = partner_client.get(URL)

    assert response.json()["data"][0]["publish"] is False
    assert (
        response.json()["data"][0]["publish_allowed_to"]
        == (example("location_example_uc4_limited_visibility.json")["publish_allowed_to"])
    )


def test_location_not_offered_to_roaming_is_not_listed(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    make_location("L0")
    location_set_roaming(location=make_location("HOME"), roaming=False)

    response = partner_client.get(URL)

    assert ids(response) == ["L0"]
    assert response["X-Total-Count"] == "1"


# --- scope --------------------------------------------------------------------------------


def test_list_is_scoped_to_the_party_in_the_to_headers(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    make_location("BEC-1")
    upsert(example("location_example_uc2_destination_charger.json"))  # NL*ALF

    to_bec = partner_client.get(URL, **routing_to("BE", "BEC"))
    to_alf = partner_client.get(URL, **routing_to("nl", "alf"))
    to_all = partner_client.get(URL)

    assert ids(to_bec) == ["BEC-1"]
    assert ids(to_alf) == ["3e7b39c2-10d0-4138-a8b3-8509a25f9920"]
    assert ids(to_all) == ["BEC-1", "3e7b39c2-10d0-4138-a8b3-8509a25f9920"]
    assert to_alf["OCPI-from-party-id"] == "ALF"


def test_locations_of_parties_that_are_not_ours_are_never_served(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    make_location("OURS")
    upsert({**example("location_example.json"), "country_code": "FR", "party_id": "XYZ"})

    listed = partner_client.get(URL)
    single = partner_client.get(f"{URL}/LOC1")

    assert ids(listed) == ["OURS"]
    assert single.status_code == 404


def test_other_partys_location_is_not_found_through_the_to_headers(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    make_location("BEC-1")

    response = partner_client.get(f"{URL}/BEC-1", **routing_to("NL", "ALF"))

    assert response.status_code == 404


# --- single objects -----------------------------------------------------------------------


def test_get_one_location_evse_and_connector(partner_client: APIClient, our_parties: Any) -> None:
    payload = example("location_example.json")
    upsert(payload)

    location = partner_client.get(f"{URL}/LOC1")
    evse = partner_client.get(f"{URL}/LOC1/3257")
    connector = partner_client.get(f"{URL}/LOC1/3256/2")

    assert location.json()["data"] == json.loads(json.dumps(payload))
    assert evse.json()["data"] == payload["evses"][1]
    assert connector.json()["data"] == payload["evses"][0]["connectors"][1]
    assert {location.status_code, evse.status_code, connector.status_code} == {200}


def test_ids_compare_case_insensitively(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    make_location("Loc-A", evses=1)

    location = partner_client.get(f"{URL}/LOC-a")
    evse = partner_client.get(f"{URL}/loc-a/LOC-A-e0")
    connector = partner_client.get(f"{URL}/LOC-A/loc-a-E0/1/")

    assert location.json()["data"]["id"] == "Loc-A"
    assert evse.json()["data"]["uid"] == "Loc-A-E0"
    assert connector.json()["data"]["id"] == "1"


def test_single_location_renders_like_the_list(
    partner_client: APIClient, make_location: MakeLocation
) -> None:
    location = make_location("L0", evses=2)

    response = partner_client.get(f"{URL}/L0")

    assert response.json()["data"] == json.loads(
        json.dumps(LocationSerializer(location_for_render(location.pk)).data)
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/NOPE", "Unknown location NOPE"),
        ("/L0/NOPE", "Unknown EVSE NOPE of location L0"),
        ("/L0/L0-E0/9", "Unknown connector 9 of EVSE L0-E0 of location L0"),
        ("/HOME", "Unknown location HOME"),
        ("/HOME/HOME-E0", "Unknown EVSE HOME-E0 of location HOME"),
        ("/HOME/HOME-E0/1", "Unknown connector 1 of EVSE HOME-E0 of location HOME"),
    ],
)
def test_unknown_objects_are_404_with_the_envelope(
    partner_client: APIClient, make_location: MakeLocation, path: str, message: str
) -> None:
    make_location("L0")
    location_set_roaming(location=make_location("HOME"), roaming=False)

    response = partner_client.get(URL + path)

    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"status_code", "status_message", "timestamp"}
    assert (body["status_code"], body["status_message"]) == (2000, message)


def test_an_id_longer_than_36_characters_is_404_with_the_envelope(
    partner_client: APIClient, our_parties: Any
) -> None:
    response = partner_client.get(f"{URL}/{'X' * 37}")

    assert response.status_code == 404
    assert response.json()["status_code"] == 2000


# --- what the Sender interface does not have ----------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["", "/L0", "/L0/L0-E0", "/L0/L0-E0/1"])
def test_write_methods_are_405_with_the_envelope(
    partner_client: APIClient, make_location: MakeLocation, method: str, path: str
) -> None:
    make_location("L0")

    response = getattr(partner_client, method)(URL + path, {}, format="json")

    assert response.status_code == 405
    assert response.json()["status_code"] == 2000
    assert Location.objects.get().name == "Gent Zuid"


def test_token_a_is_refused_with_401(
    api_client: APIClient, invitation: tuple[Invitation, str], our_parties: Any
) -> None:
    _, token_a = invitation

    response = api_client.get(URL, HTTP_AUTHORIZATION=authorization(token_a))

    assert response.status_code == 401
    assert response.json()["status_code"] == 2000


def test_unknown_token_is_refused_with_401(api_client: APIClient, our_parties: Any) -> None:
    response = api_client.get(f"{URL}/L0", HTTP_AUTHORIZATION=authorization("who-is-this"))

    assert response.status_code == 401


def test_the_endpoint_is_in_our_version_details(
    partner_client: APIClient, our_parties: Any
) -> None:
    response = partner_client.get("/ocpi/2.2.1")

    assert {
        "identifier": "locations",
        "role": "SENDER",
        "url": f"{BASE}/ocpi/cpo/2.2.1/locations",
    } in response.json()["data"]["endpoints"]
