"""The operator's location screens in a real browser, against our platform over real HTTP.

An operator logs in with the login `bootstrap_operator` made (as after `make run`), creates a
location through the admin's forms, adds an EVSE with a connector from the link on the
location's page, sets the EVSE's status, and finds the pushes in the queue: delivered to a
registered eMSP's locations Receiver on loopback (mod_locations, Receiver interface: PUT of
a new Location and EVSE, PATCH of a status).
"""

from collections.abc import Iterator
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
from tests.admin_browser.conftest import log_in
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
        "opening_times": '{"twentyfourseven": true}',
        **overrides,
    }
    for name, value in values.items():
        page.locator(f"#id_{name}").fill(value)
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
