"""The location and EVSE pages edit every OCPI object through inputs, never JSON
(ocpi.form_rows): what is stored shows in the inputs, saving it unchanged changes and pushes
nothing, and bad input is reported on the field it belongs to with nothing stored."""

import copy
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from credentials.models import PartnerPlatform
from locations.models import EVSE, Location
from locations.serializers import EVSESerializer, LocationSerializer
from push.models import Change
from tests.locations.conftest import LOCATION_EXAMPLES, example, make_partner, upsert
from tests.locations.tariffs import stored_tariff
from tests.locations.test_admin import (
    EVSES,
    LOCATIONS,
    evse_form,
    form_errors,
    last_payload,
    location_form,
)
from tests.page_form import posted_form

STRUCTURED = (
    "publish_allowed_to",
    "related_locations",
    "directions",
    "operator",
    "suboperator",
    "owner",
    "opening_times",
    "images",
    "energy_mix",
)
LOGO = {
    "url": "https://becharged.be/logo.png",
    "thumbnail": "https://becharged.be/logo-small.png",
    "category": "OPERATOR",
    "type": "png",
    "width": 512,
    "height": 256,
}


@pytest.fixture
def partner(our_parties: Any) -> PartnerPlatform:
    """The eMSP, and the tariffs evse_form's connector picks."""
    stored_tariff("DC-1")
    stored_tariff("DC-2", price="0.30")
    return make_partner("Emsp", "tok-structured", ("DE", "MSP"))


def complete_location() -> dict[str, Any]:
    """location_example.json with every structured field the location page edits set."""
    payload = copy.deepcopy(example("location_example.json"))
    hours = copy.deepcopy(example("location_regularhours_example.json")["opening_times"])
    hours["exceptional_closings"].append(
        {"period_begin": "2014-12-24T18:00:00.250Z", "period_end": "2014-12-26T06:00:00Z"}
    )
    payload.update(
        publish=False,
        publish_allowed_to=[
            *example("location_example_uc4_limited_visibility.json")["publish_allowed_to"],
            {"group_id": "DEPOT-STAFF"},
        ],
        related_locations=[
            {
                "latitude": "51.047700",
                "longitude": "3.730000",
                "name": {"language": "en", "text": "Entrance"},
            },
            {"latitude": "51.047800", "longitude": "3.730100"},
        ],
        directions=[
            {"language": "en", "text": "Second floor, left of the lift"},
            {"language": "nl", "text": "Tweede verdieping, links van de lift"},
        ],
        operator={"name": "BeCharged", "website": "https://becharged.be", "logo": LOGO},
        suboperator={"name": "Gent Parking"},
        owner={"name": "City of Gent", "website": "https://stad.gent"},
        opening_times=hours,
        images=[
            {
                "url": "https://becharged.be/gent-zuid.jpg",
                "thumbnail": "https://becharged.be/gent-zuid-small.jpg",
                "category": "LOCATION",
                "type": "jpeg",
                "width": 1024,
                "height": 768,
            },
            {"url": "https://becharged.be/entrance.png", "category": "ENTRANCE", "type": "png"},
        ],
        energy_mix=example("location_energymix_example_complete.json")["energy_mix"],
    )
    payload["evses"][0].update(
        status_schedule=[
            {
                "period_begin": "2026-12-24T08:00:00Z",
                "period_end": "2026-12-24T12:00:00Z",
                "status": "INOPERATIVE",
            },
            {"period_begin": "2026-12-27T08:00:00Z", "status": "AVAILABLE"},
        ],
        directions=[{"language": "en", "text": "Bay 3"}],
        images=[{"url": "https://becharged.be/charger.jpg", "category": "CHARGER", "type": "jpeg"}],
    )
    return payload


def rendered(obj: Location | EVSE) -> dict[str, Any]:
    serializer = LocationSerializer if isinstance(obj, Location) else EVSESerializer
    obj.refresh_from_db()
    return dict(serializer(obj).data)


def save_unchanged(operator: Client, url: str, form_id: str) -> Any:
    page = operator.get(url)
    assert page.status_code == 200
    return operator.post(url, posted_form(page.content.decode(), form_id))


