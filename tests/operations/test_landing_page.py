"""`/` (issue 14, the first hour): a small page naming the admin, the API docs, the versions
URL and the charge points' URL pattern, instead of a 404 behind the admin's "View site"."""

import re

import pytest
from django.test import Client
from django.test.utils import override_settings

from tests.operations.test_content_security_policy import ADMIN_POLICY, policy

pytestmark = pytest.mark.django_db


def client() -> Client:
    return Client(SERVER_NAME="localhost")


@override_settings(
    OCPI_BASE_URL="http://127.0.0.1:9100",
    OCPP_BASE_URL="ws://127.0.0.1:10100",
    OCPI_BUSINESS_NAME="Example CPO",
)
def test_it_links_the_admin_and_api_docs_and_names_the_urls_to_hand_out() -> None:
    response = client().get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Example CPO: OCPI platform</title>" in page
    links = set(re.findall(r'href="([^"]+)"', page))
    assert {"/admin/", "/api/docs/", "/api/schema/", "/healthz"} <= links
    assert "<code>http://127.0.0.1:9100/ocpi/versions</code>" in page
    assert "<code>ws://127.0.0.1:10100/ocpp/&lt;identity&gt;</code>" in page
    for target in ("/admin/", "/api/docs/", "/healthz"):
        assert client().get(target).status_code in (200, 302)


def test_it_runs_under_the_admins_policy_with_nothing_inline() -> None:
    page = client().get("/").content.decode()

    assert policy("/") == ADMIN_POLICY
    assert "<script" not in page
    assert "<style" not in page
    assert " style=" not in page


def test_it_only_answers_reads() -> None:
    assert client().post("/").status_code == 405
    assert client().head("/").status_code == 200


def test_the_admins_view_site_link_leads_to_it(operator: Client) -> None:
    page = operator.get("/admin/").content.decode()

    assert '<a href="/">View site</a>' in page
