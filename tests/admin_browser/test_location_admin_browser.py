"""The operator's location screens in a real browser, against our platform over real HTTP.

An operator logs in with the login `bootstrap_operator` made (as after `make run`), creates a
location through the admin's forms, adds an EVSE with a connector from the link on the
location's page, sets the EVSE's status, and finds the pushes in the queue: delivered to a
registered eMSP's locations Receiver on loopback (mod_locations, Receiver interface: PUT of
a new Location and EVSE, PATCH of a status).
"""

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from credentials.models import (
    PartnerEndpoint,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
)
from locations.models import Location
from locations.serializers import LocationSerializer
from push.models import Change
from tests.admin_browser.conftest import log_in
from tests.admin_browser.test_csp_browser import RECORD_VIOLATIONS, violations
from tests.push.sink import Sink, running_sink

pytestmark = pytest.mark.browser

RECEIVER_PATH = "/ocpi/emsp/2.2.1/locations"


@pytest.fixture
def emsp(platform: str) -> Iterator[Sink]:
    """A registered eMSP whose locations Receiver records what we push to it."""
    with running_sink() as sink:
        partner = PartnerPlatform(
            name="Roaming eMSP",
            status=PartnerStatus.REGISTERED,
            versions_url=f"{sink.url}/ocpi/versions",
            version="2.2.1",
        )
        partner.set_incoming_token("emsp-calls-us")
        partner.set_outgoing_token("we-call-emsp")
        partner.save()
        PartnerRole.objects.create(
            partner=partner,
            role="EMSP",
            country_code="DE",
            party_id="MSP",
            business_details={"name": "Roaming eMSP"},
        )
        PartnerEndpoint.objects.create(
            partner=partner,
            identifier="locations",
            role="RECEIVER",
            url=f"{sink.url}{RECEIVER_PATH}",
        )
        yield sink


def fill_location(page: Page, **overrides: str) -> None:
    """The location form's fields an operator fills for a public station."""
    values = {
        "country_code": "BE",
        "party_id": "BEC",
        "ocpi_id": "LOC9",
        "name": "Gent Sint-Pieters",
        "address": "Koningin Maria Hendrikaplein 1",
        "city": "Gent",
        "postal_code": "9000",
        "country": "BEL",
        "latitude": "51.035896",
        "longitude": "3.710675",
        "time_zone": "Europe/Brussels",
        **overrides,
    }
    for name, value in values.items():
        page.locator(f"#id_{name}").fill(value)
    page.locator("#id_opening_times-twentyfourseven").check()
    page.locator("#id_parking_type").select_option("PARKING_GARAGE")
    page.locator("input[name=facilities][value=TRAIN_STATION]").check()


def queue_rows(page: Page) -> list[tuple[str, ...]]:
    rows = page.locator("#result_list tbody tr")
    return [
        tuple(
            row.locator(f"td.field-{column}").inner_text()
            for column in ("module", "method", "path", "to_party", "status")
        )
        for row in rows.all()
    ]


