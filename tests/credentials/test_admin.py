"""The operator's screens for partners and invitations (DESIGN.md: operators run everything in
the Django admin; credentials.asciidoc: both directions of registration from an admin UI)."""

import re

from django.contrib.admin.utils import display_for_value
from django.test import Client

from credentials.models import Invitation, LocalParty, PartnerPlatform, PartnerStatus
from tests.admin_pages import messages_of, page_text, run_action
from tests.credentials.conftest import VERSIONS_PATH, OcpiCall, Registration, calls_us
from tests.credentials.fake_partner import FakePartner, token_header

PARTNERS = "/admin/credentials/partnerplatform/"
INVITATIONS = "/admin/credentials/invitation/"


# --- partners -----------------------------------------------------------------------------


def test_partner_list_shows_status_roles_and_last_contact(
    operator: Client, registered: Registration
) -> None:
    partner = PartnerPlatform.objects.get()

    response = operator.get(PARTNERS)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<th class="field-name"><a href="/admin/credentials/partnerplatform/' in html
    assert '<td class="field-status">Registered</td>' in html
    assert '<td class="field-party_roles">DE*FKE EMSP</td>' in html
    assert '<td class="field-version">2.2.1</td>' in html
    contact = display_for_value(partner.last_contact_at, "")
    assert f'<td class="field-last_contact_at nowrap">{contact}</td>' in html


def test_partner_page_shows_roles_endpoints_and_last_contact(
    operator: Client, registered: Registration, partner: FakePartner
) -> None:
    stored = PartnerPlatform.objects.get()

    response = operator.get(f"{PARTNERS}{stored.pk}/change/")

    assert response.status_code == 200
    text = page_text(response)
    assert "Status: Registered" in text
    assert f"Versions url: {partner.versions_url}" in text
    assert f"Last contact at: {display_for_value(stored.last_contact_at, '')}" in text
    assert 'DE*FKE EMSP Emsp DE FKE {"name": "Fake eMSP"}' in text
    assert f"credentials SENDER credentials Sender {partner.credentials_url}" in text
    assert f"tokens SENDER tokens Sender {partner.tokens_url}" in text
    assert registered.token_b not in text
    assert registered.token_c not in text


def test_partners_are_not_added_by_hand(operator: Client, our_party: LocalParty) -> None:
    assert operator.get(f"{PARTNERS}add/").status_code == 403


# --- invitations --------------------------------------------------------------------------


def test_creating_an_invitation_shows_token_a_once_and_it_works(
    operator: Client, our_party: LocalParty, ocpi_call: OcpiCall
) -> None:
    response = operator.post(f"{INVITATIONS}add/", {"name": "New eMSP"}, follow=True)

    assert response.status_code == 200
    [message] = [m for m in messages_of(response) if m.startswith("Invitation for")]
    match = re.fullmatch(
        r"Invitation for New eMSP: versions URL https://cpo\.test/ocpi/versions "
        r"and token A (?P<token>[A-Za-z0-9_-]{43})",
        message,
    )
    assert match is not None
    assert response.content.decode().count(match["token"]) == 1
    invitation = Invitation.objects.get()
    assert (invitation.name, invitation.state, invitation.created_by.username) == (  # type: ignore[union-attr]
        "New eMSP",
        "open",
        "operator",
    )
    assert ocpi_call("GET", match["token"], path=VERSIONS_PATH).http_status == 200


def test_revoking_an_invitation_stops_its_token(
    operator: Client, invitation: tuple[Invitation, str], ocpi_call: OcpiCall
) -> None:
    invite, token_a = invitation

    response = run_action(operator, INVITATIONS, "revoke", invite.pk)

    assert messages_of(response) == ["Open invitations revoked."]
    invite.refresh_from_db()
    assert invite.state == "revoked"
    assert ocpi_call("GET", token_a, path=VERSIONS_PATH).http_status == 401


def test_a_used_invitation_does_not_show_its_token(
    operator: Client, registered: Registration, invitation: tuple[Invitation, str]
) -> None:
    invite, token_a = invitation

    response = operator.get(f"{INVITATIONS}{invite.pk}/change/")

    assert response.status_code == 200
    assert token_a not in response.content.decode()


