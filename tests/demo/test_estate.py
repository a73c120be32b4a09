"""What the demo estate holds: valid OCPI objects, tariffs that exist, every kind of thing a
partner meets in a real CPO's catalogue, and places that lie where they say they are."""

import re
from typing import Any

import pytest

from credentials.models import LocalParty
from demo.places import CITIES
from locations.serializers import LocationSerializer
from tariffs.serializers import TariffSerializer
from tests.demo.conftest import TARIFFS, rendered_estate, seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate(cpo_party: LocalParty) -> tuple[list[Any], list[Any]]:
    """60 locations of seed 1: enough to hold every kind of site."""
    seed("--locations", "60")
    return rendered_estate(cpo_party)


def connectors(locations: list[Any]) -> list[Any]:
    return [c for loc in locations for evse in loc["evses"] for c in evse["connectors"]]


def elements(tariffs: list[Any]) -> list[Any]:
    return [element for tariff in tariffs for element in tariff["elements"]]


def restrictions(tariffs: list[Any]) -> list[Any]:
    return [element["restrictions"] for element in elements(tariffs) if "restrictions" in element]


def test_every_location_and_tariff_validates_through_the_ocpi_serializers(estate):
    locations, tariffs = estate

    location_errors = [
        (loc["id"], s.errors)
        for loc in locations
        if not (s := LocationSerializer(data=loc)).is_valid()
    ]
    tariff_errors = [
        (t["id"], s.errors) for t in tariffs if not (s := TariffSerializer(data=t)).is_valid()
    ]

    assert (len(locations), len(tariffs)) == (60, TARIFFS)
    assert location_errors == []
    assert tariff_errors == []


def test_every_connector_names_tariffs_that_exist(estate):
    locations, tariffs = estate

    named = {tariff_id for c in connectors(locations) for tariff_id in c["tariff_ids"]}

    assert named <= {tariff["id"] for tariff in tariffs}
    assert [c for c in connectors(locations) if not c["tariff_ids"]] == []


def test_a_connector_has_at_most_one_tariff_of_each_type(estate):
    """Connector.tariff_ids: only one of each Tariff.type may be active at a time."""
    locations, tariffs = estate
    type_of = {tariff["id"]: tariff.get("type") for tariff in tariffs}

    clashes = [
        c["tariff_ids"]
        for c in connectors(locations)
        if len({type_of[t] for t in c["tariff_ids"]}) != len(c["tariff_ids"])
    ]

    assert clashes == []


def test_the_estate_has_the_common_connectors_and_every_parking_type_of_a_city(estate):
    locations, _ = estate

    assert {(c["standard"], c["format"], c["power_type"]) for c in connectors(locations)} == {
        ("IEC_62196_T2", "SOCKET", "AC_3_PHASE"),
        ("IEC_62196_T2", "CABLE", "AC_3_PHASE"),
        ("IEC_62196_T2", "SOCKET", "AC_1_PHASE"),
        ("DOMESTIC_F", "SOCKET", "AC_1_PHASE"),
        ("IEC_62196_T2_COMBO", "CABLE", "DC"),
        ("CHADEMO", "CABLE", "DC"),
    }
    assert {loc["parking_type"] for loc in locations} == {
        "ON_STREET",
        "PARKING_GARAGE",
        "UNDERGROUND_GARAGE",
        "PARKING_LOT",
    }
    assert {(loc["country"], loc["time_zone"]) for loc in locations} == {
        ("NLD", "Europe/Amsterdam"),
        ("DEU", "Europe/Berlin"),
        ("BEL", "Europe/Brussels"),
        ("FRA", "Europe/Paris"),
    }