# --- round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", LOCATION_EXAMPLES)
def test_every_spec_example_location_saved_unchanged_stays_as_it_is(
    operator: Client, partner: PartnerPlatform, name: str
) -> None:
    location = upsert(example(name))
    before, pushes = rendered(location), Change.objects.count()

    response = save_unchanged(operator, f"{LOCATIONS}{location.pk}/change/", "location_form")

    assert response.status_code == 302, form_errors(response)
    assert rendered(location) == before
    assert Change.objects.count() == pushes


@pytest.mark.parametrize(
    "energy_mix",
    [
        *(
            example(name)["energy_mix"]
            for name in (
                "location_energymix_example_simple.json",
                "location_energymix_example_energy_provider.json",
                "location_energymix_example_complete.json",
            )
        ),
        {"is_green_energy": False},
    ],
)
def test_every_spec_example_energy_mix_saved_unchanged_stays_as_it_is(
    operator: Client, partner: PartnerPlatform, energy_mix: dict[str, Any]
) -> None:
    location = upsert({**example("location_example.json"), "energy_mix": energy_mix})
    before, pushes = rendered(location), Change.objects.count()

    response = save_unchanged(operator, f"{LOCATIONS}{location.pk}/change/", "location_form")

    assert response.status_code == 302, form_errors(response)
    assert rendered(location) == before
    assert before["energy_mix"]["is_green_energy"] is energy_mix["is_green_energy"]
    assert Change.objects.count() == pushes


