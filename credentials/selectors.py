"""Reads of parties and partners."""

from typing import Any

from credentials.models import LocalParty, PartnerPlatform, PartnerRole, PartnerStatus
from ocpi.routing import PartyRef
from ocpi.versioning import versions_url


def local_parties() -> list[LocalParty]:
    return list(LocalParty.objects.filter(is_active=True))


def our_credentials(token: str) -> dict[str, Any]:
    """Our Credentials object, carrying the token the partner is to call us with."""
    return {
        "token": token,
        "url": versions_url(),
        "roles": [
            {
                "role": party.role,
                "business_details": party.business_details(),
                "party_id": party.party_id,
                "country_code": party.country_code,
            }
            for party in local_parties()
        ],
    }


def local_party(ref: PartyRef) -> LocalParty | None:
    return LocalParty.objects.filter(
        is_active=True, country_code__iexact=ref.country_code, party_id__iexact=ref.party_id
    ).first()


def partner_role(partner: PartnerPlatform, ref: PartyRef) -> PartnerRole | None:
    return partner.roles.filter(
        country_code__iexact=ref.country_code, party_id__iexact=ref.party_id
    ).first()


def registered_partner_by_name(name_or_id: str) -> PartnerPlatform:
    """Find a partner for management commands by id or exact name (case-insensitive).

    An ended relationship keeps its name, and registering again with the same partner
    usually reuses it: the name then means the relationship that is not unregistered.
    """
    partners = PartnerPlatform.objects.all()
    if name_or_id.isdigit():
        return partners.get(pk=int(name_or_id))
    named = partners.filter(name__iexact=name_or_id)
    live = named.exclude(status=PartnerStatus.UNREGISTERED)
    return (live if live.exists() else named).get()
