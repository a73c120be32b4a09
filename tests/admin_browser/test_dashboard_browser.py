"""The operator's overview in Chromium: tiles and SVG charts render under the admin's CSP with
no error in the console, and its screenshot is docs/dashboard.png (shown in the README)."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.admin_browser.conftest import log_in
from tests.admin_browser.test_csp_browser import RECORD_VIOLATIONS, violations
from tests.dashboard.estate import MOMENT, add_cdr, add_session, build_estate

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"


@pytest.fixture
def problems(page: Page) -> Iterator[list[str]]:
    """Every console error and warning of the page (a CSP refusal is one), but the browser's
    own request for /favicon.ico, which the platform does not serve."""
    said: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        favicon = message.location.get("url", "").endswith("/favicon.ico")
        if message.type in ("error", "warning") and not favicon:
            said.append(message.text)

    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", keep)
    page.on("pageerror", lambda error: said.append(str(error)))
    yield said
    page.remove_listener("console", keep)


def a_month_of_charging() -> None:
    """The estate's month, filled in: a few sessions and CDRs every day."""
    location = build_estate()["location"]
    for back in range(1, 30):
        day = MOMENT - timedelta(days=back, hours=2)
        for number in range(back * 7 % 5 + 1):
            start = day - timedelta(hours=number)
            add_session(location, f"D{back}-{number}", start, f"{8 + back % 9 + number * 3}.5")
            add_cdr(f"D{back}-{number}", start, f"{4 + back % 6 + number}.80")


def test_the_dashboard_renders_tiles_and_charts_under_the_policy(
    page: Page,
    platform: str,
    login: tuple[str, str],
    problems: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("dashboard.overview.now", lambda: MOMENT)
    a_month_of_charging()

    log_in(page, platform, login)  # the admin's first page is the overview

    expect(page.locator("#op-online .op-figure")).to_have_text("1")
    expect(page.locator("#op-offline .op-figure")).to_have_text("2")
    expect(page.locator("#op-active .op-figure")).to_have_text("1")
    expect(page.locator(".op-status-charging .op-figure")).to_have_text("2")
    expect(page.locator("#op-partners .op-partner")).to_have_count(2)
    expect(page.locator("#op-failed-deliveries tbody tr")).to_have_count(1)
    charts = page.locator("#op-charts svg.op-svg")
    expect(charts).to_have_count(4)
    # Drawn: the SVG has a size on the page and its bars have heights.
    box = charts.first.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 50
    assert page.locator("#op-charts svg.op-svg").first.locator("rect.op-bar").count() == 30
    # Per site and eMSP party: energy, sessions, revenue in CHF and in EUR; one site, one party.
    rankings = page.locator("#op-rankings svg.op-svg")
    expect(rankings).to_have_count(8)
    expect(rankings.first.locator("rect.op-bar")).to_have_count(1)
    expect(page.locator("#op-partners .op-breaker").first).to_have_text("closed")
    tallest = page.locator("#op-charts svg").first.locator("rect.op-bar").last.bounding_box()
    assert tallest is not None
    assert tallest["height"] > 0
    # The stylesheet applied (a file of ours, not an inline style): the page is wider than
    # Django's 600 px index.
    content = page.locator("#content").bounding_box()
    assert content is not None
    assert content["width"] > 900
    expect(page.locator("#op-models")).to_contain_text("Partner platforms")

    SCREENSHOT.parent.mkdir(exist_ok=True)
    # The overview, down to its last section: the model list below it is Django's own.
    end = page.locator("#op-failures").bounding_box()
    assert end is not None
    clip = {"x": 0, "y": 0, "width": 1400, "height": end["y"] + end["height"] + 16}
    page.screenshot(path=SCREENSHOT, full_page=True, clip=clip)  # type: ignore[arg-type]
    assert violations(page) == []
    assert problems == []

    page.locator(".op-status-charging").click()
    expect(page).to_have_url(f"{platform}/admin/locations/evse/?status__exact=CHARGING")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
