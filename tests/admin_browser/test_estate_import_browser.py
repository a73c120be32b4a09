"""The estate's CSV import in a real browser: an operator uploads locations, an EVSE and its
connector, one location row is wrong; the dry run lists that row's error and writes nothing;
the fixed file's dry run shows what will be created; confirming creates it all."""

import pytest
from playwright.sync_api import FilePayload, Page, expect

from locations.models import EVSE, Location
from tests.admin_browser.conftest import log_in

pytestmark = pytest.mark.browser

LOCATIONS_HEADER = (
    "country_code,party_id,id,publish,name,address,city,country,latitude,longitude,time_zone"
)
GOOD_ROW = (
    "BE,BEC,CSV-1,true,Gent Zuid,Woodrow Wilsonplein 1,Gent,BEL,51.047599,3.729944,Europe/Brussels"
)
SECOND_ROW = (
    "BE,BEC,CSV-2,true,Gent Dok,Koopvaardijlaan 1,Gent,{country},51.066000,3.733000,Europe/Brussels"
)
EVSES = (
    "country_code,party_id,location_id,uid,evse_id,status\n"
    "BE,BEC,CSV-2,CSV-2-E1,BE*BEC*ECSV21,AVAILABLE\n"
)
CONNECTORS = (
    "country_code,party_id,location_id,evse_uid,id,standard,format,power_type,"
    "max_voltage,max_amperage\n"
    "BE,BEC,CSV-2,CSV-2-E1,1,IEC_62196_T2,SOCKET,AC_3_PHASE,230,32\n"
)


def csv_file(name: str, text: str) -> FilePayload:
    return {"name": f"{name}.csv", "mimeType": "text/csv", "buffer": text.encode()}


def upload(page: Page, country: str) -> None:
    locations = f"{LOCATIONS_HEADER}\n{GOOD_ROW}\n{SECOND_ROW.format(country=country)}\n"
    page.set_input_files("#upload-form input[name=locations]", [csv_file("locations", locations)])
    page.set_input_files("#upload-form input[name=EVSEs]", [csv_file("evses", EVSES)])
    page.set_input_files(
        "#upload-form input[name=connectors]",
        [csv_file("connectors", CONNECTORS)],
    )
    page.get_by_role("button", name="Dry run").click()


def test_operator_fixes_a_bad_row_then_imports(
    page: Page, platform: str, login: tuple[str, str]
) -> None:
    log_in(page, platform, login)
    page.goto(f"{platform}/admin/locations/location/")
    page.locator("#import-csv").click()

    upload(page, country="Bel")

    error_row = page.locator("#dry-run-rows tr.row-error")
    expect(error_row).to_have_count(1)
    expect(error_row).to_contain_text("locations")
    expect(error_row.locator("td").nth(1)).to_have_text("3")
    expect(error_row).to_contain_text("country: Must be an ISO 3166-1 alpha-3 code")
    expect(page.locator("#fix-and-upload")).to_be_visible()
    expect(page.locator("#confirm-import")).to_have_count(0)
    assert Location.objects.count() == 0

    upload(page, country="BEL")

    expect(page.locator("#dry-run-summary")).to_contain_text(
        "4 new, 0 changed, 0 unchanged, 0 with errors"
    )
    expect(page.locator("#dry-run-rows tr.row-new")).to_have_count(4)
    assert Location.objects.count() == 0  # still a dry run
    page.locator("#confirm-import").get_by_role("button", name="Import").click()

    expect(page.locator(".messagelist")).to_contain_text("Imported: 4 new")
    expect(page.locator("#result_list")).to_contain_text("CSV-1")
    expect(page.locator("#result_list")).to_contain_text("Gent Dok")
    evse = EVSE.objects.get(uid="CSV-2-E1")
    assert (evse.location.ocpi_id, evse.connectors.get().max_amperage) == ("CSV-2", 32)
