"""The map of locations and the location form's picker in Chromium, with the tile server
unreachable (MAP_TILE_URL on a closed local port, as on a machine without internet): the
markers show in their status colours, a click opens the popup, the page breaks no CSP rule
and logs no error other than the tiles that could not load; a click on the form's map sets
the latitude and longitude that are then saved."""

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from locations.models import EVSE, Location
from tests.admin_browser.conftest import log_in
from tests.admin_browser.test_csp_browser import RECORD_VIOLATIONS, violations
from tests.admin_browser.test_location_admin_browser import fill_location
from tests.locations.conftest import location_payload, upsert

pytestmark = pytest.mark.browser

SITES = [
    # ocpi id, name, latitude, longitude, EVSE statuses
    ("GENT1", "Gent Sint-Pieters", "51.035896", "3.710675", ["AVAILABLE", "CHARGING"]),
    ("BRU1", "Brussel-Centraal", "50.845200", "4.357100", ["CHARGING", "RESERVED"]),
    ("ANT1", "Antwerpen-Centraal", "51.217200", "4.421100", ["OUTOFORDER", "UNKNOWN"]),
    ("LIE1", "Liège-Guillemins", "50.624400", "5.566700", ["PLANNED"]),
]


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on: every tile request is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def unreachable_tiles(settings: Any, closed_port: int) -> str:
    settings.MAP_TILE_URL = f"http://127.0.0.1:{closed_port}/{{z}}/{{x}}/{{y}}.png"
    return f"http://127.0.0.1:{closed_port}/"


@pytest.fixture
def errors(page: Page, unreachable_tiles: str) -> Iterator[list[str]]:
    """Console errors and warnings, except the refused tile requests the test provokes and
    the browser's own ask for a /favicon.ico (the admin has none: 404)."""
    found: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        expected = url.startswith(unreachable_tiles) or url.endswith("/favicon.ico")
        if message.type in ("error", "warning") and not expected:
            found.append(f"{message.type}: {message.text} ({url})")

    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", keep)
    page.on("pageerror", lambda error: found.append(f"pageerror: {error}"))
    yield found
    page.remove_listener("console", keep)


@pytest.fixture
def estate(platform: str) -> list[Location]:
    locations = []
    for ocpi_id, name, latitude, longitude, statuses in SITES:
        coordinates = {"latitude": latitude, "longitude": longitude}
        location = upsert(
            location_payload(ocpi_id, evses=len(statuses), name=name, coordinates=coordinates)
        )
        for evse, status in zip(location.evses.order_by("pk"), statuses, strict=True):
            EVSE.objects.filter(pk=evse.pk).update(status=status)
        locations.append(location)
    return locations


def test_the_map_shows_every_location_in_its_colour_without_tiles(
    page: Page,
    platform: str,
    login: tuple[str, str],
    estate: list[Location],
    errors: list[str],
    settings: Any,
) -> None:
    log_in(page, platform, login)
    page.goto(f"{platform}/admin/locations/location/")
    page.get_by_role("link", name="Map").click()

    expect(page.locator("#locations-map")).to_have_attribute("data-markers", "4")
    for colour, count in [("green", 1), ("blue", 1), ("red", 1), ("grey", 1)]:
        expect(page.locator(f"path.map-marker-{colour}")).to_have_count(count)
    expect(page.locator("#map-tile-warning")).to_be_visible()

    page.locator("path.map-marker-green").click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Gent Sint-Pieters")
    expect(popup).to_contain_text("AVAILABLE: 1")
    expect(popup).to_contain_text("CHARGING: 1")
    # docs/map.png is this picture (copied by hand: a test run leaves the checkout alone).
    screenshots = Path(settings.VAR_DIR) / "screenshots"
    screenshots.mkdir(exist_ok=True)
    page.screenshot(path=screenshots / "map.png")

    popup.get_by_role("link", name="Open the location").click()
    expect(page).to_have_url(re.compile(rf"/admin/locations/location/{estate[0].pk}/change/$"))
    assert violations(page) == []
    assert errors == []


def test_a_click_on_the_form_map_sets_the_coordinates_that_are_saved(
    page: Page,
    platform: str,
    login: tuple[str, str],
    unreachable_tiles: str,
    errors: list[str],
) -> None:
    log_in(page, platform, login)
    page.goto(f"{platform}/admin/locations/location/add/")
    fill_location(page)
    picker = page.locator("#location-picker")
    marker = picker.locator(".leaflet-marker-icon")
    expect(marker).to_have_count(1)  # at the typed coordinates
    typed_at = marker.bounding_box()

    picker.click(position={"x": 100, "y": 80})

    latitude = page.locator("#id_latitude").input_value()
    longitude = page.locator("#id_longitude").input_value()
    assert re.fullmatch(r"5[01]\.\d{6}", latitude), latitude  # near Gent at zoom 15
    assert re.fullmatch(r"3\.\d{6}", longitude), longitude
    assert (latitude, longitude) != ("51.035896", "3.710675")
    assert marker.bounding_box() != typed_at

    page.locator("#id_latitude").fill("51.036500")  # typing moves the marker back north
    expect(marker).to_have_count(1)
    assert page.locator("#id_longitude").input_value() == longitude

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    saved = Location.objects.get(ocpi_id="LOC9")
    assert (saved.latitude, saved.longitude) == ("51.036500", longitude)
    assert violations(page) == []
    assert errors == []
