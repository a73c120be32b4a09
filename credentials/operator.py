"""Writes the operator makes in the admin: our parties, a partner's settings, deletions.

Each runs in one transaction with its claims (credentials.claims) and moves the credentials
generation (credentials.generation), so every process reads the callers anew.
"""

from collections.abc import Iterable

from django.db import transaction

from credentials.claims import claim_local_party, release_local_parties
from credentials.generation import credentials_changed
from credentials.models import LocalParty, PartnerPlatform

# --- our parties ----------------------------------------------------------------------------


def local_party_save(*, party: LocalParty) -> LocalParty:
    """Save one of our parties with its claim: PartyTaken when a partner holds the party."""
    with transaction.atomic():
        party.save()
        claim_local_party(party=party)
        release_local_parties()  # the party it named before an edit, if no other names it
        credentials_changed()
    return party


def local_parties_delete(*, parties: Iterable[LocalParty]) -> None:
    """Delete some of our parties and give back those no other local party names."""
    with transaction.atomic():
        LocalParty.objects.filter(pk__in=[party.pk for party in parties]).delete()
        release_local_parties()
        credentials_changed()


# --- partners, as the operator edits them ----------------------------------------------------


def partner_settings_save(*, partner: PartnerPlatform) -> PartnerPlatform:
    """Save what the operator may change of a partner (its name, how we call it)."""
    with transaction.atomic():
        partner.save(update_fields=["name", "plain_tokens", "retry_pushes", "updated_at"])
        credentials_changed()
    return partner


def partners_delete(*, partners: Iterable[PartnerPlatform]) -> None:
    """Delete partner platforms with their roles, endpoints, claims and deliveries."""
    with transaction.atomic():
        PartnerPlatform.objects.filter(pk__in=[partner.pk for partner in partners]).delete()
        credentials_changed()
