"""Issue 14, the first hour: errors an operator reads say what failed, where and when: the
"Register with a partner" form in the admin's styling with the cause in plain words, and a
partner's last error with its operation and time (credentials.problems)."""

import html
from datetime import UTC, datetime

from django.test import Client

from credentials.models import LocalParty, PartnerPlatform
from credentials.problems import partner_error_clear, partner_error_record
from tests.admin_pages import page_text
from tests.credentials.conftest import Registration

PARTNERS = "/admin/credentials/partnerplatform/"


def test_registering_with_an_unreachable_partner_says_so_in_the_admins_styling(
    operator: Client, our_party: LocalParty
) -> None:
    url = "http://127.0.0.1:1/ocpi/versions"
    form = {"name": "Nobody", "versions_url": url, "token_a": "token-a"}

    response = operator.post(f"{PARTNERS}register/", form)

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert (
        '<p class="errornote">Reading the partner\'s versions and endpoints failed (OCPI 3001): '
        f"Cannot use {url}: GET {url} failed: could not connect to 127.0.0.1:1: "
        "Connection refused</p>"
    ) in page
    assert "Pool" not in page
    assert '<fieldset class="module aligned">' in page
    assert PartnerPlatform.objects.count() == 0


def test_a_field_error_shows_beside_its_field(operator: Client, our_party: LocalParty) -> None:
    response = operator.post(f"{PARTNERS}register/", {"name": "X", "versions_url": "not a url"})

    page = response.content.decode()
    assert '<div class="form-row errors">' in page
    assert "Enter a valid URL." in page
    assert "This field is required." in page  # token A


def test_the_partner_list_shows_the_operation_and_time_of_the_last_error(
    operator: Client, registered: Registration
) -> None:
    partner = registered.partner
    partner_error_record(partner.pk, "pull tokens", "delta pull 7: HTTP 500")
    PartnerPlatform.objects.filter(pk=partner.pk).update(
        last_error_at=datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
    )

    listing = page_text(operator.get(PARTNERS))
    detail = page_text(operator.get(f"{PARTNERS}{partner.pk}/change/"))

    assert "2026-05-04 03:02 UTC: pull tokens: delta pull 7: HTTP 500" in listing
    assert "pull tokens: delta pull 7: HTTP 500" in detail
    assert "Last error at: 2026-05-04 03:02 UTC" in detail


def test_clearing_an_operations_error_leaves_anothers(registered: Registration) -> None:
    partner = registered.partner
    partner_error_record(partner.pk, "refresh versions and endpoints", "HTTP 500")

    partner_error_clear(partner.pk, "pull tokens")
    partner.refresh_from_db()
    assert partner.last_error == "refresh versions and endpoints: HTTP 500"

    partner_error_clear(partner.pk)
    partner.refresh_from_db()
    assert (partner.last_error, partner.last_error_at) == ("", None)


def test_a_long_error_is_cut_to_what_a_list_cell_can_hold(registered: Registration) -> None:
    text = partner_error_record(registered.partner.pk, "pull tokens", "x" * 5000)

    assert len(text) == 2000
    assert PartnerPlatform.objects.get().last_error == text
