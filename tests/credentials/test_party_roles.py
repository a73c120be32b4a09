"""Parties on both sides of a credentials relationship (credentials.asciidoc, CredentialsRole).

Our Credentials list every active local party (white-label CPOs share one platform). Each
party sits behind exactly one platform, or routing by (country_code, party_id) breaks: a
partner may not claim one of ours, nor one already connected through another partner.
"""

import pytest

from credentials.models import Invitation, LocalParty, PartnerPlatform, PartnerStatus
from credentials.services import invitation_create
from tests.credentials.conftest import OUR_ROLE, OcpiCall, Registration
from tests.credentials.fake_partner import FakePartner, credentials_role


def test_every_active_local_party_is_a_role_in_our_credentials(
    registered: Registration, ocpi_call: OcpiCall
) -> None:
    LocalParty.objects.create(
        country_code="BE",
        party_id="WL1",
        role="CPO",
        business_name="White Label One",
        website="https://wl1.example.com",
    )
    LocalParty.objects.create(country_code="NL", party_id="HUB", role="HUB", business_name="Hub")
    LocalParty.objects.create(
        country_code="DE", party_id="OFF", role="CPO", business_name="Gone", is_active=False
    )

    answer = ocpi_call("GET", registered.token_c)

    assert answer.data["roles"] == [
        {
            "role": "CPO",
            "business_details": {"name": "White Label One", "website": "https://wl1.example.com"},
            "party_id": "WL1",
            "country_code": "BE",
        },
        OUR_ROLE,
        credentials_role("HUB", "NL", "HUB", "Hub"),
    ]


@pytest.mark.parametrize(("country", "party"), [("NL", "CPO"), ("nl", "cpo")])
def test_a_partner_claiming_one_of_our_parties_is_2001(
    country: str,
    party: str,
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    _, token_a = invitation
    partner.roles = [credentials_role("CPO", country, party, "Us?")]

    answer = ocpi_call("POST", token_a, partner.credentials("token-b"))

    assert (answer.http_status, answer.status_code) == (200, 2001)
    assert answer.body["status_message"] == "NL*CPO CPO is a party of this platform"
    assert partner.calls == []
    assert PartnerPlatform.objects.count() == 0


def test_a_party_already_connected_through_another_partner_is_2001(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    _, second_token_a = invitation_create(name="Impostor")

    answer = ocpi_call("POST", second_token_a, partner.credentials("token-b2"))

    assert (answer.http_status, answer.status_code) == (200, 2001)
    assert answer.body["status_message"] == (
        "DE*FKE EMSP is already connected through another platform"
    )
    assert PartnerPlatform.objects.get() == registered.partner


def test_a_put_may_not_take_a_party_of_another_partner(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    other = PartnerPlatform.objects.create(
        name="Other", status=PartnerStatus.PENDING, versions_url="https://other.test/versions"
    )
    other.roles.create(role="EMSP", country_code="FR", party_id="OTH", business_details={})
    partner.roles = [*partner.roles, credentials_role("EMSP", "FR", "OTH", "Other")]

    answer = ocpi_call("PUT", registered.token_c, partner.credentials("token-b2"))

    assert (answer.status_code, answer.body["status_message"]) == (
        2001,
        "FR*OTH EMSP is already connected through another platform",
    )
    assert list(registered.partner.roles.values_list("party_id", flat=True)) == ["FKE"]


def test_the_party_of_an_unregistered_partner_may_register_again(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    ocpi_call("DELETE", registered.token_c)
    _, second_token_a = invitation_create(name="Back again")

    answer = ocpi_call("POST", second_token_a, partner.credentials("token-b2"))

    assert answer.status_code == 1000
    assert list(PartnerPlatform.objects.values_list("name", "status")) == [
        ("Back again", PartnerStatus.REGISTERED),
        ("Test eMSP", PartnerStatus.UNREGISTERED),
    ]