def test_a_location_with_every_structured_field_saved_unchanged_stays_as_it_is(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = upsert(complete_location())
    before, pushes = rendered(location), Change.objects.count()

    response = save_unchanged(operator, f"{LOCATIONS}{location.pk}/change/", "location_form")

    assert response.status_code == 302, form_errors(response)
    assert rendered(location) == before
    assert all(before.get(name) for name in STRUCTURED if name != "publish_allowed_to")
    assert before["publish_allowed_to"]
    assert Change.objects.count() == pushes


def test_an_evse_with_every_structured_field_saved_unchanged_stays_as_it_is(
    operator: Client, partner: PartnerPlatform
) -> None:
    evse = upsert(complete_location()).evses.get(uid="3256")
    before, pushes = rendered(evse), Change.objects.count()

    response = save_unchanged(operator, f"{EVSES}{evse.pk}/change/", "evse_form")

    assert response.status_code == 302, form_errors(response)
    assert rendered(evse) == before
    assert (len(before["status_schedule"]), len(before["images"])) == (2, 1)
    assert Change.objects.count() == pushes


def test_the_stored_values_show_in_the_inputs(operator: Client, partner: PartnerPlatform) -> None:
    location = upsert(complete_location())

    page = operator.get(f"{LOCATIONS}{location.pk}/change/").content.decode()
    posted = posted_form(page, "location_form")

    assert "<textarea" not in page.split('id="location_form"')[1].split("</form>")[0]
    shown = {
        name: posted[name][0]
        for name in (
            "publish_allowed_to-0-visual_number",
            "publish_allowed_to-2-type",
            "publish_allowed_to-3-group_id",
            "related_locations-0-name_text",
            "directions-1-language",
            "operator-logo-width",
            "operator-logo-category",
            "owner-website",
            "opening_times-regular_hours-4-weekday",
            "opening_times-regular_hours-4-period_end",
            "opening_times-exceptional_openings-0-period_begin",
            "opening_times-exceptional_closings-1-period_begin",
            "images-1-category",
            "energy_mix-energy_sources-2-source",
            "energy_mix-energy_sources-2-percentage",
            "energy_mix-environ_impact-0-amount",
            "energy_mix-is_green_energy",
            "energy_mix-supplier_name",
        )
    }
    assert shown == {
        "publish_allowed_to-0-visual_number": "12345-67",
        "publish_allowed_to-2-type": "RFID",
        "publish_allowed_to-3-group_id": "DEPOT-STAFF",
        "related_locations-0-name_text": "Entrance",
        "directions-1-language": "nl",
        "operator-logo-width": "512",
        "operator-logo-category": "OPERATOR",
        "owner-website": "https://stad.gent",
        "opening_times-regular_hours-4-weekday": "5",
        "opening_times-regular_hours-4-period_end": "20:00",
        # Stored in UTC, shown in the location's zone (Europe/Brussels: summer, winter).
        "opening_times-exceptional_openings-0-period_begin": "2014-06-21T11:00:00",
        "opening_times-exceptional_closings-1-period_begin": "2014-12-24T19:00:00.250",
        "images-1-category": "ENTRANCE",
        "energy_mix-energy_sources-2-source": "COAL",
        "energy_mix-energy_sources-2-percentage": "33.2",
        "energy_mix-environ_impact-0-amount": "0.0006",
        "energy_mix-is_green_energy": "False",
        "energy_mix-supplier_name": "E.ON Energy Deutschland",
    }
    assert "opening_times-twentyfourseven" not in posted  # unticked
    # Two blank rows to add to, counted with the stored ones.
    assert posted["images-TOTAL_ROWS"] == ["4"]
    assert posted["images-3-url"] == [""]


# --- entering through the inputs ----------------------------------------------------------


def rows(name: str, *values: dict[str, str]) -> dict[str, str]:
    """The inputs of table `name` as a browser posts them (plus one blank row)."""
    posted = {f"{name}-TOTAL_ROWS": str(len(values) + 1)}
    for index, row in enumerate(values):
        posted.update({f"{name}-{index}-{key}": value for key, value in row.items()})
    return posted


def test_every_structured_field_is_entered_through_inputs(
    operator: Client, partner: PartnerPlatform
) -> None:
    form = location_form(
        publish=None,
        **{
            "operator-name": "BeCharged",
            "operator-website": "https://becharged.be",
            **{f"operator-logo-{key}": str(value) for key, value in LOGO.items()},
            "owner-name": "City of Gent",
            "opening_times-twentyfourseven": None,
            **rows(
                "opening_times-regular_hours",
                {"weekday": "1", "period_begin": "07:00", "period_end": "12:00"},
                {"weekday": "1", "period_begin": "13:00", "period_end": "19:30"},
            ),
            **rows(
                "opening_times-exceptional_closings",
                {"period_begin": "2026-12-25T00:00", "period_end": "2026-12-26T00:00"},
            ),
            **rows("publish_allowed_to", {"uid": "04A1B2C3", "type": "RFID"}),
            **rows(
                "related_locations",
                {
                    "latitude": "51.035900",
                    "longitude": "3.710700",
                    "name_language": "en",
                    "name_text": "Entrance",
                },
            ),
            **rows("directions", {"language": "en", "text": "Level -1"}),
            **rows(
                "images",
                {"url": "https://becharged.be/a.jpg", "category": "LOCATION", "type": "jpeg"},
            ),
            "energy_mix-is_green_energy": "True",
            **rows("energy_mix-energy_sources", {"source": "WIND", "percentage": "60.5"}),
            **rows("energy_mix-environ_impact", {"category": "CARBON_DIOXIDE", "amount": "0"}),
            "energy_mix-supplier_name": "Wind BV",
        },
    )

    response = operator.post(f"{LOCATIONS}add/", form)

    assert response.status_code == 302, form_errors(response)
    stored = rendered(Location.objects.get())
    assert {name: stored.get(name) for name in STRUCTURED} == {
        "publish_allowed_to": [{"uid": "04A1B2C3", "type": "RFID"}],
        "related_locations": [
            {
                "latitude": "51.035900",
                "longitude": "3.710700",
                "name": {"language": "en", "text": "Entrance"},
            }
        ],
        "directions": [{"language": "en", "text": "Level -1"}],
        "operator": {"name": "BeCharged", "website": "https://becharged.be", "logo": LOGO},
        "suboperator": None,
        "owner": {"name": "City of Gent"},
        "opening_times": {
            "twentyfourseven": False,
            "regular_hours": [
                {"weekday": 1, "period_begin": "07:00", "period_end": "12:00"},
                {"weekday": 1, "period_begin": "13:00", "period_end": "19:30"},
            ],
            # Typed in the location's zone (Europe/Brussels, UTC+1 in winter), stored in UTC.
            "exceptional_closings": [
                {"period_begin": "2026-12-24T23:00:00Z", "period_end": "2026-12-25T23:00:00Z"}
            ],
        },
        "images": [{"url": "https://becharged.be/a.jpg", "category": "LOCATION", "type": "jpeg"}],
        "energy_mix": {
            "is_green_energy": True,
            "energy_sources": [{"source": "WIND", "percentage": Decimal("60.5")}],
            "environ_impact": [{"category": "CARBON_DIOXIDE", "amount": Decimal("0")}],
            "supplier_name": "Wind BV",
        },
    }
    assert last_payload()["operator"]["logo"] == LOGO


def test_a_ticked_remove_box_drops_its_row_and_pushes_the_change(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = upsert(complete_location())
    url = f"{LOCATIONS}{location.pk}/change/"
    posted = posted_form(operator.get(url).content.decode(), "location_form")
    posted["images-0-REMOVE"] = ["on"]

    response = operator.post(url, posted)

    assert response.status_code == 302, form_errors(response)
    assert [image["category"] for image in rendered(location)["images"]] == ["ENTRANCE"]
    assert last_payload()["images"] == [
        {"url": "https://becharged.be/entrance.png", "category": "ENTRANCE", "type": "png"}
    ]


def test_the_evse_page_takes_a_status_schedule_directions_and_images(
    operator: Client, partner: PartnerPlatform
) -> None:
    operator.post(f"{LOCATIONS}add/", location_form())
    form = evse_form(
        Location.objects.get(),
        **rows(
            "status_schedule",
            {"period_begin": "2026-12-24T08:00", "period_end": "", "status": "PLANNED"},
        ),
        **rows("directions", {"language": "de", "text": "Hinten links"}),
        **rows("images", {"url": "https://x.example/c.png", "category": "CHARGER", "type": "png"}),
    )

    response = operator.post(f"{EVSES}add/", form)

    assert response.status_code == 302, form_errors(response)
    stored = rendered(EVSE.objects.get())
    assert (stored["status_schedule"], stored["directions"], stored["images"]) == (
        [{"period_begin": "2026-12-24T07:00:00Z", "status": "PLANNED"}],  # 08:00 in Brussels
        [{"language": "de", "text": "Hinten links"}],
        [{"url": "https://x.example/c.png", "category": "CHARGER", "type": "png"}],
    )


# --- bad input: the message on its field, nothing stored ----------------------------------

TWO_HOURS = {"weekday": "2", "period_begin": "08:00", "period_end": "10:00"}


@pytest.mark.parametrize(
    ("inputs", "field", "message"),
    [
        (
            rows("opening_times-regular_hours", TWO_HOURS),
            "opening_times",
            "regular_hours: Only to be used when twentyfourseven is false.",
        ),
        (
            {
                "opening_times-twentyfourseven": None,
                **rows("opening_times-regular_hours", {**TWO_HOURS, "period_end": "07:00"}),
            },
            "opening_times",
            "regular_hours: row 1: period_end: Must be later than period_begin.",
        ),
        (
            {
                "opening_times-twentyfourseven": None,
                **rows(
                    "opening_times-exceptional_closings",
                    {"period_begin": "2026-12-24T08:00", "period_end": "2026-12-24T20:00"},
                ),
            },
            "opening_times",
            "regular_hours: At least one entry is needed when twentyfourseven is false.",
        ),
        (
            rows(
                "opening_times-exceptional_openings",
                {"period_begin": "2026-12-24T10:00", "period_end": "2026-12-24T09:00"},
            ),
            "opening_times",
            "exceptional_openings: row 1: period_end: Must be later than period_begin.",
        ),
        (
            rows(
                "opening_times-exceptional_openings",
                {"period_begin": "Christmas", "period_end": "2026-12-24T09:00"},
            ),
            "opening_times",
            "exceptional_openings: row 1: period_begin: "
            "Enter a date and time in Europe/Brussels, e.g. 2026-06-01T08:00.",
        ),
        (
            {"operator-name": "", "operator-website": "https://becharged.be"},
            "operator",
            "name: This field is required.",
        ),
        (
            {
                "owner-name": "City",
                "owner-logo-url": "ftp://x",
                "owner-logo-category": "OWNER",
                "owner-logo-type": "png",
            },
            "owner",
            "logo: url: Must be an absolute http(s) URL.",
        ),
        (
            {"suboperator-name": "Sub", "suboperator-logo-width": "wide"},
            "suboperator",
            "logo: width: Enter a whole number.",
        ),
        (
            rows("images", {"url": "https://x.example/a.png", "type": "png"}),
            "images",
            "row 1: category: This field is required.",
        ),
        (
            rows(
                "images",
                {"url": "https://x.example/a.png", "category": "OTHER", "type": "png"},
                {"url": "https://x.example/b.png", "category": "OTHER", "type": "image"},
            ),
            "images",
            "row 2: type: Ensure this field has no more than 4 characters.",
        ),
        (
            {
                "energy_mix-is_green_energy": "True",
                **rows("energy_mix-energy_sources", {"source": "SOLAR", "percentage": "120"}),
            },
            "energy_mix",
            "energy_sources: row 1: percentage: Ensure this value is less than or equal to 100.",
        ),
        (
            {"energy_mix-supplier_name": "Wind BV"},
            "energy_mix",
            "is_green_energy: This field is required.",
        ),
        (
            {
                "energy_mix-is_green_energy": "False",
                **rows("energy_mix-environ_impact", {"category": "", "amount": "3"}),
            },
            "energy_mix",
            "environ_impact: row 1: category: This field is required.",
        ),
        (
            rows("related_locations", {"latitude": "51.03", "longitude": "3.710700"}),
            "related_locations",
            r"row 1: latitude: Must match -?[0-9]{1,2}\.[0-9]{5,7} and lie within ±90, "
            "e.g. 51.047599.",
        ),
        (
            rows("directions", {"language": "english", "text": "Left"}),
            "directions",
            "row 1: language: Ensure this field has no more than 2 characters.",
        ),
        (
            rows("publish_allowed_to", {"group_id": "DEPOT"}),
            "publish_allowed_to",
            "May only be used when publish is false.",
        ),
        (
            {"publish": None, **rows("publish_allowed_to", {"uid": "04A1B2C3"})},
            "publish_allowed_to",
            "row 1: type: SHALL be set when uid is set.",
        ),
    ],
)
def test_bad_structured_input_is_shown_on_its_field_and_nothing_is_stored(
    operator: Client,
    partner: PartnerPlatform,
    inputs: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = operator.post(f"{LOCATIONS}add/", location_form(**inputs))

    assert response.status_code == 200
    assert form_errors(response) == {field: [message]}
    assert (Location.objects.count(), Change.objects.count()) == (0, 0)
    page = response.content.decode()
    # The page shows what was typed, so nothing has to be typed again.
    for name, value in inputs.items():
        if value and not name.endswith("TOTAL_ROWS") and value != "on":
            assert f'value="{value}"' in page or f'value="{value}" selected' in page, name


def test_a_bad_status_schedule_is_shown_on_its_field_and_nothing_is_stored(
    operator: Client, partner: PartnerPlatform
) -> None:
    operator.post(f"{LOCATIONS}add/", location_form())
    pushes = Change.objects.count()
    form = evse_form(
        Location.objects.get(),
        **rows(
            "status_schedule",
            {
                "period_begin": "2026-12-24T08:00",
                "period_end": "2026-12-24T07:00",
                "status": "INOPERATIVE",
            },
        ),
    )

    response = operator.post(f"{EVSES}add/", form)

    assert form_errors(response) == {
        "status_schedule": ["row 1: period_end: Must be later than period_begin."]
    }
    assert (EVSE.objects.count(), Change.objects.count()) == (0, pushes)