def test_opening_hours_publication_and_energy_mix_vary_as_in_real_estates(estate):
    locations, _ = estate
    hours = [loc["opening_times"] for loc in locations]

    assert {h["twentyfourseven"] for h in hours} == {True, False}
    assert {day["weekday"] for h in hours for day in h.get("regular_hours", [])} == set(range(1, 8))
    assert [h for h in hours if h.get("exceptional_closings")] != []
    assert [h for h in hours if h.get("exceptional_openings")] != []
    assert {loc["publish"] for loc in locations} == {True, False}
    assert [loc["publish_allowed_to"] for loc in locations if not loc["publish"]] != []
    assert {loc["energy_mix"]["is_green_energy"] for loc in locations if "energy_mix" in loc} == {
        True,
        False,
    }
    assert {evse["status"] for loc in locations for evse in loc["evses"]} == {
        "AVAILABLE",
        "BLOCKED",
        "CHARGING",
        "INOPERATIVE",
        "OUTOFORDER",
        "PLANNED",
        "RESERVED",
        "UNKNOWN",
    }
    assert [
        evse["status_schedule"]
        for loc in locations
        for evse in loc["evses"]
        if evse["status"] == "PLANNED"
    ][0] == [{"period_begin": "2027-03-01T07:00:00Z", "status": "AVAILABLE"}]


def test_every_kind_of_tariff_is_there(estate):
    _, tariffs = estate
    components = [c for element in elements(tariffs) for c in element["price_components"]]

    assert {tariff.get("type") for tariff in tariffs} == {
        None,
        "REGULAR",
        "PROFILE_GREEN",
        "AD_HOC_PAYMENT",
    }
    assert {c["type"] for c in components} == {"ENERGY", "TIME", "PARKING_TIME", "FLAT"}
    assert {r["reservation"] for r in restrictions(tariffs) if "reservation" in r} == {
        "RESERVATION",
        "RESERVATION_EXPIRES",
    }
    assert {tuple(r["day_of_week"]) for r in restrictions(tariffs) if "day_of_week" in r} == {
        ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"),
        ("SATURDAY", "SUNDAY"),
    }
    # Peak and off-peak; off-peak runs past midnight (end_time before start_time).
    assert {(r["start_time"], r["end_time"]) for r in restrictions(tariffs) if "end_time" in r} == {
        ("07:00", "23:00"),
        ("23:00", "07:00"),
        ("08:00", "20:00"),
    }
    assert [t["id"] for t in tariffs if "min_price" in t and "max_price" in t] == [
        "DEMO-NL-DC-FLEX",
        "DEMO-DE-DC-FLEX",
        "DEMO-BE-DC-FLEX",
        "DEMO-FR-DC-FLEX",
    ]
    assert [t["elements"] for t in tariffs if t["id"] == "DEMO-NL-FREE"] == [
        [{"price_components": [{"type": "FLAT", "price": 0, "step_size": 0}]}]
    ]


def test_prices_carry_the_vat_of_the_country_the_tariff_is_for(estate):
    _, tariffs = estate
    vat = {"NL": 21, "DE": 19, "BE": 21, "FR": 20}

    rates = {
        (tariff["id"].split("-")[1], component.get("vat"))
        for tariff in tariffs
        for element in tariff["elements"]
        for component in element["price_components"]
        if not tariff["id"].endswith("-FREE")
    }

    assert rates == set(vat.items())


def test_places_lie_in_their_city_with_ids_in_emi3_form(estate):
    locations, _ = estate
    boxes = {city.name: city for city in CITIES}

    outside = [
        loc["id"]
        for loc in locations
        if abs(float(loc["coordinates"]["latitude"]) - boxes[loc["city"]].latitude)
        > boxes[loc["city"]].spread[0]
        or abs(float(loc["coordinates"]["longitude"]) - boxes[loc["city"]].longitude)
        > boxes[loc["city"]].spread[1]
    ]
    evse_ids = [evse["evse_id"] for loc in locations for evse in loc["evses"]]

    assert outside == []
    assert [i for i in evse_ids if not re.fullmatch(r"NL\*TNM\*E\d{7}", i)] == []
    assert len(set(evse_ids)) == len(evse_ids)
    assert [loc["id"] for loc in locations] == [f"DEMO-{n:05d}" for n in range(1, 61)]
    assert {loc["operator"]["name"] for loc in locations} == {"The New Motion Demo CPO"}
