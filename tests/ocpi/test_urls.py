"""Every OCPI URL answers with and without a trailing slash, never with a redirect.

Partners differ on trailing slashes, and a 301 on POST or PUT loses the body (checklist §9).
"""

from collections.abc import Callable, Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from credentials.models import Invitation

pytestmark = pytest.mark.django_db


def flatten(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        regex = prefix + str(pattern.pattern.regex.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            yield from flatten(pattern.url_patterns, regex)
        else:
            yield regex


def ocpi_routes() -> list[str]:
    return [
        route
        for route in flatten(get_resolver().url_patterns)
        if route.startswith("ocpi") and route != "ocpi(/.*)?$"
    ]


def test_the_project_routes_the_versions_and_credentials_urls() -> None:
    """Module apps add their own routes; these three are the core's and always there."""
    assert set(ocpi_routes()) >= {
        r"ocpi/2\.2\.1/?$",
        r"ocpi/2\.2\.1/credentials/?$",
        "ocpi/versions/?$",
    }


def test_every_ocpi_route_takes_an_optional_trailing_slash() -> None:
    """Routes of module apps added later are held to the same rule (use ocpi_path())."""
    assert [route for route in ocpi_routes() if not route.endswith("/?$")] == []


@pytest.mark.parametrize(
    ("method", "path", "http_status", "status_code"),
    [
        ("get", "/ocpi/versions", 200, 1000),
        ("get", "/ocpi/versions/", 200, 1000),
        ("post", "/ocpi/versions", 405, 2000),
        ("post", "/ocpi/versions/", 405, 2000),
        ("get", "/ocpi/2.2.1", 200, 1000),
        ("get", "/ocpi/2.2.1/", 200, 1000),
        ("post", "/ocpi/2.2.1", 405, 2000),
        ("post", "/ocpi/2.2.1/", 405, 2000),
        ("get", "/ocpi/2.2.1/credentials", 200, 1000),
        ("get", "/ocpi/2.2.1/credentials/", 200, 1000),
        ("post", "/ocpi/2.2.1/credentials", 405, 2000),  # already registered
        ("post", "/ocpi/2.2.1/credentials/", 405, 2000),
        ("get", "/ocpi/nothing", 404, 2000),
        ("get", "/ocpi/nothing/", 404, 2000),
        ("post", "/ocpi/nothing", 404, 2000),
    ],
)
def test_a_registered_partner_reaches_each_url_with_and_without_slash(
    partner_client: APIClient, method: str, path: str, http_status: int, status_code: int
) -> None:
    response = getattr(partner_client, method)(path, data={}, format="json")

    assert (response.status_code, response.json()["status_code"]) == (http_status, status_code)


@pytest.mark.parametrize("path", ["/ocpi/2.2.1/credentials", "/ocpi/2.2.1/credentials/"])
def test_a_registration_post_reaches_the_view_with_and_without_slash(
    client_with_token: Callable[[str], APIClient], invitation: tuple[Invitation, str], path: str
) -> None:
    client = client_with_token(invitation[1])

    response = client.post(path, data={}, format="json")

    # The view ran: it judged the (empty) Credentials object.
    assert (response.status_code, response.json()["status_code"]) == (200, 2001)
