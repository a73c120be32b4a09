"""The Content-Security-Policy lets the operator's pages work (issue 10, finding 7: no CSP on
the admin and the API docs): in Chromium, the admin and Swagger UI render with the policy
on, and the browser reports no violation of it."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.admin_browser.conftest import log_in

pytestmark = pytest.mark.browser

# Every violation the page reports (the securitypolicyviolation event), from its first script.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def console(page: Page) -> Iterator[list[str]]:
    """What the page's console says about the policy (Chromium reports each refusal there)."""
    messages: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            messages.append(message.text)

    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", keep)
    yield messages
    page.remove_listener("console", keep)


def violations(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.cspViolations")
    return found


def test_the_admin_renders_under_its_policy(
    page: Page, platform: str, login: tuple[str, str], console: list[str]
) -> None:
    log_in(page, platform, login)
    assert violations(page) == []

    response = page.goto(f"{platform}/admin/locations/location/add/")
    expect(page.locator("#id_latitude")).to_be_visible()
    page.locator("#id_name").fill("Gent")  # the form's scripts (prepopulated fields) run

    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert violations(page) == []
    assert console == []


def test_swagger_ui_renders_the_schema_under_its_policy(
    page: Page, platform: str, console: list[str]
) -> None:
    response = page.goto(f"{platform}/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("OCPI 2.2.1 CPO platform")
    expect(page.locator(".opblock").first).to_be_visible()
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert violations(page) == []
    assert console == []


def test_the_landing_page_renders_styled_under_the_policy(
    page: Page, platform: str, console: list[str]
) -> None:
    response = page.goto(f"{platform}/")

    expect(page.locator("#site-name")).to_be_visible()
    page.get_by_role("link", name="Admin").click()
    expect(page).to_have_url(f"{platform}/admin/login/?next=/admin/")
    assert response is not None
    assert "style-src 'self'" in response.headers["content-security-policy"]
    assert violations(page) == []
    assert console == []
