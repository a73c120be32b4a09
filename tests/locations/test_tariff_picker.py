"""The tariff picker on a connector (EVSE page): the tariffs of the location's party, labelled
with their price summary; other ids refused on the field; an untouched form saves the stored
tariff_ids unchanged (order and spelling: they are CiStrings)."""

from typing import Any

import pytest
from django.test import Client

from credentials.models import PartnerPlatform
from locations.models import EVSE, Connector, Location
from push.models import Change
from tests.locations.conftest import example, location_payload, make_partner, upsert
from tests.locations.tariffs import stored_tariff
from tests.locations.test_admin import EVSES, evse_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner(our_parties: Any) -> PartnerPlatform:
    stored_tariff("DC-1")
    stored_tariff("DC-2", price="0.30")
    stored_tariff("ALF-1", country_code="NL", party_id="ALF")  # another of our parties
    return make_partner("Emsp", "tok-picker", ("DE", "MSP"))


def picker(response: Any, index: int = 0) -> Any:
    return response.context["inline_admin_formsets"][0].formset.forms[index].fields["tariff_ids"]


def resubmitted(response: Any) -> dict[str, Any]:
    """The change page's forms posted back as the browser would, untouched."""
    data: dict[str, Any] = {"_save": "Save"}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({bound.html_name: bound.value() for bound in management})
        forms.extend(inline.formset.forms)
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = (
                [str(v) for v in value]
                if isinstance(value, list)
                else "on"
                if value is True
                else str(value)
            )
    return data


def test_only_the_location_partys_tariffs_are_offered_with_their_summary(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = upsert(location_payload("LOC1"))

    response = operator.get(f"{EVSES}add/", {"location": location.pk})

    assert response.status_code == 200
    assert picker(response).choices == [
        ("DC-1", "DC-1 · EUR · 0.25 EUR/kWh"),
        ("DC-2", "DC-2 · EUR · 0.30 EUR/kWh"),
    ]
    assert '<option value="DC-1">DC-1 · EUR · 0.25 EUR/kWh</option>' in response.content.decode()


@pytest.mark.parametrize("tariff_id", ["ALF-1", "NOPE"])
def test_a_foreign_or_unknown_tariff_is_refused_on_the_field(
    operator: Client, partner: PartnerPlatform, tariff_id: str
) -> None:
    location = upsert(location_payload("LOC1", evses=0))
    changes = Change.objects.count()

    response = operator.post(
        f"{EVSES}add/", evse_form(location, **{"connectors-0-tariff_ids": ["DC-1", tariff_id]})
    )

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors == [
        {"tariff_ids": [f"{tariff_id} is not a tariff of BE*BEC: create it under Tariffs first."]}
    ]
    assert (EVSE.objects.filter(location=location).count(), Change.objects.count()) == (0, changes)


def test_picking_tariffs_stores_the_ocpi_list(operator: Client, partner: PartnerPlatform) -> None:
    location = upsert(location_payload("LOC1", evses=0))

    response = operator.post(
        f"{EVSES}add/", evse_form(location, **{"connectors-0-tariff_ids": ["DC-2", "DC-1"]})
    )

    assert response.status_code == 302
    assert Connector.objects.get(evse__location=location).tariff_ids == ["DC-2", "DC-1"]


def test_an_untouched_form_saves_the_stored_list_unchanged(
    operator: Client, partner: PartnerPlatform
) -> None:
    """Stored as ["dc-2", "DC-1", "GONE"]: other case, not sorted, one naming no tariff."""
    payload = location_payload("LOC1")
    payload["evses"][0]["connectors"][0]["tariff_ids"] = ["dc-2", "DC-1", "GONE"]
    location = upsert(payload)
    evse = location.evses.get()
    page = operator.get(f"{EVSES}{evse.pk}/change/")
    assert [value for value, _ in picker(page).choices] == ["DC-1", "dc-2", "GONE"]
    assert dict(picker(page).choices)["GONE"] == "GONE · no such tariff"
    changes = Change.objects.count()

    response = operator.post(f"{EVSES}{evse.pk}/change/", resubmitted(page))

    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    assert evse.connectors.order_by("pk")[0].tariff_ids == ["dc-2", "DC-1", "GONE"]
    assert Change.objects.count() == changes  # nothing changed, nothing pushed


def test_deselecting_and_adding_keep_the_stored_order(
    operator: Client, partner: PartnerPlatform
) -> None:
    payload = location_payload("LOC1")
    payload["evses"][0]["connectors"][0]["tariff_ids"] = ["DC-2", "GONE"]
    evse = upsert(payload).evses.get()
    page = operator.get(f"{EVSES}{evse.pk}/change/")
    data = resubmitted(page)
    data["connectors-0-tariff_ids"] = ["DC-1", "DC-2"]  # option order; GONE deselected

    response = operator.post(f"{EVSES}{evse.pk}/change/", data)

    assert response.status_code == 302
    assert evse.connectors.order_by("pk")[0].tariff_ids == ["DC-2", "DC-1"]


def test_the_location_example_renders_its_unknown_ids(
    operator: Client, partner: PartnerPlatform
) -> None:
    location: Location = upsert(example("location_example.json"))

    response = operator.get(f"{EVSES}{location.evses.get(uid='3256').pk}/change/")

    assert picker(response).choices == [
        ("11", "11 · no such tariff"),
        ("DC-1", "DC-1 · EUR · 0.25 EUR/kWh"),
        ("DC-2", "DC-2 · EUR · 0.30 EUR/kWh"),
    ]
