"""A real browser on the operator admin: Debian's Chromium, driven by Playwright.

The browser is the system's /usr/bin/chromium (.ci/run installs the `chromium` package); the
`playwright` wheel brings only its driver, and `playwright install` (a browser download) is
never run. A missing browser fails the test: these checks are never skipped.
"""

import os
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.partners import only_local_party

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Nothing leaves the machine: no updates, sync, safe-browsing or field-trial fetches.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Long enough for a cold Chromium on a loaded CI machine; a broken page fails within it.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)  # expect() has its own default (5 s)


@pytest.fixture
def _async_unsafe_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API keeps an event loop on the test's thread, so Django would refuse
    ORM calls there (SynchronousOnlyOperation) although none of them runs in that loop."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(tmp_path: Path, _async_unsafe_allowed: None) -> Iterator[BrowserContext]:
    """Chromium with a fresh profile of its own (no cookies, no cache from other runs)."""
    assert os.access(CHROMIUM, os.X_OK), (
        f"{CHROMIUM} is missing: `apt-get install chromium` (as .ci/run does) to run the "
        "browser tests"
    )
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()
            # While Playwright runs, Django keeps this thread's connections apart (asgiref
            # sees an event loop); close them now, or PostgreSQL keeps a session open past
            # the test and the test database cannot be dropped.
            connections.close_all()


@pytest.fixture
def page(browser: BrowserContext) -> Page:
    return browser.pages[0] if browser.pages else browser.new_page()


@pytest.fixture
def platform(live_server: LiveServer, transactional_db: None, settings: Any) -> str:
    """Our platform over real HTTP; static files as `runserver` serves them (no manifest)."""
    settings.OCPI_BASE_URL = live_server.url
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    only_local_party()
    return str(live_server.url)


@pytest.fixture
def login(platform: str, tmp_path: Path) -> tuple[str, str]:
    """The operator's account as `make run` makes it (its password file kept out of var/)."""
    out = StringIO()
    with override_settings(VAR_DIR=tmp_path):
        call_command("bootstrap_operator", stdout=out)
    username, password = out.getvalue().strip().split(" / ")
    return username, password


def log_in(page: Page, platform: str, login: tuple[str, str]) -> None:
    page.goto(f"{platform}/admin/")
    page.get_by_label("Username").fill(login[0])
    page.get_by_label("Password").fill(login[1])
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#user-tools strong")).to_have_text(login[0])
