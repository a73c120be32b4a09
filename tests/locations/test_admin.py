"""The operator's screens for locations (DESIGN.md: operators run everything in the admin):
saving goes through the services, so the push follows; errors are shown on the field."""

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from credentials.models import PartnerPlatform
from locations.models import EVSE, Connector, Location
from ocpi.time import format_datetime
from push.models import Change
from tests.locations.conftest import example, make_partner, upsert
from tests.locations.tariffs import stored_tariff

LOCATIONS = "/admin/locations/location/"
EVSES = "/admin/locations/evse/"


@pytest.fixture
def partner(our_parties: Any) -> PartnerPlatform:
    """The eMSP, and the BE*BEC tariffs the connectors on these pages pick."""
    stored_tariff("DC-1")
    stored_tariff("DC-2", price="0.30")
    return make_partner("Emsp", "tok-admin", ("DE", "MSP"))


def location_form(**overrides: Any) -> dict[str, Any]:
    form = {
        "country_code": "BE",
        "party_id": "BEC",
        "ocpi_id": "LOC9",
        "roaming": "on",
        "publish": "on",
        "name": "Gent Sint-Pieters",
        "address": "Koningin Maria Hendrikaplein 1",
        "city": "Gent",
        "postal_code": "9000",
        "state": "",
        "country": "BEL",
        "latitude": "51.035896",
        "longitude": "3.710675",
        "parking_type": "PARKING_GARAGE",
        "operator-name": "BeCharged",
        "facilities": ["TRAIN_STATION", "CAFE"],
        "time_zone": "Europe/Brussels",
        "opening_times-twentyfourseven": "on",
        "charging_when_closed": "unknown",
        "evses-TOTAL_FORMS": "0",
        "evses-INITIAL_FORMS": "0",
        "evses-MIN_NUM_FORMS": "0",
        "evses-MAX_NUM_FORMS": "0",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def evse_form(location: Location, **overrides: Any) -> dict[str, Any]:
    form = {
        "location": str(location.pk),
        "uid": "E-1",
        "evse_id": "BE*BEC*E9001",
        "status": "AVAILABLE",
        "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
        "floor_level": "-1",
        "latitude": "",
        "longitude": "",
        "physical_reference": "9001",
        "parking_restrictions": [],
        "connectors-TOTAL_FORMS": "1",
        "connectors-INITIAL_FORMS": "0",
        "connectors-MIN_NUM_FORMS": "1",
        "connectors-MAX_NUM_FORMS": "1000",
        "connectors-0-ocpi_id": "1",
        "connectors-0-standard": "IEC_62196_T2_COMBO",
        "connectors-0-format": "CABLE",
        "connectors-0-power_type": "DC",
        "connectors-0-max_voltage": "920",
        "connectors-0-max_amperage": "400",
        "connectors-0-max_electric_power": "150000",
        "connectors-0-tariff_ids": ["DC-1", "DC-2"],
        "connectors-0-terms_and_conditions": "",
    }
    form.update(overrides)
    return form


def form_errors(response: Any) -> dict[str, list[str]]:
    return {key: list(value) for key, value in response.context["adminform"].form.errors.items()}


def last_payload() -> Any:
    change = Change.objects.order_by("pk").last()
    assert change is not None
    return change.payload


def changes() -> list[tuple[str, list[str]]]:
    return [(change.method, change.path) for change in Change.objects.order_by("pk")]


# --- creating a location, an EVSE and a connector -----------------------------------------


def test_operator_creates_a_location_then_an_evse_with_a_connector(
    operator: Client, partner: PartnerPlatform
) -> None:
    created = operator.post(f"{LOCATIONS}add/", location_form())
    location = Location.objects.get()
    added = operator.post(f"{EVSES}add/", evse_form(location))

    assert (created.status_code, added.status_code) == (302, 302)
    assert changes() == [("PUT", ["BE", "BEC", "LOC9"]), ("PUT", ["BE", "BEC", "LOC9", "E-1"])]
    put_location, put_evse = Change.objects.order_by("pk")
    pushed: Any = put_location.payload
    assert pushed["facilities"] == ["TRAIN_STATION", "CAFE"]
    assert pushed["opening_times"] == {"twentyfourseven": True}
    assert "evses" not in pushed
    evse = EVSE.objects.get()
    assert put_evse.payload == {
        "uid": "E-1",
        "evse_id": "BE*BEC*E9001",
        "status": "AVAILABLE",
        "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE"],
        "connectors": [
            {
                "id": "1",
                "standard": "IEC_62196_T2_COMBO",
                "format": "CABLE",
                "power_type": "DC",
                "max_voltage": 920,
                "max_amperage": 400,
                "max_electric_power": 150000,
                "tariff_ids": ["DC-1", "DC-2"],
                "last_updated": format_datetime(Connector.objects.get().last_updated),
            }
        ],
        "floor_level": "-1",
        "physical_reference": "9001",
        "last_updated": format_datetime(evse.last_updated),
    }
    location.refresh_from_db()
    assert location.last_updated == evse.last_updated


