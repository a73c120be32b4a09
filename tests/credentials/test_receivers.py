"""Whom a push may go to (credentials.selectors.receivers): the roles of registered partners
with a Receiver endpoint for the module, kept per process per credentials generation."""

import pytest
from django.db import transaction
from pytest_django import DjangoAssertNumQueries

from credentials import services
from credentials.generation import credentials_changed
from credentials.models import PartnerEndpoint, PartnerPlatform, PartnerRole, PartnerStatus
from credentials.selectors import receivers

pytestmark = pytest.mark.django_db


def partner(
    name: str, *parties: tuple[str, str, str], status: str = PartnerStatus.REGISTERED
) -> PartnerPlatform:
    with transaction.atomic():  # written as the services write: the generation moves
        made = PartnerPlatform(
            name=name, status=status, versions_url=f"https://{name}.example.com/versions"
        )
        made.set_incoming_token(f"in-{name}")
        made.set_outgoing_token(f"out-{name}")
        made.save()
        for country, party, role in parties:
            PartnerRole.objects.create(
                partner=made, role=role, country_code=country, party_id=party, business_details={}
            )
        credentials_changed()
    return made


def endpoint(made: PartnerPlatform, module: str, role: str = "RECEIVER") -> None:
    with transaction.atomic():
        PartnerEndpoint.objects.create(
            partner=made, identifier=module, role=role, url=f"https://x.example.com/{module}"
        )
        credentials_changed()


def test_registered_partners_with_a_receiver_for_the_module_in_order_with_their_roles():
    zeta = partner("zeta", ("NL", "ZZZ", "EMSP"))
    alpha = partner("alpha", ("DE", "BBB", "NSP"), ("DE", "AAA", "EMSP"))
    sender_only = partner("sender", ("FR", "SND", "EMSP"))
    pending = partner("pending", ("BE", "PND", "EMSP"), status=PartnerStatus.PENDING)
    other_module = partner("tariffs only", ("AT", "TRF", "EMSP"))
    for made in (zeta, alpha, pending):
        endpoint(made, "locations")
    endpoint(sender_only, "locations", "SENDER")
    endpoint(other_module, "tariffs")

    assert receivers("locations") == [
        (alpha.pk, "EMSP", "DE", "AAA"),
        (alpha.pk, "NSP", "DE", "BBB"),
        (zeta.pk, "EMSP", "NL", "ZZZ"),
    ]
    assert receivers("tariffs") == [(other_module.pk, "EMSP", "AT", "TRF")]
    assert receivers("cdrs") == []


def test_asked_again_they_cost_one_read_of_the_generation(
    django_assert_num_queries: DjangoAssertNumQueries,
):
    endpoint(partner("p", ("DE", "AAA", "EMSP")), "locations")
    first = receivers("locations")

    with django_assert_num_queries(1):
        assert receivers("locations") == first


def test_an_endpoint_added_or_removed_counts_on_the_next_push():
    made = partner("p", ("DE", "AAA", "EMSP"))
    assert receivers("locations") == []

    endpoint(made, "locations")
    assert receivers("locations") == [(made.pk, "EMSP", "DE", "AAA")]

    with transaction.atomic():
        PartnerEndpoint.objects.filter(partner=made).delete()
        credentials_changed()
    assert receivers("locations") == []


def test_a_partner_unregistered_gets_nothing_more():
    made = partner("p", ("DE", "AAA", "EMSP"))
    endpoint(made, "locations")
    assert receivers("locations") != []

    services.accept_unregistration(partner=made)
    assert receivers("locations") == []
