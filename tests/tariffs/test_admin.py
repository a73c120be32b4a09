"""The operator's tariff screens: saving goes through tariff_upsert (one PUT per save),
validation errors show on the field, deleting goes through tariff_delete."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from credentials.models import LocalParty, PartnerPlatform
from push.models import Change
from tariffs.models import PriceComponent, Tariff, TariffElement
from tests.tariffs.conftest import example, last_payload, simple_tariff

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/tariffs/tariff/add/"
Upsert = Callable[[dict[str, Any]], Tariff]


@pytest.fixture(autouse=True)
def _emsp(make_emsp: Callable[..., PartnerPlatform], cpo_party: LocalParty) -> None:
    make_emsp("tok-1")


def management(prefix: str, total: int, initial: int = 0) -> dict[str, Any]:
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def element_fields(index: int, **values: Any) -> dict[str, Any]:
    fields = {
        "order": "",
        "start_time": "",
        "end_time": "",
        "start_date": "",
        "end_date": "",
        "min_kwh": "",
        "max_kwh": "",
        "min_current": "",
        "max_current": "",
        "min_power": "",
        "max_power": "",
        "min_duration": "",
        "max_duration": "",
        "reservation": "",
        "new_component_type": "",
        "new_component_price": "",
        "new_component_vat": "",
        "new_component_step_size": "",
        **values,
    }
    return {f"elements-{index}-{name}": value for name, value in fields.items()}


def new_tariff(**values: Any) -> dict[str, Any]:
    """The add form: DE*ALL tariff "A1" with one ENERGY element."""
    return {
        "country_code": "DE",
        "party_id": "ALL",
        "ocpi_id": "A1",
        "currency": "EUR",
        "type": "",
        "tariff_alt_text": "",
        "tariff_alt_url": "",
        "min_price_excl_vat": "",
        "min_price_incl_vat": "",
        "max_price_excl_vat": "",
        "max_price_incl_vat": "",
        "start_date_time_0": "",
        "start_date_time_1": "",
        "end_date_time_0": "",
        "end_date_time_1": "",
        "energy_mix": "",
        **management("elements", 1),
        **element_fields(
            0,
            new_component_type="ENERGY",
            new_component_price="0.25",
            new_component_vat="20",
            new_component_step_size="1",
        ),
        "_save": "Save",
        **values,
    }


def form_errors(response: Any) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = response.context["adminform"].form.errors
    return errors


def inline_errors(response: Any) -> list[dict[str, list[str]]]:
    (inline,) = response.context["inline_admin_formsets"]
    return list(inline.formset.errors)


def test_an_operator_creates_a_tariff_and_one_put_is_queued(admin_client: Client) -> None:
    response = admin_client.post(ADD_URL, new_tariff())

    assert response.status_code == 302
    tariff = Tariff.objects.get()
    assert (tariff.country_code, tariff.party_id, tariff.ocpi_id) == ("DE", "ALL", "A1")
    component = PriceComponent.objects.get()
    assert (component.type, component.price, component.vat, component.step_size) == (
        "ENERGY",
        Decimal("0.25"),
        Decimal("20"),
        1,
    )
    change = Change.objects.get()
    assert (change.method, change.path) == ("PUT", ["DE", "ALL", "A1"])
    assert last_payload()["elements"] == [
        {
            "price_components": [
                {"type": "ENERGY", "price": Decimal("0.25"), "vat": Decimal("20"), "step_size": 1}
            ]
        }
    ]


def test_restrictions_typed_on_the_inline_are_stored_and_pushed(admin_client: Client) -> None:
    data = new_tariff(
        **element_fields(
            0,
            start_time="22:00",
            end_time="06:00",
            max_kwh="50",
            new_component_type="ENERGY",
            new_component_price="0.20",
            new_component_step_size="1",
        ),
        **{"elements-0-day_of_week": ["SATURDAY", "SUNDAY"]},
    )

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 302
    restrictions = last_payload()["elements"][0]["restrictions"]
    assert restrictions == {
        "start_time": "22:00",
        "end_time": "06:00",
        "max_kwh": Decimal("50"),
        "day_of_week": ["SATURDAY", "SUNDAY"],
    }


def test_a_wrong_currency_is_shown_on_its_field(admin_client: Client) -> None:
    response = admin_client.post(ADD_URL, new_tariff(currency="eur"))

    assert response.status_code == 200
    assert form_errors(response)["currency"] == ["Must be an ISO 4217 code: three capital letters."]
    assert Tariff.objects.count() == 0
    assert Change.objects.count() == 0


def test_a_party_we_do_not_host_is_shown_on_the_party_field(admin_client: Client) -> None:
    response = admin_client.post(ADD_URL, new_tariff(party_id="XXX"))

    assert form_errors(response)["party_id"] == ["DE*XXX is not one of our parties."]


def test_nested_price_errors_land_on_their_column(admin_client: Client) -> None:
    response = admin_client.post(
        ADD_URL, new_tariff(min_price_excl_vat="5", max_price_excl_vat="4")
    )

    assert form_errors(response)["max_price_excl_vat"] == [
        "excl_vat must not be less than min_price.excl_vat."
    ]


def test_a_restriction_error_is_shown_on_the_element_field(admin_client: Client) -> None:
    data = new_tariff(
        **element_fields(
            0,
            start_time="25:00",
            new_component_type="ENERGY",
            new_component_price="0.25",
            new_component_step_size="1",
        )
    )

    response = admin_client.post(ADD_URL, data)

    assert inline_errors(response)[0]["start_time"] == ["Must be HH:MM (24 h, leading zeros)."]


def test_a_component_error_is_shown_on_the_component_field(admin_client: Client) -> None:
    data = new_tariff(
        **element_fields(
            0,
            new_component_type="TIME",
            new_component_price="2",
            new_component_step_size="0",
        )
    )

    response = admin_client.post(ADD_URL, data)

    assert inline_errors(response)[0]["new_component_step_size"] == ["Must be at least 1 for TIME."]


def test_a_new_element_needs_a_component(admin_client: Client) -> None:
    response = admin_client.post(ADD_URL, new_tariff(**element_fields(0, max_kwh="10")))

    assert inline_errors(response)[0] == {
        "new_component_type": ["An element needs a price component."]
    }


def test_a_tariff_needs_an_element(admin_client: Client) -> None:
    data = new_tariff(**element_fields(0), **management("elements", 1))

    response = admin_client.post(ADD_URL, data)

    (inline,) = response.context["inline_admin_formsets"]
    assert list(inline.formset.non_form_errors()) == [
        "A tariff needs at least one element (elements: +)."
    ]
    assert Tariff.objects.count() == 0


def change_data(tariff: Tariff, **values: Any) -> dict[str, Any]:
    """The change form of `tariff` as the page shows it, elements unchanged."""
    elements = list(tariff.elements.order_by("position"))
    data: dict[str, Any] = {
        key: value
        for key, value in new_tariff().items()
        if not key.startswith("elements-") and key not in ("country_code", "party_id", "ocpi_id")
    }
    data.update(management("elements", len(elements), len(elements)))
    for index, element in enumerate(elements):
        data.update(
            element_fields(
                index,
                id=element.pk,
                tariff=tariff.pk,
                order=element.position + 1,
                max_current="" if element.max_current is None else element.max_current,
                min_current="" if element.min_current is None else element.min_current,
                start_time=element.start_time,
                end_time=element.end_time,
            )
        )
        data[f"elements-{index}-day_of_week"] = element.day_of_week
    data.update(values)
    return data


def test_saving_without_changes_pushes_nothing(admin_client: Client, upsert: Upsert) -> None:
    tariff = upsert(simple_tariff("S1"))
    before = Change.objects.count()

    response = admin_client.post(f"/admin/tariffs/tariff/{tariff.pk}/change/", change_data(tariff))

    assert response.status_code == 302
    assert Change.objects.count() == before


def test_editing_a_tariff_pushes_it_once(admin_client: Client, upsert: Upsert) -> None:
    tariff = upsert(example("tariff_4_complex.json"))
    before = Change.objects.count()

    response = admin_client.post(
        f"/admin/tariffs/tariff/{tariff.pk}/change/",
        change_data(tariff, currency="USD", tariff_alt_url="https://company.com/tariffs/14"),
    )

    assert response.status_code == 302
    assert Change.objects.count() == before + 1
    payload = last_payload()
    assert payload["currency"] == "USD"
    assert len(payload["elements"]) == 6


def test_elements_can_be_reordered_and_deleted(admin_client: Client, upsert: Upsert) -> None:
    tariff = upsert(example("tariffrestriction_example_max_power.json"))
    data = change_data(tariff)
    data["elements-0-order"] = 5  # the 0.20 element goes last
    data["elements-1-DELETE"] = "on"  # the 0.35 element goes

    response = admin_client.post(f"/admin/tariffs/tariff/{tariff.pk}/change/", data)

    assert response.status_code == 302
    payload = last_payload()
    assert [e["price_components"][0]["price"] for e in payload["elements"]] == [
        Decimal("0.5"),
        Decimal("0.2"),
    ]


def element_page_data(element: TariffElement, *components: dict[str, Any]) -> dict[str, Any]:
    existing = list(element.price_components.order_by("position"))
    data: dict[str, Any] = {
        "start_time": element.start_time,
        "end_time": element.end_time,
        "start_date": "",
        "end_date": "",
        "min_kwh": "",
        "max_kwh": "",
        "min_current": "",
        "max_current": "",
        "min_power": "",
        "max_power": "",
        "min_duration": "",
        "max_duration": "",
        "reservation": element.reservation,
        **management("price_components", len(components), len(existing)),
        "_save": "Save",
    }
    for index, component in enumerate(components):
        data.update({f"price_components-{index}-{k}": v for k, v in component.items()})
    return data


def test_a_component_added_on_the_element_page_is_pushed(
    admin_client: Client, upsert: Upsert
) -> None:
    tariff = upsert(simple_tariff("S1"))
    element = TariffElement.objects.get(tariff=tariff)
    existing = PriceComponent.objects.get(element=element)
    before = Change.objects.count()
    data = element_page_data(
        element,
        {
            "id": existing.pk,
            "element": element.pk,
            "type": "ENERGY",
            "price": "0.25",
            "vat": "10",
            "step_size": "1",
        },
        {"element": element.pk, "type": "FLAT", "price": "1.00", "vat": "", "step_size": "1"},
    )

    response = admin_client.post(f"/admin/tariffs/tariffelement/{element.pk}/change/", data)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/tariffs/tariff/{tariff.pk}/change/"
    assert Change.objects.count() == before + 1
    components = last_payload()["elements"][0]["price_components"]
    assert components[1] == {"type": "FLAT", "price": Decimal("1"), "step_size": 1}


def test_a_reservation_element_refuses_an_energy_component(
    admin_client: Client, upsert: Upsert
) -> None:
    tariff = upsert(example("tariff_15_reservation_5_euro_per_hour.json"))
    element = TariffElement.objects.get(tariff=tariff, position=0)
    existing = PriceComponent.objects.get(element=element)
    data = element_page_data(
        element,
        {
            "id": existing.pk,
            "element": element.pk,
            "type": "ENERGY",
            "price": "5",
            "vat": "20",
            "step_size": "60",
        },
    )

    response = admin_client.post(f"/admin/tariffs/tariffelement/{element.pk}/change/", data)

    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert list(inline.formset.non_form_errors()) == [
        "price_components: A reservation element may only have FLAT and TIME components, "
        "not ENERGY."
    ]


def test_deleting_in_the_admin_queues_a_delete(admin_client: Client, upsert: Upsert) -> None:
    tariff = upsert(simple_tariff("S1"))

    response = admin_client.post(f"/admin/tariffs/tariff/{tariff.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert Tariff.objects.count() == 0
    delete = Change.objects.order_by("pk").last()
    assert delete is not None
    assert (delete.method, delete.path, delete.payload) == ("DELETE", ["DE", "ALL", "S1"], None)


def test_the_pages_render(admin_client: Client, upsert: Upsert) -> None:
    tariff = upsert(example("tariff_4_complex.json"))
    element = TariffElement.objects.filter(tariff=tariff).order_by("position").first()
    assert element is not None

    pages = [
        admin_client.get("/admin/tariffs/tariff/"),
        admin_client.get(ADD_URL),
        admin_client.get(f"/admin/tariffs/tariff/{tariff.pk}/change/"),
        admin_client.get(f"/admin/tariffs/tariffelement/{element.pk}/change/"),
    ]

    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    assert f"/admin/tariffs/tariffelement/{element.pk}/change/".encode() in pages[2].content