def test_location_page_links_to_adding_an_evse(operator: Client, partner: PartnerPlatform) -> None:
    location = upsert(example("location_example.json"))

    response = operator.get(f"{LOCATIONS}{location.pk}/change/")

    assert response.status_code == 200
    assert f"{EVSES}add/?location={location.pk}" in response.content.decode()
    assert f"{EVSES}{location.evses.get(uid='3256').pk}/change/" in response.content.decode()


def test_evse_page_with_its_connectors_renders(operator: Client, partner: PartnerPlatform) -> None:
    location = upsert(example("location_example.json"))

    response = operator.get(f"{EVSES}{location.evses.get(uid='3256').pk}/change/")

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.total_form_count() == 2


# --- editing ------------------------------------------------------------------------------


def _inline_rows(location: Location, statuses: dict[str, str]) -> dict[str, Any]:
    evses = list(location.evses.order_by("pk"))
    rows: dict[str, Any] = {
        "evses-TOTAL_FORMS": str(len(evses)),
        "evses-INITIAL_FORMS": str(len(evses)),
        "evses-MIN_NUM_FORMS": "0",
        "evses-MAX_NUM_FORMS": "0",
    }
    for index, evse in enumerate(evses):
        rows[f"evses-{index}-id"] = str(evse.pk)
        rows[f"evses-{index}-location"] = str(location.pk)
        rows[f"evses-{index}-status"] = statuses.get(evse.uid, evse.status)
    return rows


def _change_form(location: Location, **overrides: Any) -> dict[str, Any]:
    form = location_form(
        **{
            "name": location.name,
            "address": location.address,
            "city": location.city,
            "postal_code": location.postal_code,
            "country": location.country,
            "latitude": location.latitude,
            "longitude": location.longitude,
            "parking_type": location.parking_type,
            "facilities": [],
            "opening_times-twentyfourseven": None,
            **overrides,
        }
    )
    for immutable in ("country_code", "party_id", "ocpi_id"):
        del form[immutable]
    return form


