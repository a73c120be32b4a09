"""The caller behind a token, with its roles, read by hand-written SQL (credentials.selectors).

What the ORM would read, field by field, on this test run's database (SQLite or PostgreSQL).
"""

from typing import Any

import pytest
from django.db.models import Model

from credentials.crypto import token_digest
from credentials.models import LocalParty, PartnerPlatform, PartnerRole, PartnerStatus
from credentials.selectors import caller_by_token_digest, local_parties
from ocpi.time import now

pytestmark = pytest.mark.django_db


def fields(obj: Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def partner(name: str, token: str, *parties: tuple[str, str, str]) -> PartnerPlatform:
    made = PartnerPlatform(
        name=name,
        status=PartnerStatus.REGISTERED,
        versions_url=f"https://{name}.example.com/versions",
        registered_at=now(),
        last_contact_at=now(),
    )
    made.set_incoming_token(token)
    made.set_outgoing_token(f"out-{token}")
    made.save()
    for country, party, role in parties:
        PartnerRole.objects.create(
            partner=made,
            role=role,
            country_code=country,
            party_id=party,
            business_details={"name": party, "logo": {"url": "https://l.example.com/x.png"}},
        )
    return made


def test_the_caller_is_what_the_orm_reads_with_its_roles_in_their_order() -> None:
    made = partner("hub", "tok", ("NL", "ZZZ", "EMSP"), ("DE", "BBB", "NSP"), ("DE", "AAA", "EMSP"))

    found = caller_by_token_digest(token_digest("tok"))

    assert found is not None
    caller, roles = found
    assert fields(caller) == fields(PartnerPlatform.objects.get(pk=made.pk))
    assert [fields(role) for role in roles] == [fields(role) for role in made.roles.all()]
    assert [(role.country_code, role.party_id) for role in roles] == [
        ("DE", "AAA"),
        ("DE", "BBB"),
        ("NL", "ZZZ"),
    ]


def test_a_caller_without_roles_comes_with_none() -> None:
    made = partner("bare", "tok")

    assert caller_by_token_digest(token_digest("tok")) == (made, [])


def test_the_next_token_finds_the_partner_while_we_rotate() -> None:
    made = partner("rotating", "old")
    made.set_next_incoming_token("new")
    made.save()

    found = caller_by_token_digest(token_digest("new"))

    assert found is not None
    assert found[0] == made


@pytest.mark.parametrize(
    ("status", "found"),
    [
        (PartnerStatus.REGISTERED, True),
        (PartnerStatus.PENDING, True),
        (PartnerStatus.UNREGISTERED, False),
    ],
)
def test_only_registered_and_pending_partners_call(status: str, found: bool) -> None:
    made = partner("p", "tok", ("DE", "AAA", "EMSP"))
    PartnerPlatform.objects.filter(pk=made.pk).update(status=status)

    assert (caller_by_token_digest(token_digest("tok")) is not None) is found


def test_an_unknown_token_finds_no_caller() -> None:
    partner("p", "tok")

    assert caller_by_token_digest(token_digest("other")) is None


def test_our_parties_are_what_the_orm_reads_active_ones_in_order() -> None:
    LocalParty.objects.create(
        country_code="BE",
        party_id="WLC",
        business_name="White label",
        logo={"url": "https://l.example.com/w.png", "width": 512},
    )
    LocalParty.objects.create(
        country_code="AT", party_id="OFF", business_name="Off", is_active=False
    )

    assert [fields(party) for party in local_parties()] == [
        fields(party) for party in LocalParty.objects.filter(is_active=True)
    ]
    assert [party.party_id for party in local_parties()] == ["WLC", "TNM"]
