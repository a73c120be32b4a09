"""The operator's tariff screens in a real browser: the price preview on a tariff's page, the
tariff picker on a connector, the tariff list's summary and "used by" link."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from locations.models import Connector, Location
from tariffs.models import Tariff
from tariffs.services import tariff_upsert
from tests.admin_browser.conftest import log_in
from tests.locations.conftest import location_payload, upsert
from tests.tariffs.conftest import example, validated

pytestmark = pytest.mark.browser


def stored_tariff(name: str, tariff_id: str) -> Tariff:
    """The spec's example `name` as a tariff of our party BE*BEC."""
    payload = {**example(name), "country_code": "BE", "party_id": "BEC", "id": tariff_id}
    return tariff_upsert(data=validated(payload))


def location_using(tariff_ids: list[str]) -> Location:
    """A location of BE*BEC (Europe/Brussels) whose one EVSE's connectors name `tariff_ids`."""
    payload: Any = location_payload("LOC1")
    for connector in payload["evses"][0]["connectors"]:
        connector["tariff_ids"] = tariff_ids
    return upsert(payload)


def test_the_preview_prices_an_example_session_with_the_engine(
    page: Page, platform: str, login: tuple[str, str]
) -> None:
    """Checklist §5.3 T4: 20 kWh in 1 h, then 40 minutes parked (billed 45): 7.00 / 7.90."""
    tariff = stored_tariff("tariff_10_025kwh_parking_start.json", "PARK-1")
    location_using(["PARK-1"])
    log_in(page, platform, login)

    page.goto(f"{platform}/admin/tariffs/tariff/")
    row = page.locator("#result_list tbody tr").filter(has_text="PARK-1")
    expect(row.locator("td.field-price_summary")).to_have_text(
        "0.50 EUR/session + 0.25 EUR/kWh + parking 2.00 EUR/h per 15 min"
    )
    expect(row.locator("td.field-used_by")).to_have_text("2 connectors")
    row.locator("th.field-ocpi_id a").click()

    expect(page.locator("#id_preview-time_zone")).to_have_value("Europe/Brussels")
    page.locator("#id_preview-start").fill("2024-06-03T10:00")
    page.locator("#id_preview-charging").fill("1 h")
    page.locator("#id_preview-energy").fill("20")
    page.locator("#id_preview-parking").fill("40 min")
    page.get_by_role("button", name="Price this session").click()

    expect(page.locator("#preview-total")).to_have_text(
        "Total (min/max price applied)7.007.90", use_inner_text=False
    )
    expect(page.locator("#preview-result")).to_contain_text("Parking time1.501.80")
    assert page.url.startswith(f"{platform}/admin/tariffs/tariff/{tariff.pk}/change/?")

    page.locator("#id_preview-time_zone").fill("Europe/Gent")
    page.get_by_role("button", name="Price this session").click()
    expect(page.locator("#preview .errorlist")).to_have_text(
        "'Europe/Gent' is not a time zone: write an IANA name such as Europe/Berlin."
    )
    expect(page.locator("#preview-result")).to_have_count(0)


def test_an_operator_picks_a_tariff_on_a_connector_and_saves(
    page: Page, platform: str, login: tuple[str, str]
) -> None:
    stored_tariff("tariff_8_simple_025kwh.json", "AC-1")
    stored_tariff("tariff_9_025kwh_start.json", "AC-2")
    location = location_using([])
    evse = location.evses.get()
    log_in(page, platform, login)

    page.goto(f"{platform}/admin/locations/evse/{evse.pk}/change/")
    picker = page.locator("#id_connectors-0-tariff_ids")
    expect(picker.locator("option")).to_have_text(
        ["AC-1 · EUR · 0.25 EUR/kWh", "AC-2 · EUR · 0.50 EUR/session + 0.25 EUR/kWh"]
    )
    picker.select_option(["AC-2"])
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    expect(page.locator("#id_connectors-0-tariff_ids option:checked")).to_have_text(
        "AC-2 · EUR · 0.50 EUR/session + 0.25 EUR/kWh"
    )
    first = Connector.objects.filter(evse=evse).order_by("pk")[0]
    assert first.tariff_ids == ["AC-2"]

    page.goto(f"{platform}/admin/tariffs/tariff/")
    page.locator("#result_list tbody tr").filter(has_text="AC-2").get_by_role(
        "link", name="1 connector"
    ).click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody tr")).to_contain_text(evse.uid)