def test_changing_an_evse_status_on_the_location_page_is_one_patch(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = upsert(example("location_example.json"))
    form = {**_change_form(location), **_inline_rows(location, {"3257": "CHARGING"})}

    response = operator.post(f"{LOCATIONS}{location.pk}/change/", form)

    evse = location.evses.get(uid="3257")
    assert response.status_code == 302
    assert evse.status == "CHARGING"
    assert changes() == [("PUT", ["BE", "BEC", "LOC1"]), ("PATCH", ["BE", "BEC", "LOC1", "3257"])]
    assert last_payload() == {
        "status": "CHARGING",
        "last_updated": format_datetime(evse.last_updated),
    }


def test_renaming_on_the_location_page_is_one_put_with_a_new_last_updated(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = upsert(example("location_example.json"))
    before = location.last_updated
    form = {
        **_change_form(location, name="Gent Zuid Station"),
        **_inline_rows(location, {"3257": "CHARGING"}),
    }

    operator.post(f"{LOCATIONS}{location.pk}/change/", form)

    location.refresh_from_db()
    assert location.last_updated > before
    assert changes() == [("PUT", ["BE", "BEC", "LOC1"]), ("PUT", ["BE", "BEC", "LOC1"])]
    pushed = last_payload()
    assert (pushed["name"], pushed["evses"][1]["status"]) == ("Gent Zuid Station", "CHARGING")


def test_saving_the_location_page_unchanged_pushes_nothing(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = upsert(example("location_example.json"))
    form = {**_change_form(location), **_inline_rows(location, {})}

    response = operator.post(f"{LOCATIONS}{location.pk}/change/", form)

    assert response.status_code == 302
    assert changes() == [("PUT", ["BE", "BEC", "LOC1"])]


def test_changing_the_status_on_the_evse_page_is_a_patch(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = upsert(example("location_example.json"))
    operator.post(f"{LOCATIONS}add/", location_form())
    new_location = Location.objects.get(ocpi_id="LOC9")
    operator.post(f"{EVSES}add/", evse_form(new_location))
    evse = EVSE.objects.get(uid="E-1")
    connector = evse.connectors.get()
    form = evse_form(
        new_location,
        status="OUTOFORDER",
        **{
            "connectors-INITIAL_FORMS": "1",
            "connectors-0-id": str(connector.pk),
            "connectors-0-evse": str(evse.pk),
        },
    )
    del form["location"], form["uid"]

    response = operator.post(f"{EVSES}{evse.pk}/change/", form)

    evse.refresh_from_db()
    assert response.status_code == 302
    assert (evse.status, location.evses.count()) == ("OUTOFORDER", 2)
    assert changes()[-1] == ("PATCH", ["BE", "BEC", "LOC9", "E-1"])


def test_set_status_action_asks_then_patches_each_evse(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = upsert(example("location_example.json"))
    selected = [str(pk) for pk in location.evses.values_list("pk", flat=True)]

    asked = operator.post(EVSES, {"action": "set_status", "_selected_action": selected})
    applied = operator.post(
        EVSES,
        {"action": "set_status", "_selected_action": selected, "status": "INOPERATIVE", "apply": 1},
        follow=True,
    )

    assert asked.status_code == 200
    assert "Set the status of EVSEs" in asked.content.decode()
    assert [str(m) for m in get_messages(applied.wsgi_request)] == ["Status of 2 EVSEs set."]
    assert changes()[1:] == [
        ("PATCH", ["BE", "BEC", "LOC1", "3256"]),
        ("PATCH", ["BE", "BEC", "LOC1", "3257"]),
    ]


def test_withdraw_from_roaming_action(operator: Client, partner: PartnerPlatform) -> None:
    location = upsert(example("location_example.json"))

    operator.post(LOCATIONS, {"action": "stop_roaming", "_selected_action": [str(location.pk)]})

    location.refresh_from_db()
    assert location.roaming is False
    assert [e["status"] for e in last_payload()["evses"]] == [
        "REMOVED",
        "REMOVED",
    ]


def test_nothing_can_be_deleted(operator: Client, partner: PartnerPlatform) -> None:
    location = upsert(example("location_example.json"))

    response = operator.post(f"{LOCATIONS}{location.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Location.objects.count() == 1


# --- errors on the field ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"latitude": "51.03"},
            "latitude",
            r"Must match -?[0-9]{1,2}\.[0-9]{5,7} and lie within ±90, e.g. 51.047599.",
        ),
        ({"party_id": "XYZ"}, "party_id", "BE*XYZ is not a party of ours."),
        ({"country": "BE"}, "country", "Must be an ISO 3166-1 alpha-3 code, e.g. BEL."),
        (
            {"time_zone": "Europe/Gent"},
            "time_zone",
            "Must be an IANA time zone name, e.g. Europe/Brussels.",
        ),
        (
            {"ocpi_id": "X" * 37},
            "ocpi_id",
            "Ensure this value has at most 36 characters (it has 37).",
        ),
    ],
)
def test_location_errors_are_shown_on_their_field(
    operator: Client, partner: PartnerPlatform, overrides: dict[str, Any], field: str, message: str
) -> None:
    response = operator.post(f"{LOCATIONS}add/", location_form(**overrides))

    assert response.status_code == 200
    assert form_errors(response) == {field: [message]}
    assert (Location.objects.count(), Change.objects.count()) == (0, 0)


def test_an_existing_location_id_is_refused_on_the_add_page(
    operator: Client, partner: PartnerPlatform
) -> None:
    upsert(example("location_example.json"))

    response = operator.post(f"{LOCATIONS}add/", location_form(ocpi_id="loc1"))

    assert form_errors(response) == {
        "__all__": ["A location with this id already exists for the party."]
    }


def test_connector_errors_are_shown_on_their_field(
    operator: Client, partner: PartnerPlatform
) -> None:
    operator.post(f"{LOCATIONS}add/", location_form())
    location = Location.objects.get()

    response = operator.post(
        f"{EVSES}add/",
        evse_form(
            location,
            **{"connectors-0-terms_and_conditions": "nope"},
        ),
    )

    inline = response.context["inline_admin_formsets"][0].formset
    assert inline.errors == [
        {
            "terms_and_conditions": ["Must be an absolute http(s) URL."],
        }
    ]
    assert EVSE.objects.count() == 0


def test_an_evse_without_connector_is_refused(operator: Client, partner: PartnerPlatform) -> None:
    operator.post(f"{LOCATIONS}add/", location_form())
    location = Location.objects.get()
    form = evse_form(location, **{"connectors-TOTAL_FORMS": "0"})

    response = operator.post(f"{EVSES}add/", form)

    assert response.context["inline_admin_formsets"][0].formset.non_form_errors() == [
        "Please submit at least 1 form."
    ]
    assert EVSE.objects.count() == 0


def test_an_evse_id_in_use_is_refused_on_the_evse_field(
    operator: Client, partner: PartnerPlatform
) -> None:
    upsert(example("location_example.json"))
    operator.post(f"{LOCATIONS}add/", location_form())
    location = Location.objects.get(ocpi_id="LOC9")

    response = operator.post(f"{EVSES}add/", evse_form(location, evse_id="be*bec*e041503001"))

    assert form_errors(response) == {
        "evse_id": ["Another EVSE that is not REMOVED has this evse_id."]
    }
