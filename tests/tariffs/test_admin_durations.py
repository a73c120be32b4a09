"""Durations on the tariff screens read and typed as "15 min" / "1 h 30 min", stored as the
seconds OCPI counts: restrictions' min/max_duration, TIME and PARKING_TIME step sizes."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from credentials.models import LocalParty, PartnerPlatform
from tariffs.models import PriceComponent, Tariff, TariffElement
from tests.tariffs.conftest import example, last_payload
from tests.tariffs.test_admin import element_page_data

pytestmark = pytest.mark.django_db

Upsert = Callable[[dict[str, Any]], Tariff]


@pytest.fixture(autouse=True)
def _emsp(make_emsp: Callable[..., PartnerPlatform], cpo_party: LocalParty) -> None:
    make_emsp("tok-1")  # receives the pushes this file reads


def test_the_tariff_page_shows_durations_and_step_sizes_readably(
    admin_client: Client, upsert: Upsert
) -> None:
    tariff = upsert(example("tariffrestriction_example_max_duration.json"))
    parking = upsert({**example("tariff_10_025kwh_parking_start.json"), "id": "P"})

    page = admin_client.get(f"/admin/tariffs/tariff/{tariff.pk}/change/")
    parking_page = admin_client.get(f"/admin/tariffs/tariff/{parking.pk}/change/")

    forms = page.context["inline_admin_formsets"][0].formset.forms
    assert [form["max_duration"].value() for form in forms] == ["30 min", "1 h", None]
    assert 'value="30 min"' in page.content.decode()
    listed = parking_page.content.decode()
    assert "<li>FLAT 0.5000 (VAT 20.0000 %, step none)</li>" in listed
    assert "<li>ENERGY 0.2500 (VAT 10.0000 %, step 1 Wh)</li>" in listed
    assert "<li>PARKING_TIME 2.0000 (VAT 20.0000 %, step 15 min)</li>" in listed


def test_a_duration_typed_readably_is_stored_in_seconds(
    admin_client: Client, upsert: Upsert
) -> None:
    tariff = upsert(example("tariff_8_simple_025kwh.json"))
    element = TariffElement.objects.get(tariff=tariff)
    component = PriceComponent.objects.get(element=element)
    data = element_page_data(
        element,
        {"id": component.pk, "element": element.pk, "type": "ENERGY", "price": "0.25",
         "vat": "10", "step_size": "100"},
        {"element": element.pk, "type": "PARKING_TIME", "price": "2", "vat": "",
         "step_size": "15 min"},
    )  # fmt: skip
    data.update({"min_duration": "1 h 30 min", "max_duration": "10800"})

    response = admin_client.post(f"/admin/tariffs/tariffelement/{element.pk}/change/", data)

    assert response.status_code == 302
    pushed = last_payload()["elements"][0]
    assert pushed["restrictions"] == {"min_duration": 5400, "max_duration": 10800}
    assert [c["step_size"] for c in pushed["price_components"]] == [100, 900]
    page = admin_client.get(f"/admin/tariffs/tariffelement/{element.pk}/change/")
    steps = [f["step_size"].value() for f in page.context["inline_admin_formsets"][0].formset]
    assert steps[:2] == ["100", "15 min"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("min_duration", "an hour", "'an hour' is not a duration"),
        ("price_components-0-step_size", "15 min", "15 min is not a whole number of Wh"),
    ],
)
def test_an_unreadable_duration_is_a_message_on_its_field(
    admin_client: Client, upsert: Upsert, field: str, value: str, message: str
) -> None:
    tariff = upsert(example("tariff_8_simple_025kwh.json"))
    element = TariffElement.objects.get(tariff=tariff)
    component = PriceComponent.objects.get(element=element)
    data = element_page_data(
        element,
        {"id": component.pk, "element": element.pk, "type": "ENERGY", "price": "0.25",
         "vat": "10", "step_size": "1"},
    )  # fmt: skip
    data[field] = value

    response = admin_client.post(f"/admin/tariffs/tariffelement/{element.pk}/change/", data)

    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
