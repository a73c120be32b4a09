"""The Content-Security-Policy of the pages a browser shows (issue 10, finding 7: none on
the admin and the API docs). That the pages work under it: tests/admin_browser."""

import pytest
from django.http.response import HttpResponseBase
from django.test import Client

pytestmark = pytest.mark.django_db

ADMIN_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def get(path: str) -> HttpResponseBase:
    return Client(SERVER_NAME="localhost").get(path)


def policy(path: str) -> dict[str, str]:
    header = get(path)["Content-Security-Policy"]
    directives = (directive.strip().partition(" ") for directive in header.split(";"))
    return {name: value for name, _, value in directives}


def test_the_admin_runs_only_its_own_scripts_and_styles() -> None:
    assert policy("/admin/login/") == ADMIN_POLICY


def test_the_api_docs_add_inline_style_only() -> None:
    assert policy("/api/docs/") == {**ADMIN_POLICY, "style-src": "'self' 'unsafe-inline'"}


def test_ocpi_answers_carry_no_policy() -> None:
    assert not get("/ocpi/versions").has_header("Content-Security-Policy")


def test_no_policy_is_built_for_ocpi_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-csp builds its policies before it applies EXCLUDE_URL_PREFIXES: OCPI requests,
    the hot path, must not pay for that (ocpi.middleware.BrowserPagesCSPMiddleware)."""
    built: list[str] = []
    monkeypatch.setattr("csp.middleware.build_policy", lambda **parts: built.append("policy"))

    get("/ocpi/versions")

    assert built == []
