"""Who is who behind a token (credentials.selectors.caller_by_token_digest): hand-written SQL
read as the ORM would, kept per process and checked on every request against the
credentials generation, which the services move on every write (credentials.generation;
tests/credentials/test_generation.py checks every writer does).
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Model
from pytest_django import DjangoAssertNumQueries

from credentials import operator, services
from credentials.authentication import touch_last_contact
from credentials.crypto import token_digest
from credentials.generation import credentials_changed
from credentials.models import (
    LocalParty,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
)
from credentials.selectors import caller_by_token_digest, local_parties
from ocpi.time import now

pytestmark = pytest.mark.django_db


def fields(obj: Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def partner(name: str, token: str, *parties: tuple[str, str, str]) -> PartnerPlatform:
    with transaction.atomic():  # written as the services write: the generation moves
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
        credentials_changed()
    return made


def lookup(token: str = "tok") -> Any:  # noqa: S107
    return caller_by_token_digest(token_digest(token))


def test_the_caller_is_what_the_orm_reads_with_its_roles_in_their_order() -> None:
    made = partner("hub", "tok", ("NL", "ZZZ", "EMSP"), ("DE", "BBB", "NSP"), ("DE", "AAA", "EMSP"))

    found = lookup()

    assert fields(found.partner) == fields(PartnerPlatform.objects.get(pk=made.pk))
    assert [fields(role) for role in found.roles] == [fields(role) for role in made.roles.all()]
    assert [(role.country_code, role.party_id) for role in found.roles] == [
        ("DE", "AAA"),
        ("DE", "BBB"),
        ("NL", "ZZZ"),
    ]
    assert [fields(party) for party in found.parties] == [fields(p) for p in local_parties()]


def test_a_caller_without_roles_comes_with_none() -> None:
    made = partner("bare", "tok")

    found = lookup()

    assert (found.partner, found.roles) == (made, [])


def test_the_next_token_finds_the_partner_while_we_rotate() -> None:
    made = partner("rotating", "old")
    made.set_next_incoming_token("new")
    made.save()

    assert lookup("new").partner == made


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

    assert (lookup() is not None) is found


def test_an_unknown_token_finds_no_caller() -> None:
    partner("p", "tok")

    assert lookup("other") is None


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


# --- kept per process, checked against the generation ------------------------------------


def test_a_known_caller_costs_one_read_of_the_generation(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    partner("p", "tok", ("DE", "AAA", "EMSP"))
    first = lookup()

    with django_assert_num_queries(1):
        again = lookup()

    assert fields(again.partner) == fields(first.partner)
    assert [fields(r) for r in again.roles] == [fields(r) for r in first.roles]


def test_each_request_gets_its_own_instances() -> None:
    partner("p", "tok", ("DE", "AAA", "EMSP"))
    first = lookup()
    first.partner.name = "changed by a view"
    first.roles[0].business_details["name"] = "changed"
    first.parties[0].business_name = "changed"

    again = lookup()

    assert again.partner.name == "p"
    assert again.roles[0].business_details["name"] == "AAA"
    assert again.parties[0].business_name != "changed"


def unregistered_by_the_partner(made: PartnerPlatform) -> None:
    services.accept_unregistration(partner=made)


def deleted_by_the_operator(made: PartnerPlatform) -> None:
    operator.partners_delete(partners=[made])


@pytest.mark.parametrize("write", [unregistered_by_the_partner, deleted_by_the_operator])
def test_a_revoked_token_is_refused_on_the_next_lookup(
    write: Callable[[PartnerPlatform], None],
) -> None:
    made = partner("p", "tok", ("DE", "AAA", "EMSP"))
    assert lookup() is not None

    write(made)

    assert lookup() is None


def test_a_role_added_counts_on_the_next_lookup() -> None:
    made = partner("p", "tok", ("DE", "AAA", "EMSP"))
    lookup()
    with transaction.atomic():  # as credentials.services stores roles
        PartnerRole.objects.create(
            partner=made, role="EMSP", country_code="DE", party_id="NEW", business_details={}
        )
        credentials_changed()

    assert [role.party_id for role in lookup().roles] == ["AAA", "NEW"]


def test_a_party_of_ours_deactivated_counts_on_the_next_lookup() -> None:
    partner("p", "tok")
    assert [party.party_id for party in lookup().parties] == ["TNM"]

    ours = LocalParty.objects.get()
    ours.is_active = False
    operator.local_party_save(party=ours)

    assert lookup().parties == []


# --- bookkeeping of calls keeps the cache ---------------------------------------------------


def test_a_last_contact_written_keeps_the_cached_caller(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    """With every partner calling, each last contact written emptied every process's cache
    (the triggers of migrations 0004 to 0006): it is bookkeeping, not who may call."""
    made = partner("p", "tok", ("DE", "AAA", "EMSP"))
    PartnerPlatform.objects.filter(pk=made.pk).update(last_contact_at=now() - timedelta(hours=1))
    touch_last_contact(lookup().partner)  # written: an hour ago

    with django_assert_num_queries(1):  # the generation: nothing read anew
        again = lookup()

    assert [role.party_id for role in again.roles] == ["AAA"]
    written = PartnerPlatform.objects.get().last_contact_at
    assert written is not None
    assert written > now() - timedelta(minutes=1)


def test_a_cached_caller_has_its_last_contact_written_once_a_minute(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    made = partner("p", "tok")
    PartnerPlatform.objects.filter(pk=made.pk).update(last_contact_at=now() - timedelta(hours=1))
    touch_last_contact(lookup().partner)  # written: an hour ago

    with django_assert_num_queries(1):  # the generation; the cached row's contact is old
        touch_last_contact(lookup().partner)

    written = PartnerPlatform.objects.get().last_contact_at
    assert written is not None
    assert written > now() - timedelta(minutes=1)
