"""Parties as test data, shared by the test packages: our own CPO party, registered eMSPs."""

from typing import Any

from django.db import transaction

from credentials.generation import credentials_changed
from credentials.models import (
    LocalParty,
    PartnerEndpoint,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
    PartyClaim,
)
from credentials.operator import local_parties_delete, local_party_save
from ocpi.time import now


def only_local_party(
    country_code: str = "BE", party_id: str = "BEC", business_name: str = "BeCharged", **fields: Any
) -> LocalParty:
    """Our one CPO party, whatever the data migration made (BE*BEC owns the spec's location
    and CDR examples)."""
    local_parties_delete(parties=LocalParty.objects.all())
    return local_party_save(
        party=LocalParty(
            country_code=country_code,
            party_id=party_id,
            role="CPO",
            business_name=business_name,
            **fields,
        )
    )


def registered_emsp(
    name: str,
    token: str,
    *parties: tuple[str, str],
    endpoints: tuple[tuple[str, str, str], ...] = (),
    role: str = "EMSP",
) -> PartnerPlatform:
    """An eMSP platform calling us with `token`, with EMSP `parties` and (module, role, url)s
    (or a platform of another `role`).

    last_contact_at is fresh so authentication does not write (query counts stay exact).
    """
    with transaction.atomic():
        partner = _registered(name, token)
        for country, party in parties:
            PartyClaim.objects.create(country_code=country, party_id=party, partner=partner)
            PartnerRole.objects.create(
                partner=partner,
                role=role,
                country_code=country,
                party_id=party,
                business_details={"name": party},
            )
        for identifier, endpoint_role, url in endpoints:
            PartnerEndpoint.objects.create(
                partner=partner, identifier=identifier, role=endpoint_role, url=url
            )
        credentials_changed()  # as the services do: callers cached per process are stale
    return partner


def _registered(name: str, token: str) -> PartnerPlatform:
    moment = now()
    partner = PartnerPlatform(
        name=name,
        status=PartnerStatus.REGISTERED,
        versions_url=f"https://{name.lower()}.example.com/ocpi/versions",
        version="2.2.1",
        registered_at=moment,
        last_contact_at=moment,
    )
    partner.set_incoming_token(token)
    partner.set_outgoing_token(f"out-{token}")
    partner.save()
    return partner