# --- registering with a partner (we are the Sender) ----------------------------------------


def test_register_view_shows_the_form(operator: Client, our_party: LocalParty) -> None:
    response = operator.get(f"{PARTNERS}register/")

    assert response.status_code == 200
    assert list(response.context["form"].fields) == ["name", "versions_url", "token_a"]


def test_register_view_registers_with_the_partner(
    operator: Client, partner: FakePartner, live_platform: str
) -> None:
    form = {"name": "Fake eMSP", "versions_url": partner.versions_url, "token_a": partner.invite()}

    response = operator.post(f"{PARTNERS}register/", form)

    stored = PartnerPlatform.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{PARTNERS}{stored.pk}/change/"
    assert (stored.name, stored.status, stored.outgoing_token) == (
        "Fake eMSP",
        PartnerStatus.REGISTERED,
        partner.token_c,
    )


def test_register_view_shows_why_registration_failed(
    operator: Client, partner: FakePartner, our_party: LocalParty
) -> None:
    partner.versions = [{"version": "2.1.1", "url": f"{partner.base_url}/ocpi/2.1.1"}]
    form = {"name": "Fake eMSP", "versions_url": partner.versions_url, "token_a": partner.invite()}

    response = operator.post(f"{PARTNERS}register/", form)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Reading the partner's versions and endpoints failed "
        "(OCPI 3002): No mutual version: we speak 2.2.1, the partner offers 2.1.1"
    ]
    assert PartnerPlatform.objects.count() == 0


# --- actions on partners: queued as tasks ---------------------------------------------------


def test_rotate_action_rotates_through_the_task(
    operator: Client,
    registered_with_partner: PartnerPlatform,
    partner: FakePartner,
    live_platform: str,
    eager_tasks: None,
) -> None:
    old_b = registered_with_partner.incoming_token

    response = run_action(operator, PARTNERS, "rotate_tokens", registered_with_partner.pk)

    assert messages_of(response) == ["Token rotation queued for 1 registered partner(s)."]
    stored = PartnerPlatform.objects.get()
    assert (stored.incoming_token, stored.outgoing_token) == (
        partner.platform_token,
        partner.token_c,
    )
    assert calls_us(live_platform, old_b) == 401


def test_refresh_action_refetches_the_endpoints(
    operator: Client,
    registered_with_partner: PartnerPlatform,
    partner: FakePartner,
    eager_tasks: None,
) -> None:
    partner.endpoints = partner.endpoints[:1]

    response = run_action(operator, PARTNERS, "refresh_endpoints", registered_with_partner.pk)

    assert messages_of(response) == ["Endpoint refresh queued for 1 registered partner(s)."]
    assert list(registered_with_partner.endpoints.values_list("identifier", flat=True)) == [
        "credentials"
    ]
    token = token_header(registered_with_partner.outgoing_token)
    assert partner.seen() == [("GET", "/ocpi/versions", token), ("GET", "/ocpi/2.2.1", token)]


def test_unregister_action_tells_the_partner(
    operator: Client,
    registered_with_partner: PartnerPlatform,
    partner: FakePartner,
    eager_tasks: None,
) -> None:
    token_c = registered_with_partner.outgoing_token

    response = run_action(operator, PARTNERS, "unregister", registered_with_partner.pk)

    assert messages_of(response) == ["Unregistration queued for 1 registered partner(s)."]
    assert PartnerPlatform.objects.get().status == PartnerStatus.UNREGISTERED
    assert partner.seen() == [("DELETE", "/ocpi/2.2.1/credentials", token_header(token_c))]


def test_actions_skip_partners_that_are_not_registered(
    operator: Client,
    registered_with_partner: PartnerPlatform,
    partner: FakePartner,
    eager_tasks: None,
) -> None:
    run_action(operator, PARTNERS, "unregister", registered_with_partner.pk)
    partner.calls.clear()

    response = run_action(operator, PARTNERS, "rotate_tokens", registered_with_partner.pk)

    assert messages_of(response) == ["Token rotation queued for 0 registered partner(s)."]
    assert partner.calls == []
