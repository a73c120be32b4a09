"""The main lists in Chromium at 1400 px: no sideways scrolling, even with the longest ids
OCPI allows, and times in the location's zone with their label."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from locations.models import EVSE
from tests.admin_browser.conftest import log_in
from tests.cdrs.conftest import cdr_location
from tests.dashboard.estate import MOMENT, add_cdr, add_session, build_estate

pytestmark = pytest.mark.browser

LONGEST_ID = "L" * 36  # CiString(36): a location's, a token's uid, a contract id
LONGEST_EVSE_ID = "BE*BEC*E" + "9" * 40  # CiString(48)


def a_busy_estate() -> None:
    """The dashboard's estate, with ids as long as OCPI allows wherever a list shows one."""
    location = build_estate()["location"]
    location.ocpi_id, location.name = LONGEST_ID, "A site with a rather long name for a list"
    location.save()
    for index, evse in enumerate(EVSE.objects.filter(location=location).order_by("pk")):
        evse.evse_id = f"{LONGEST_EVSE_ID[:-1]}{index}"
        evse.uid = f"{'U' * 35}{index}"  # CiString(36)
        evse.save()
    for number in range(30):
        start = MOMENT - timedelta(days=number, hours=3)
        session = add_session(location, f"S{number:02d}-" + "X" * 32, start, "12.25")
        session.token_uid = session.contract_id = "T" * 36
        session.save()
        add_cdr(
            f"C{number:02d}-" + "X" * 32,
            start + timedelta(hours=1),
            "12.80",
            charging_session=session,
            token_uid="T" * 36,
            contract_id="C" * 36,
            cdr_location=cdr_location(id=LONGEST_ID, name=location.name, evse_id=LONGEST_EVSE_ID),
        )


def fits_the_screen(page: Page) -> bool:
    return bool(
        page.evaluate(
            "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
        )
    )


@pytest.mark.parametrize(
    ("path", "rows", "labels"),
    [
        ("/admin/charging_sessions/session/", 37, {"CET"}),
        # The estate's first CDRs have no session of ours to tell the zone: the operator's.
        ("/admin/cdrs/cdr/", 36, {"CET", "UTC"}),
        ("/admin/locations/evse/", 4, {"CET"}),  # the REMOVED one hidden
        ("/admin/locations/location/", 1, {"CET"}),
    ],
)
def test_the_list_fits_1400_px_and_shows_labelled_local_times(
    page: Page, platform: str, login: tuple[str, str], path: str, rows: int, labels: set[str]
) -> None:
    a_busy_estate()
    log_in(page, platform, login)

    page.goto(f"{platform}{path}")

    expect(page.locator("#result_list tbody tr")).to_have_count(rows)
    assert page.viewport_size == {"width": 1400, "height": 1000}
    assert fits_the_screen(page)
    # Europe/Brussels before the clocks go forward on 29 March: CET.
    cells = page.locator("#result_list tbody time")
    expect(cells.first).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d (CET|UTC)$"))
    assert {text.rsplit(" ", 1)[1] for text in cells.all_inner_texts()} == labels
    # The UTC instant in each time's tooltip.
    assert (cells.first.get_attribute("title") or "").endswith(" UTC")
