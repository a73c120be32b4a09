"""One owner per party (credentials.claims): a (country_code, party_id) is held by one partner
platform, whatever its roles, or by us; a database constraint decides a race.

Takeovers refused with 2001 (no code of credentials.asciidoc names this case: it is the
request's roles that are wrong, status_codes.asciidoc 2001 "Invalid or missing parameters").
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from django.apps import apps
from django.db import IntegrityError

from credentials import services
from credentials.claims import PartyTaken, claim_local_party
from credentials.discovery import Discovery, discover
from credentials.models import (
    Invitation,
    LocalParty,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
    PartyClaim,
)
from credentials.services import PartnerCallFailed, invitation_create
from tests.conftest import authorization
from tests.credentials.conftest import CREDENTIALS_PATH, OcpiCall, Registration
from tests.credentials.fake_partner import FakePartner, credentials_role
from tests.partners import registered_emsp

TAKEN = "is already connected through another platform"
MIGRATION = "credentials.migrations.0007_partyclaim"


def claims() -> list[tuple[str, str, str | None]]:
    return [
        (claim.country_code, claim.party_id, claim.partner.name if claim.partner else None)
        for claim in PartyClaim.objects.select_related("partner")
    ]


def claim_meanwhile(monkeypatch: pytest.MonkeyPatch, country_code: str, party_id: str) -> None:
    """Another platform claims the party while ours talks to the partner: the race that the
    check before the call cannot see, only the claim's constraint."""

    def discover_then_lose_the_race(*args: Any, **kwargs: Any) -> Discovery:
        found = discover(*args, **kwargs)
        registered_emsp("Quicker", "quicker-token", (country_code, party_id))
        return found

    monkeypatch.setattr(services, "discover", discover_then_lose_the_race)


# --- registration (they call us) -------------------------------------------------------------