def test_operator_creates_a_location_with_an_evse_and_its_status_change_is_pushed(
    page: Page,
    platform: str,
    login: tuple[str, str],
    emsp: Sink,
    eager_tasks: None,
    settings: Any,
) -> None:
    log_in(page, platform, login)

    page.locator("tr.model-location").get_by_role("link", name="Add").click()
    fill_location(page)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")

    page.get_by_role("link", name="Add an EVSE with its connectors").click()
    expect(page.locator("#id_location option:checked")).to_have_text(
        "BE*BEC LOC9 Gent Sint-Pieters"
    )
    page.locator("#id_uid").fill("E-1")
    page.locator("#id_evse_id").fill("BE*BEC*E9001")
    page.locator("input[name=capabilities][value=RFID_READER]").check()
    page.locator("#id_connectors-0-ocpi_id").fill("1")
    page.locator("#id_connectors-0-standard").select_option("IEC_62196_T2_COMBO")
    page.locator("#id_connectors-0-format").select_option("CABLE")
    page.locator("#id_connectors-0-power_type").select_option("DC")
    page.locator("#id_connectors-0-max_voltage").fill("920")
    page.locator("#id_connectors-0-max_amperage").fill("400")
    page.locator("#id_connectors-0-max_electric_power").fill("150000")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")

    page.locator("#result_list tbody tr").filter(has_text="E-1").locator(
        "input.action-select"
    ).check()
    page.locator("select[name=action]").select_option(label="Set status…")
    page.get_by_role("button", name="Go").click()
    page.get_by_label("Status").select_option("OUTOFORDER")
    page.get_by_role("button", name="Set status").click()
    expect(page.locator(".messagelist")).to_contain_text("Status of 1 EVSEs set.")

    page.goto(f"{platform}/admin/push/delivery/")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    rows = queue_rows(page)
    screenshots = Path(settings.VAR_DIR) / "screenshots"
    screenshots.mkdir(exist_ok=True)
    page.screenshot(path=screenshots / "admin-push-queue.png", full_page=True)

    assert rows == [
        ("locations", "PUT", "BE/BEC/LOC9", "DE*MSP", "Delivered"),
        ("locations", "PUT", "BE/BEC/LOC9/E-1", "DE*MSP", "Delivered"),
        ("locations", "PATCH", "BE/BEC/LOC9/E-1", "DE*MSP", "Delivered"),
    ]
    assert [(r.method, r.path) for r in emsp.received] == [
        ("PUT", f"{RECEIVER_PATH}/BE/BEC/LOC9"),
        ("PUT", f"{RECEIVER_PATH}/BE/BEC/LOC9/E-1"),
        ("PATCH", f"{RECEIVER_PATH}/BE/BEC/LOC9/E-1"),
    ]
    patch = emsp.received[2].body
    assert (sorted(patch), patch["status"]) == (["last_updated", "status"], "OUTOFORDER")


def test_an_invalid_latitude_is_shown_on_its_field(
    page: Page, platform: str, login: tuple[str, str], emsp: Sink
) -> None:
    log_in(page, platform, login)
    page.goto(f"{platform}/admin/locations/location/add/")
    fill_location(page, latitude="91.000000")

    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".field-latitude .errorlist")).to_have_text(
        r"Must match -?[0-9]{1,2}\.[0-9]{5,7} and lie within ±90, e.g. 51.047599."
    )
    expect(page.locator(".field-longitude .errorlist")).to_have_count(0)
    expect(page.locator("#id_latitude")).to_have_value("91.000000")
    assert emsp.received == []


