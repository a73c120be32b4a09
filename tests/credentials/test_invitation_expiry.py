"""Invitations expire (issue 10, finding 7): a token A opens our versions and credentials
modules for OCPI_INVITATION_DAYS, then is refused as a revoked one is (HTTP 401)."""

import json
from datetime import timedelta
from io import StringIO
from typing import Any

from django.contrib.admin.utils import display_for_value
from django.core.management import call_command
from django.test import Client

from credentials.models import Invitation, LocalParty
from credentials.services import invitation_create
from ocpi.time import format_datetime, now
from tests.admin_pages import page_text
from tests.credentials.conftest import VERSIONS_PATH, OcpiCall

INVITATIONS = "/admin/credentials/invitation/"


def expire(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=now() - timedelta(seconds=1))
    invitation.refresh_from_db()


def test_an_invitation_expires_after_the_configured_days(
    our_party: LocalParty, settings: Any
) -> None:
    settings.OCPI_INVITATION_DAYS = 3
    before = now()

    invitation, _ = invitation_create(name="New eMSP")

    assert invitation.expires_at is not None
    assert before + timedelta(days=3) <= invitation.expires_at <= now() + timedelta(days=3)
    assert invitation.state == "open"


def test_an_expired_token_a_is_refused_like_a_revoked_one(
    invitation: tuple[Invitation, str], ocpi_call: OcpiCall
) -> None:
    invite, token_a = invitation
    expire(invite)

    versions = ocpi_call("GET", token_a, path=VERSIONS_PATH)
    registration = ocpi_call("POST", token_a, body={})

    assert (versions.http_status, versions.status_code) == (401, 2000)
    assert (registration.http_status, registration.status_code) == (401, 2000)
    assert invite.state == "expired"


def test_a_token_a_works_until_it_expires(
    invitation: tuple[Invitation, str], ocpi_call: OcpiCall
) -> None:
    invite, token_a = invitation
    Invitation.objects.filter(pk=invite.pk).update(expires_at=now() + timedelta(seconds=30))

    versions = ocpi_call("GET", token_a, path=VERSIONS_PATH)

    assert (versions.http_status, versions.status_code) == (200, 1000)


def test_an_invitation_from_before_expiry_never_expires(
    invitation: tuple[Invitation, str], ocpi_call: OcpiCall
) -> None:
    invite, token_a = invitation
    Invitation.objects.filter(pk=invite.pk).update(expires_at=None)

    versions = ocpi_call("GET", token_a, path=VERSIONS_PATH)

    assert (versions.http_status, versions.status_code) == (200, 1000)
    invite.refresh_from_db()
    assert invite.state == "open"


def test_the_admin_shows_the_expiry_and_the_expired_state(
    operator: Client, invitation: tuple[Invitation, str]
) -> None:
    invite, token_a = invitation
    expire(invite)

    listing = page_text(operator.get(INVITATIONS))
    page = operator.get(f"{INVITATIONS}{invite.pk}/change/")

    created, expires = (
        display_for_value(moment, "-") for moment in (invite.created_at, invite.expires_at)
    )
    assert f"Test eMSP expired {created} {expires} - -" in listing
    assert (
        "State: expired Versions URL: https://cpo.test/ocpi/versions Token A: — "
        f"Created at: {created} Expires at: {expires} " in page_text(page)
    )
    assert token_a not in page.content.decode()


def test_ocpi_invite_prints_the_expiry(our_party: LocalParty) -> None:
    out = StringIO()

    call_command("ocpi_invite", "New eMSP", "--json", stdout=out)

    expires_at = json.loads(out.getvalue())["expires_at"]
    stored = Invitation.objects.get()
    assert expires_at == format_datetime(stored.expires_at)  # type: ignore[arg-type]