def test_another_role_of_a_party_held_by_another_platform_is_2001(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    _, token_a = invitation_create(name="Impostor")
    partner.roles = [credentials_role("OTHER", "de", "fke", "Not quite the Fake eMSP")]

    answer = ocpi_call("POST", token_a, partner.credentials("token-b2"))

    assert (answer.http_status, answer.status_code) == (200, 2001)
    assert answer.body["status_message"] == f"DE*FKE OTHER {TAKEN}"
    assert partner.calls == []
    assert PartnerPlatform.objects.get() == registered.partner
    assert claims() == [("DE", "FKE", "Test eMSP"), ("NL", "CPO", None)]


def test_another_role_of_one_of_our_parties_is_2001(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    _, token_a = invitation
    partner.roles = [credentials_role("EMSP", "NL", "CPO", "Our CPO's eMSP?")]

    answer = ocpi_call("POST", token_a, partner.credentials("token-b"))

    assert (answer.http_status, answer.status_code) == (200, 2001)
    assert answer.body["status_message"] == "NL*CPO EMSP is a party of this platform"
    assert PartnerPlatform.objects.count() == 0


def test_one_platform_may_hold_one_party_in_several_roles(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> None:
    _, token_a = invitation
    partner.roles = [
        credentials_role("CPO", "NL", "ABC", "ABC charging"),
        credentials_role("EMSP", "nl", "abc", "ABC driving"),
    ]

    answer = ocpi_call("POST", token_a, partner.credentials("token-b"))

    assert answer.status_code == 1000
    assert claims() == [("NL", "ABC", "Test eMSP"), ("NL", "CPO", None)]


def test_a_party_claimed_during_the_registration_is_2001_and_the_invitation_stays_open(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, token_a = invitation
    claim_meanwhile(monkeypatch, "DE", "FKE")

    answer = ocpi_call("POST", token_a, partner.credentials("token-b"))

    assert (answer.http_status, answer.status_code) == (200, 2001)
    assert answer.body["status_message"] == f"DE*FKE EMSP {TAKEN}"
    assert list(PartnerPlatform.objects.values_list("name", flat=True)) == ["Quicker"]
    assert Invitation.objects.open().count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_invitations_used_at_once_for_one_party_register_one_partner(
    partner: FakePartner, live_platform: str
) -> None:
    tokens = [invitation_create(name=name)[1] for name in ("First", "Second")]
    body = partner.credentials("token-b")
    # Both pass the check and wait at the partner's versions endpoint, then both store:
    # only the claim's unique constraint tells them apart.
    partner.versions_gate = threading.Barrier(2)

    def register(token_a: str) -> tuple[int, int, str]:
        response = requests.post(
            live_platform + CREDENTIALS_PATH,
            json=body,
            headers={"Authorization": authorization(token_a)},
            timeout=30,
        )
        reply = response.json()
        return response.status_code, reply["status_code"], reply.get("status_message", "")

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(register, tokens))

    assert outcomes == [(200, 1000, ""), (200, 2001, f"DE*FKE EMSP {TAKEN}")]
    winner = PartnerPlatform.objects.get()
    assert claims() == [("DE", "FKE", winner.name), ("NL", "CPO", None)]
    assert list(PartnerRole.objects.values_list("partner__name", "party_id")) == [
        (winner.name, "FKE")
    ]


# --- update (they PUT) and rotation (we PUT) --------------------------------------------------


def test_a_party_claimed_during_an_update_is_2001_and_nothing_changes(
    registered: Registration,
    partner: FakePartner,
    ocpi_call: OcpiCall,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    partner.roles = [*partner.roles, credentials_role("NSP", "FR", "OTH", "Other")]
    claim_meanwhile(monkeypatch, "FR", "OTH")

    answer = ocpi_call("PUT", registered.token_c, partner.credentials("token-b2"))

    assert (answer.status_code, answer.body["status_message"]) == (2001, f"FR*OTH NSP {TAKEN}")
    assert ocpi_call("GET", registered.token_c).status_code == 1000  # token C still works
    assert list(registered.partner.roles.values_list("party_id", flat=True)) == ["FKE"]
    assert claims() == [("DE", "FKE", "Test eMSP"), ("FR", "OTH", "Quicker"), ("NL", "CPO", None)]


def test_an_update_dropping_a_party_releases_it(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    partner.roles = [credentials_role("EMSP", "DE", "NEW", "Renamed")]

    answer = ocpi_call("PUT", registered.token_c, partner.credentials("token-b2"))

    assert answer.status_code == 1000
    assert claims() == [("DE", "NEW", "Test eMSP"), ("NL", "CPO", None)]


def test_a_rotation_naming_a_party_held_by_another_keeps_the_new_tokens_and_the_old_roles(
    registered: Registration, partner: FakePartner, live_platform: str
) -> None:
    registered_emsp("Holder", "holder-token", ("FR", "OTH"))
    partner.roles = [credentials_role("OTHER", "FR", "OTH", "Other")]

    with pytest.raises(PartnerCallFailed) as failed:
        services.rotate_credentials(partner=registered.partner)

    message = f"Roles not changed: FR*OTH OTHER {TAKEN}"
    assert str(failed.value) == f"Rotation with Test eMSP: {message}"
    stored = PartnerPlatform.objects.get(pk=registered.partner.pk)
    assert (stored.outgoing_token, stored.incoming_token) == (
        partner.token_c,
        partner.platform_token,
    )
    assert stored.last_error == f"rotate tokens (PUT credentials): {message}"
    assert list(stored.roles.values_list("party_id", flat=True)) == ["FKE"]
    assert claims() == [("DE", "FKE", "Test eMSP"), ("FR", "OTH", "Holder"), ("NL", "CPO", None)]


# --- registering with a partner (we POST) -----------------------------------------------------


def test_registering_with_a_partner_holding_another_role_of_a_taken_party_is_withdrawn(
    partner: FakePartner, live_platform: str
) -> None:
    registered_emsp("Holder", "holder-token", ("DE", "FKE"))
    partner.roles = [credentials_role("NSP", "DE", "FKE", "Fake navigation")]

    with pytest.raises(PartnerCallFailed) as failed:
        services.register_with_partner(
            versions_url=partner.versions_url, token_a=partner.invite(), name="Navigator"
        )

    assert str(failed.value) == f"Registration with Navigator failed: DE*FKE NSP {TAKEN}"
    assert partner.seen()[-1][0] == "DELETE"  # told, as for any refused registration
    assert list(PartnerPlatform.objects.values_list("name", flat=True)) == ["Holder"]


# --- unregistration and our own parties -------------------------------------------------------


def test_unregistration_releases_the_party_for_another_platform(
    registered: Registration, partner: FakePartner, ocpi_call: OcpiCall
) -> None:
    ocpi_call("DELETE", registered.token_c)
    assert claims() == [("NL", "CPO", None)]
    _, token_a = invitation_create(name="Successor")
    partner.roles = [credentials_role("OTHER", "DE", "FKE", "Successor")]

    answer = ocpi_call("POST", token_a, partner.credentials("token-b2"))

    assert answer.status_code == 1000
    assert claims() == [("DE", "FKE", "Successor"), ("NL", "CPO", None)]


def test_one_of_our_parties_cannot_be_a_party_a_partner_holds(db: None) -> None:
    registered_emsp("Holder", "holder-token", ("DE", "ABC"))
    party = LocalParty(country_code="de", party_id="abc", role="CPO", business_name="Mine?")

    with pytest.raises(PartyTaken, match=f"DE\\*ABC CPO {TAKEN}"):
        claim_local_party(party=party)


def test_the_claims_constraint_refuses_a_second_owner_written_around_the_services(
    registered: Registration,
) -> None:
    other = registered_emsp("Other", "other-token")

    with pytest.raises(IntegrityError):
        PartyClaim.objects.create(country_code="de", party_id="fke", partner=other)


def test_the_backfill_claims_ours_then_the_first_registered_and_reports_conflicts(
    db: None, caplog: pytest.LogCaptureFixture
) -> None:
    PartyClaim.objects.all().delete()
    LocalParty.objects.all().delete()
    LocalParty.objects.create(country_code="NL", party_id="TNM", role="CPO", business_name="Us")
    early = registered_emsp("Early", "early-token", ("DE", "ONE"), ("NL", "TNM"))
    PartnerPlatform.objects.filter(pk=early.pk).update(
        registered_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    late = registered_emsp("Late", "late-token")
    gone = registered_emsp("Gone", "gone-token")
    PartnerPlatform.objects.filter(pk=gone.pk).update(status=PartnerStatus.UNREGISTERED)
    for partner, role, country_code, party_id in [
        (late, "OTHER", "de", "one"),
        (gone, "EMSP", "FR", "BYE"),
    ]:
        PartnerRole.objects.create(
            partner=partner,
            role=role,
            country_code=country_code,
            party_id=party_id,
            business_details={},
        )
    PartyClaim.objects.all().delete()  # as before the migration
    backfill = __import__(MIGRATION, fromlist=["backfill_claims"]).backfill_claims

    with caplog.at_level(logging.WARNING, logger="credentials.migrations"):
        backfill(apps, None)

    assert claims() == [("DE", "ONE", "Early"), ("NL", "TNM", None)]
    assert caplog.messages == [
        f"Party NL*TNM of partner {early.pk} (Early) is already held by us: not claimed for it",
        f"Party DE*ONE of partner {late.pk} (Late) is already held by partner {early.pk}: "
        "not claimed for it",
    ]
