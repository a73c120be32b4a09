"""The admin's map of locations (locations.map): marker colours from EVSE statuses, what the
data endpoint gives to whom, its query count, and the tile host in the pages' CSP."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from locations.map import tile_origin
from locations.models import EVSE, Location, MapColour, Status

MAP = "/admin/locations/location/map/"
DATA = "/admin/locations/location/map/data/"
TILES = "https://{s}.tiles.example.net/osm/{z}/{x}/{y}.png"


def with_statuses(make_location: Callable[..., Location], ocpi_id: str, *statuses: str) -> Location:
    location = make_location(ocpi_id, evses=len(statuses))
    for evse, status in zip(location.evses.order_by("pk"), statuses, strict=True):
        EVSE.objects.filter(pk=evse.pk).update(status=status)
    return location


def markers(client: Client) -> list[dict[str, Any]]:
    response = client.get(DATA)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    rows: list[dict[str, Any]] = response.json()["locations"]
    return rows


@pytest.mark.parametrize(
    ("statuses", "colour"),
    [
        ((Status.AVAILABLE, Status.CHARGING, Status.OUTOFORDER), MapColour.GREEN),
        ((Status.CHARGING, Status.OUTOFORDER), MapColour.BLUE),
        ((Status.BLOCKED, Status.RESERVED, Status.UNKNOWN), MapColour.BLUE),
        ((Status.OUTOFORDER, Status.UNKNOWN), MapColour.RED),
        ((Status.INOPERATIVE,), MapColour.RED),
        ((Status.UNKNOWN, Status.PLANNED), MapColour.GREY),
        ((Status.REMOVED, Status.CHARGING), MapColour.BLUE),
        ((Status.REMOVED,), MapColour.GREY),
    ],
)
def test_colour_follows_the_evse_statuses(
    make_location: Callable[..., Location],
    operator: Client,
    statuses: tuple[str, ...],
    colour: MapColour,
) -> None:
    with_statuses(make_location, "LOC1", *statuses)

    [marker] = markers(operator)

    assert marker["colour"] == colour.value
    expected = {s: statuses.count(s) for s in statuses if s != Status.REMOVED}
    assert marker["counts"] == expected


def test_a_marker_carries_what_its_popup_shows(
    make_location: Callable[..., Location], operator: Client
) -> None:
    location = with_statuses(make_location, "LOC1", Status.AVAILABLE, Status.AVAILABLE)
    Location.objects.filter(pk=location.pk).update(
        name="Gent Zuid",
        address="F. Rooseveltlaan 3A",
        city="Gent",
        latitude="51.047599",
        longitude="-3.729944",
    )
    with_statuses(make_location, "LOC2")  # no EVSEs at all

    first, second = markers(operator)

    assert first == {
        "name": "Gent Zuid",
        "address": "F. Rooseveltlaan 3A, Gent",
        "latitude": 51.047599,
        "longitude": -3.729944,
        "colour": "green",
        "counts": {"AVAILABLE": 2},
        "url": f"/admin/locations/location/{location.pk}/change/",
    }
    assert (second["colour"], second["counts"]) == ("grey", {})


def test_the_data_costs_the_same_queries_for_one_location_or_many(
    make_location: Callable[..., Location], operator: Client
) -> None:
    with_statuses(make_location, "LOC1", Status.AVAILABLE)
    operator.get(DATA)  # session and user read once, as on every admin page
    with CaptureQueriesContext(connection) as one:
        assert len(markers(operator)) == 1
    for n in range(2, 7):
        with_statuses(make_location, f"LOC{n}", Status.CHARGING, Status.OUTOFORDER, Status.UNKNOWN)
    with CaptureQueriesContext(connection) as six:
        assert len(markers(operator)) == 6

    assert len(six) == len(one)
    location_reads = [q for q in six.captured_queries if "locations_evse" in q["sql"]]
    assert len(location_reads) == 1


@pytest.fixture
def staff(client: Client, django_user_model: Any, settings: Any) -> tuple[Client, Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = django_user_model.objects.create_user("clerk", password="s3cret-pass", is_staff=True)
    client.force_login(user)
    return client, user


@pytest.mark.parametrize("url", [MAP, DATA])
def test_staff_without_the_location_permission_is_refused(
    make_location: Callable[..., Location], staff: tuple[Client, Any], url: str
) -> None:
    make_location("LOC1")
    client, _ = staff
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("codename", ["view_location", "change_location"])
def test_staff_who_may_see_locations_get_the_data(
    make_location: Callable[..., Location], staff: tuple[Client, Any], codename: str
) -> None:
    make_location("LOC1")
    client, user = staff
    user.user_permissions.add(Permission.objects.get(codename=codename))

    assert len(markers(client)) == 1
    assert client.get(MAP).status_code == 200


@pytest.mark.parametrize("url", [MAP, DATA])
def test_anonymous_and_non_staff_are_sent_to_the_login(
    make_location: Callable[..., Location], client: Client, django_user_model: Any, url: str
) -> None:
    make_location("LOC1")
    assert client.get(url)["Location"].startswith("/admin/login/")
    user = django_user_model.objects.create_user("driver", password="x-unused-x")
    user.user_permissions.add(Permission.objects.get(codename="view_location"))
    client.force_login(user)
    assert client.get(url)["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    ("tile_url", "origin"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://127.0.0.1:9/{z}/{x}/{y}.png", "http://127.0.0.1:9"),
        ("https://user:key@tiles.example.com/{z}/{x}/{y}.png?k=1", "https://tiles.example.com"),
    ],
)
def test_tile_origin(tile_url: str, origin: str) -> None:
    assert tile_origin(tile_url) == origin


def img_src(response: Any) -> list[str]:
    directives = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    return directives["img-src"].split()


def test_map_pages_allow_images_from_the_tile_host_and_no_other_page_does(
    make_location: Callable[..., Location], operator: Client, settings: Any
) -> None:
    settings.MAP_TILE_URL = TILES
    location = make_location("LOC1")

    for url in [
        MAP,
        "/admin/locations/location/add/",
        f"/admin/locations/location/{location.pk}/change/",
    ]:
        response = operator.get(url)
        assert response.status_code == 200, url
        assert img_src(response) == ["'self'", "data:", "https://*.tiles.example.net"], url
        assert "script-src 'self';" in response["Content-Security-Policy"] + ";", url
    assert img_src(operator.get("/admin/locations/location/")) == ["'self'", "data:"]


def test_the_map_page_passes_its_settings_as_json_not_script(
    make_location: Callable[..., Location], operator: Client, settings: Any
) -> None:
    settings.MAP_TILE_URL = TILES
    settings.MAP_TILE_ATTRIBUTION = "Tiles <b>Example</b>"
    make_location("LOC1")

    page = operator.get(MAP).content.decode()

    assert '<script id="map-config" type="application/json">' in page
    assert '"tileUrl": "https://{s}.tiles.example.net/osm/{z}/{x}/{y}.png"' in page
    assert '"dataUrl": "/admin/locations/location/map/data/"' in page
    assert "locations/leaflet/leaflet.js" in page
    assert "locations/locations_map.js" in page


def test_the_location_list_links_to_the_map(operator: Client, our_parties: Any) -> None:
    page = operator.get("/admin/locations/location/").content.decode()
    assert f'href="{MAP}"' in page


def test_the_location_form_carries_the_picker(operator: Client, our_parties: Any) -> None:
    page = operator.get("/admin/locations/location/add/").content.decode()
    assert 'id="location-picker"' in page
    assert "locations/location_picker.js" in page
    assert 'id="map-config"' in page


def test_the_picker_gets_its_marker_images_by_their_served_names(
    operator: Client, our_parties: Any, settings: Any
) -> None:
    settings.STATIC_URL = "/assets/"
    page = operator.get("/admin/locations/location/add/").content.decode()
    assert '"iconUrl": "/assets/locations/leaflet/images/marker-icon.png"' in page
    assert '"shadowUrl": "/assets/locations/leaflet/images/marker-shadow.png"' in page