def test_operator_fills_hours_operator_image_and_energy_mix_through_inputs_not_json(
    page: Page, platform: str, login: tuple[str, str], emsp: Sink, settings: Any
) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    log_in(page, platform, login)
    page.goto(f"{platform}/admin/locations/location/add/")
    expect(page.locator("#location_form textarea")).to_have_count(0)
    fill_location(page)
    page.locator("#id_opening_times-twentyfourseven").uncheck()
    hours = "#id_opening_times-regular_hours"
    page.locator(f"{hours}-0-weekday").select_option("1")
    page.locator(f"{hours}-0-period_begin").fill("07:00")
    page.locator(f"{hours}-0-period_end").fill("19:00")
    # Two blank rows come with the page; "Add a row" (a static script) makes a third.
    page.locator(".field-opening_times .ocpi-rows-add").first.click()
    page.locator(f"{hours}-2-weekday").select_option("7")
    page.locator(f"{hours}-2-period_begin").fill("10:00")
    page.locator(f"{hours}-2-period_end").fill("16:00")
    closings = "#id_opening_times-exceptional_closings"
    page.locator(f"{closings}-0-period_begin").fill("2026-12-25T00:00")
    page.locator(f"{closings}-0-period_end").fill("2026-12-26T00:00")
    page.locator("#id_operator-name").fill("BeCharged")
    page.locator("#id_operator-website").fill("https://becharged.be")
    page.locator(".field-operator summary").click()  # the logo folds away while not set
    page.locator("#id_operator-logo-url").fill("https://becharged.be/logo.png")
    page.locator("#id_operator-logo-category").select_option("OPERATOR")
    page.locator("#id_operator-logo-type").fill("png")
    page.locator("#id_images-0-url").fill("https://becharged.be/gent.jpg")
    page.locator("#id_images-0-category").select_option("LOCATION")
    page.locator("#id_images-0-type").fill("jpeg")
    page.locator("#id_images-0-width").fill("800")
    page.locator("#id_energy_mix-is_green_energy").select_option("yes")
    page.locator("#id_energy_mix-energy_sources-0-source").select_option("WIND")
    page.locator("#id_energy_mix-energy_sources-0-percentage").fill("70")
    page.locator("#id_energy_mix-energy_sources-1-source").select_option("SOLAR")
    page.locator("#id_energy_mix-energy_sources-1-percentage").fill("30")
    page.locator("#id_energy_mix-supplier_name").fill("Wind BV")

    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    stored = LocationSerializer(Location.objects.get(ocpi_id="LOC9")).data
    assert {name: stored.get(name) for name in ("opening_times", "operator", "images")} == {
        "opening_times": {
            "twentyfourseven": False,
            "regular_hours": [
                {"weekday": 1, "period_begin": "07:00", "period_end": "19:00"},
                {"weekday": 7, "period_begin": "10:00", "period_end": "16:00"},
            ],
            # Typed on the location's clock (Europe/Brussels, UTC+1 in winter), stored in UTC.
            "exceptional_closings": [
                {"period_begin": "2026-12-24T23:00:00Z", "period_end": "2026-12-25T23:00:00Z"}
            ],
        },
        "operator": {
            "name": "BeCharged",
            "website": "https://becharged.be",
            "logo": {"url": "https://becharged.be/logo.png", "category": "OPERATOR", "type": "png"},
        },
        "images": [
            {
                "url": "https://becharged.be/gent.jpg",
                "category": "LOCATION",
                "type": "jpeg",
                "width": 800,
            }
        ],
    }
    assert stored["energy_mix"] == {
        "is_green_energy": True,
        "energy_sources": [
            {"source": "WIND", "percentage": Decimal("70")},
            {"source": "SOLAR", "percentage": Decimal("30")},
        ],
        "supplier_name": "Wind BV",
    }
    # The change page shows it all in the inputs; saving it unchanged pushes nothing more.
    expect(page.locator(f"{hours}-1-period_end")).to_have_value("16:00")
    expect(page.locator("#id_operator-logo-category")).to_have_value("OPERATOR")
    screenshots = Path(settings.VAR_DIR) / "screenshots"
    screenshots.mkdir(exist_ok=True)
    page.screenshot(path=screenshots / "admin-location-form.png", full_page=True)
    pushes = Change.objects.count()
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    assert Change.objects.count() == pushes == 1
    assert violations(page) == []


def test_24_7_with_regular_hours_is_refused_on_the_opening_times_widget(
    page: Page, platform: str, login: tuple[str, str], emsp: Sink
) -> None:
    log_in(page, platform, login)
    page.goto(f"{platform}/admin/locations/location/add/")
    fill_location(page)
    page.locator("#id_opening_times-regular_hours-0-weekday").select_option("3")
    page.locator("#id_opening_times-regular_hours-0-period_begin").fill("08:00")
    page.locator("#id_opening_times-regular_hours-0-period_end").fill("18:00")

    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".field-opening_times > .errorlist")).to_have_text(
        "regular_hours: Only to be used when twentyfourseven is false."
    )
    expect(page.locator("#id_opening_times-regular_hours-0-period_end")).to_have_value("18:00")
    assert Location.objects.count() == 0
    assert emsp.received == []
