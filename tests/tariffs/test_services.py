"""tariff_upsert and tariff_delete: rows, last_updated and the pushes they queue
(mod_tariffs, Push model: PUT on create and change, DELETE on delete)."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from credentials.models import PartnerPlatform
from push.models import Change, Delivery
from tariffs.models import PriceComponent, Tariff, TariffElement
from tariffs.services import NotOurParty, render_tariff, tariff_delete, tariff_upsert
from tests.tariffs.conftest import example, last_payload, simple_tariff, validated

pytestmark = pytest.mark.django_db

Upsert = Callable[[dict[str, Any]], Tariff]
MakeEmsp = Callable[..., PartnerPlatform]


def test_an_upsert_queues_one_put_for_every_emsp_party_with_a_tariffs_receiver(
    upsert: Upsert, make_emsp: MakeEmsp
) -> None:
    two_parties = make_emsp("tok-1", "AAA", "BBB")
    other = make_emsp("tok-2", "CCC")
    make_emsp("tok-3", "DDD", receivers=("locations",))

    tariff = upsert(example("tariff_4_complex.json"))

    change = Change.objects.get()
    assert (change.module, change.method) == ("tariffs", "PUT")
    assert change.path == ["DE", "ALL", "14"]
    assert change.object_key == "tariffs:DE:ALL:14"
    assert (change.owner_country_code, change.owner_party_id) == ("DE", "ALL")
    assert change.payload == render_tariff(tariff)
    deliveries = Delivery.objects.order_by("pk")
    assert [(d.partner_id, d.to_country_code, d.to_party_id) for d in deliveries] == [
        (two_parties.pk, "NL", "AAA"),
        (two_parties.pk, "NL", "BBB"),
        (other.pk, "NL", "CCC"),
    ]


def test_the_pushed_payload_keeps_exact_decimals(upsert: Upsert, make_emsp: MakeEmsp) -> None:
    make_emsp("tok-1")

    upsert(example("tariff_2_alt_text.json"))

    component = last_payload()["elements"][0]["price_components"][0]
    assert component == {
        "type": "TIME",
        "price": Decimal("1.9000"),
        "vat": Decimal("5.2000"),
        "step_size": 300,
    }


def test_without_receivers_nothing_is_queued(upsert: Upsert) -> None:
    upsert(simple_tariff())

    assert Tariff.objects.count() == 1
    assert Change.objects.count() == 0


def test_the_same_upsert_twice_is_one_row_and_one_push(upsert: Upsert, make_emsp: MakeEmsp) -> None:
    make_emsp("tok-1")
    first = upsert(example("tariff_4_complex.json"))

    second = upsert(example("tariff_4_complex.json"))

    assert Tariff.objects.count() == 1
    assert second.pk == first.pk
    assert second.last_updated == first.last_updated
    assert Change.objects.count() == 1
    assert TariffElement.objects.count() == 6


def test_ids_match_case_insensitively(upsert: Upsert) -> None:
    first = upsert(simple_tariff("abc-1"))

    second = upsert(simple_tariff("ABC-1", currency="USD"))

    assert second.pk == first.pk
    assert Tariff.objects.get().ocpi_id == "abc-1"
    assert Tariff.objects.get().currency == "USD"


def test_a_change_replaces_the_elements_bumps_last_updated_and_pushes_again(
    upsert: Upsert, make_emsp: MakeEmsp
) -> None:
    make_emsp("tok-1")
    first = upsert(example("tariff_4_complex.json"))
    first_element = TariffElement.objects.get(tariff=first, position=0)
    smaller = example("tariff_4_complex.json")
    smaller["elements"] = smaller["elements"][:2]
    smaller["elements"][0]["price_components"][0]["price"] = Decimal("3.00")

    second = upsert(smaller)

    assert second.last_updated > first.last_updated
    assert TariffElement.objects.filter(tariff=second).count() == 2
    assert PriceComponent.objects.filter(element__tariff=second).count() == 2
    # Rows are reused by position, so an element's admin page keeps its address.
    assert TariffElement.objects.get(tariff=second, position=0).pk == first_element.pk
    assert PriceComponent.objects.get(element=first_element).price == Decimal("3")
    puts = list(Change.objects.order_by("pk"))
    assert [c.method for c in puts] == ["PUT", "PUT"]
    assert len(last_payload()["elements"]) == 2


def test_the_incoming_last_updated_is_not_ours_to_keep(upsert: Upsert) -> None:
    tariff = upsert(simple_tariff(last_updated="2015-06-29T20:39:09Z"))

    assert tariff.last_updated.year > 2015


def test_a_tariff_of_a_party_we_do_not_host_is_refused(upsert: Upsert) -> None:
    with pytest.raises(NotOurParty):
        tariff_upsert(data=validated(simple_tariff(party_id="XXX")))

    assert Tariff.objects.count() == 0


def test_delete_removes_the_tariff_and_queues_a_delete_without_body(
    upsert: Upsert, make_emsp: MakeEmsp
) -> None:
    make_emsp("tok-1")
    tariff = upsert(example("tariff_4_complex.json"))

    tariff_delete(tariff=tariff)

    assert Tariff.objects.count() == 0
    assert TariffElement.objects.count() == 0
    assert PriceComponent.objects.count() == 0
    delete = Change.objects.order_by("pk").last()
    assert delete is not None
    assert (delete.method, delete.path, delete.payload) == ("DELETE", ["DE", "ALL", "14"], None)
    assert delete.object_key == "tariffs:DE:ALL:14"
    assert Delivery.objects.filter(change=delete).count() == 1
