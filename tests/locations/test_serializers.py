"""The Locations classes against the spec's examples, enums, lengths and rules
(mod_locations.asciidoc; errata: address 255, state 45)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import models

from locations.models import (
    Capability,
    ConnectorFormat,
    ConnectorType,
    Facility,
    ParkingRestriction,
    ParkingType,
    PowerType,
    Status,
    TokenType,
)
from locations.selectors import location_for_render
from locations.serializers import (
    ConnectorSerializer,
    EnergyMixSerializer,
    EVSESerializer,
    HoursSerializer,
    LocationSerializer,
)
from ocpi import json
from ocpi.enums import EnergySourceCategory, EnvironmentalImpactCategory, ImageCategory
from tests.locations.conftest import LOCATION_EXAMPLES, example, location_payload, upsert

pytestmark = pytest.mark.django_db


def plain(value: Any) -> Any:
    """Rendered data as a partner receives it (exact numbers kept)."""
    return json.loads(json.dumps(value))


def errors_of(serializer_class: Any, payload: Any, **kwargs: Any) -> Any:
    serializer = serializer_class(data=payload, **kwargs)
    assert not serializer.is_valid()
    return plain(serializer.errors)


# --- the spec's examples ------------------------------------------------------------------


@pytest.mark.parametrize("name", LOCATION_EXAMPLES)
def test_location_example_round_trips_through_upsert_and_rendering(name: str) -> None:
    payload = example(name)

    location = upsert(payload)

    assert plain(LocationSerializer(location_for_render(location.pk)).data) == payload


@pytest.mark.parametrize(
    "name",
    [
        "location_hours_247_open_exception_closing.json",
        "location_hours_opening_hours_with_exceptional_closing.json",
        "location_hours_opening_hours_with_exceptional_opening.json",
    ],
)
def test_hours_examples_are_valid_and_render_as_given(name: str) -> None:
    serializer = HoursSerializer(data=example(name))

    assert serializer.is_valid(), serializer.errors
    assert plain(serializer.data) == example(name)


def test_regular_hours_example_is_valid_opening_times() -> None:
    payload = example("location_regularhours_example.json")["opening_times"]
    serializer = HoursSerializer(data=payload)

    assert serializer.is_valid(), serializer.errors
    assert plain(serializer.data) == payload


@pytest.mark.parametrize(
    "name",
    [
        "location_energymix_example_complete.json",
        "location_energymix_example_energy_provider.json",
        "location_energymix_example_simple.json",
    ],
)
def test_energy_mix_examples_keep_their_exact_numbers(name: str) -> None:
    payload = example(name)["energy_mix"]
    serializer = EnergyMixSerializer(data=payload)

    assert serializer.is_valid(), serializer.errors
    assert json.dumps(serializer.data) == json.dumps(payload)


@pytest.mark.parametrize(
    ("name", "serializer_class"),
    [
        ("location_patch_example_location.json", LocationSerializer),
        ("location_patch_example_status.json", EVSESerializer),
        ("location_patch_example_remove_evse.json", EVSESerializer),
        ("location_patch_example_tariff.json", ConnectorSerializer),
    ],
)
def test_patch_examples_are_valid_partial_objects(name: str, serializer_class: Any) -> None:
    serializer = serializer_class(data=example(name), partial=True)

    assert serializer.is_valid(), serializer.errors


def test_add_evse_example_is_refused_for_the_defects_the_notice_lists() -> None:
    # `floor` is an unknown field (tolerated and ignored: the spec's name is floor_level),
    # physical_reference is a number where a string is required, and the connector lacks
    # power_type, max_voltage, max_amperage and last_updated.
    errors = errors_of(EVSESerializer, example("location_put_example_add_evse.json"))

    assert errors == {
        "connectors": {
            "0": {
                "power_type": ["This field is required."],
                "max_voltage": ["This field is required."],
                "max_amperage": ["This field is required."],
                "last_updated": ["This field is required."],
            }
        },
        "physical_reference": ["Not a valid string."],
    }


def test_add_evse_example_with_its_defects_repaired_is_valid() -> None:
    payload = example("location_put_example_add_evse.json")
    del payload["floor"]
    payload["floor_level"] = "-1"
    payload["physical_reference"] = "3"
    payload["connectors"][0].update(
        power_type="AC_3_PHASE",
        max_voltage=230,
        max_amperage=16,
        last_updated="2019-06-24T12:39:09Z",
    )

    serializer = EVSESerializer(data=payload)

    assert serializer.is_valid(), serializer.errors


def test_optional_empty_values_are_left_out_when_rendered() -> None:
    payload = location_payload(
        name="", postal_code=None, state="", directions=[], facilities=None, images=[]
    )

    location = upsert(payload)

    rendered = plain(LocationSerializer(location_for_render(location.pk)).data)
    assert {"name", "postal_code", "state", "directions", "facilities", "images"}.isdisjoint(
        rendered
    )


# --- enums: every value accepted, wrong case refused -------------------------------------


def _set(path: list[Any]) -> Callable[[dict[str, Any], Any], None]:
    def setter(payload: dict[str, Any], value: Any) -> None:
        target = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return setter


def _in_list(path: list[Any]) -> Callable[[dict[str, Any], Any], None]:
    set_list = _set(path)
    return lambda payload, value: set_list(payload, [value])


def _image(payload: dict[str, Any], value: Any) -> None:
    payload["images"] = [{"url": "https://cpo.example.com/a.png", "category": value, "type": "png"}]


def _energy_source(payload: dict[str, Any], value: Any) -> None:
    payload["energy_mix"] = {
        "is_green_energy": False,
        "energy_sources": [{"source": value, "percentage": 100}],
    }


def _environ_impact(payload: dict[str, Any], value: Any) -> None:
    payload["energy_mix"] = {
        "is_green_energy": False,
        "environ_impact": [{"category": value, "amount": 372}],
    }


def _token_type(payload: dict[str, Any], value: Any) -> None:
    payload["publish"] = False
    payload["publish_allowed_to"] = [{"uid": "0102030405", "type": value}]


ENUM_SETTERS: list[tuple[type[models.TextChoices], Callable[[dict[str, Any], Any], None]]] = [
    (Status, _set(["evses", 0, "status"])),
    (Capability, _in_list(["evses", 0, "capabilities"])),
    (ConnectorFormat, _set(["evses", 0, "connectors", 0, "format"])),
    (ConnectorType, _set(["evses", 0, "connectors", 0, "standard"])),
    (PowerType, _set(["evses", 0, "connectors", 0, "power_type"])),
    (ParkingType, _set(["parking_type"])),
    (ParkingRestriction, _in_list(["evses", 0, "parking_restrictions"])),
    (Facility, _in_list(["facilities"])),
    (ImageCategory, _image),
    (EnergySourceCategory, _energy_source),
    (EnvironmentalImpactCategory, _environ_impact),
    (TokenType, _token_type),
]
ENUM_CASES = [
    pytest.param(setter, value, id=f"{enum.__name__}.{value}")
    for enum, setter in ENUM_SETTERS
    for value in enum.values
]


@pytest.mark.parametrize(("setter", "value"), ENUM_CASES)
def test_every_enum_value_is_accepted(setter: Callable[..., None], value: str) -> None:
    payload = location_payload()
    setter(payload, value)

    serializer = LocationSerializer(data=payload)

    assert serializer.is_valid(), serializer.errors


@pytest.mark.parametrize(("setter", "value"), ENUM_CASES)
def test_enum_values_in_the_wrong_case_are_refused(setter: Callable[..., None], value: str) -> None:
    payload = location_payload()
    setter(payload, value.swapcase())

    assert not LocationSerializer(data=payload).is_valid()


def test_the_mixed_case_iec_60309_values_are_the_spec_spelling() -> None:
    assert [value for value in ConnectorType.values if value.startswith("IEC_60309")] == [
        "IEC_60309_2_single_16",
        "IEC_60309_2_three_16",
        "IEC_60309_2_three_32",
        "IEC_60309_2_three_64",
    ]
    payload = location_payload()
    payload["evses"][0]["connectors"][0]["standard"] = "IEC_60309_2_SINGLE_16"
    assert not LocationSerializer(data=payload).is_valid()


def test_enums_have_exactly_the_spec_values() -> None:
    assert len(ConnectorType.values) == 40
    assert Status.values == [
        "AVAILABLE",
        "BLOCKED",
        "CHARGING",
        "INOPERATIVE",
        "OUTOFORDER",
        "PLANNED",
        "REMOVED",
        "RESERVED",
        "UNKNOWN",
    ]
    assert len(Capability.values) == 13
    assert len(Facility.values) == 20
    assert PowerType.values == ["AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC"]


# --- lengths ------------------------------------------------------------------------------

LENGTHS = [
    pytest.param(["country_code"], 2, id="Location.country_code"),
    pytest.param(["party_id"], 3, id="Location.party_id"),
    pytest.param(["id"], 36, id="Location.id"),
    pytest.param(["name"], 255, id="Location.name"),
    pytest.param(["address"], 255, id="Location.address (errata 255)"),
    pytest.param(["city"], 45, id="Location.city"),
    pytest.param(["postal_code"], 10, id="Location.postal_code"),
    pytest.param(["state"], 45, id="Location.state (errata 45)"),
    pytest.param(["operator", "name"], 100, id="BusinessDetails.name"),
    pytest.param(["evses", 0, "uid"], 36, id="EVSE.uid"),
    pytest.param(["evses", 0, "evse_id"], 48, id="EVSE.evse_id"),
    pytest.param(["evses", 0, "floor_level"], 4, id="EVSE.floor_level"),
    pytest.param(["evses", 0, "physical_reference"], 16, id="EVSE.physical_reference"),
    pytest.param(["evses", 0, "connectors", 0, "id"], 36, id="Connector.id"),
    pytest.param(["evses", 0, "connectors", 0, "tariff_ids", 0], 36, id="Connector.tariff_ids"),
]


def _sized(path: list[Any], length: int) -> dict[str, Any]:
    payload: dict[str, Any] = location_payload()
    # Fixed-size ids stay valid at their full length; the others at any length up to it.
    _set(path)(payload, "A" * length)
    return payload


@pytest.mark.parametrize(("path", "length"), LENGTHS)
def test_field_at_its_maximum_length_is_accepted(path: list[Any], length: int) -> None:
    serializer = LocationSerializer(data=_sized(path, length))

    assert serializer.is_valid(), serializer.errors


@pytest.mark.parametrize(("path", "length"), LENGTHS)
def test_field_one_longer_than_its_maximum_is_refused(path: list[Any], length: int) -> None:
    assert not LocationSerializer(data=_sized(path, length + 1)).is_valid()


@pytest.mark.parametrize(
    ("field", "length"),
    [("uid", 36), ("group_id", 36), ("visual_number", 64), ("issuer", 64)],
)
def test_publish_token_lengths(field: str, length: int) -> None:
    token = {"uid": "U1", "type": "RFID", "visual_number": "V1", "issuer": "I1", "group_id": "G"}
    accepted = location_payload(publish=False, publish_allowed_to=[{**token, field: "A" * length}])
    refused = location_payload(
        publish=False, publish_allowed_to=[{**token, field: "A" * (length + 1)}]
    )

    assert LocationSerializer(data=accepted).is_valid()
    assert not LocationSerializer(data=refused).is_valid()


# --- other rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latitude", "longitude", "valid"),
    [
        ("51.047599", "3.729944", True),
        ("-51.04759", "-126.104965", True),
        ("-5.0475912", "-26.1049651", True),
        ("-51.0475912", "3.729944", False),  # 11 characters: the regex allows it, string(10) not
        ("51.047599", "-126.1049651", False),  # the regex allows 12 characters, string(11) not
        ("51.0475", "3.729944", False),  # 4 decimals
        ("51.04759912", "3.729944", False),  # 8 decimals
        ("151.047599", "3.729944", False),  # 3 integer digits
        ("91.000000", "3.729944", False),  # beyond the pole
        ("51.047599", "181.000000", False),
        ("51,047599", "3.729944", False),  # decimal comma
    ],
)
def test_geo_location_pattern(latitude: str, longitude: str, valid: bool) -> None:
    payload = location_payload(coordinates={"latitude": latitude, "longitude": longitude})

    assert LocationSerializer(data=payload).is_valid() is valid


def test_coordinates_as_numbers_are_refused() -> None:
    payload = location_payload(coordinates={"latitude": 51.047599, "longitude": 3.729944})

    assert errors_of(LocationSerializer, payload) == {
        "coordinates": {"latitude": ["Not a valid string."], "longitude": ["Not a valid string."]}
    }


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ({"type": "RFID"}, "At least one of uid, visual_number or group_id SHALL be set."),
        ({"uid": "12345678905880"}, "SHALL be set when uid is set."),
        ({"visual_number": "12345-67"}, "SHALL be set when visual_number is."),
    ],
)
def test_publish_token_rules(token: dict[str, str], message: str) -> None:
    payload = location_payload(publish=False, publish_allowed_to=[token])

    errors = errors_of(LocationSerializer, payload)

    assert message in json.dumps(errors["publish_allowed_to"])


def test_group_id_alone_is_a_valid_publish_token() -> None:
    payload = location_payload(publish=False, publish_allowed_to=[{"group_id": "DEPOT-1"}])

    assert LocationSerializer(data=payload).is_valid()


def test_publish_allowed_to_with_publish_true_is_refused() -> None:
    payload = location_payload(publish=True, publish_allowed_to=[{"group_id": "DEPOT-1"}])

    assert errors_of(LocationSerializer, payload) == {
        "publish_allowed_to": ["May only be used when publish is false."]
    }


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        ({"twentyfourseven": False}, "regular_hours"),
        (
            {
                "twentyfourseven": True,
                "regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}],
            },
            "regular_hours",
        ),
        ({"twentyfourseven": "true"}, "twentyfourseven"),
    ],
)
def test_hours_rules(hours: dict[str, Any], field: str) -> None:
    assert list(errors_of(HoursSerializer, hours)) == [field]


@pytest.mark.parametrize(
    ("regular", "field"),
    [
        ({"weekday": 0, "period_begin": "08:00", "period_end": "20:00"}, "weekday"),
        ({"weekday": 8, "period_begin": "08:00", "period_end": "20:00"}, "weekday"),
        ({"weekday": "1", "period_begin": "08:00", "period_end": "20:00"}, "weekday"),
        ({"weekday": 1, "period_begin": "8:00", "period_end": "20:00"}, "period_begin"),
        ({"weekday": 1, "period_begin": "08:00", "period_end": "24:00"}, "period_end"),
        ({"weekday": 1, "period_begin": "20:00", "period_end": "08:00"}, "period_end"),
    ],
)
def test_regular_hours_rules(regular: dict[str, Any], field: str) -> None:
    hours = {"twentyfourseven": False, "regular_hours": [regular]}

    assert list(errors_of(HoursSerializer, hours)["regular_hours"]["0"]) == [field]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"publish": "true"}, "publish"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "+01:00"}, "time_zone"),
        ({"country": "bel"}, "country"),
        ({"country": "BE"}, "country"),
        ({"last_updated": "2015-06-29T20:39:09+01:00"}, "last_updated"),
        ({"charging_when_closed": 1}, "charging_when_closed"),
        ({"parking_type": "on_street"}, "parking_type"),
        ({"facilities": ["CAFE", "CAFE"]}, "facilities"),
    ],
)
def test_location_field_rules(overrides: dict[str, Any], field: str) -> None:
    assert list(errors_of(LocationSerializer, location_payload(**overrides))) == [field]


def test_evse_uids_are_unique_within_a_location_case_insensitively() -> None:
    payload = location_payload(evses=2)
    payload["evses"][1]["uid"] = payload["evses"][0]["uid"].lower()

    assert errors_of(LocationSerializer, payload) == {
        "evses": [f"Duplicate EVSE uid: {payload['evses'][1]['uid']}."]
    }


def test_an_evse_id_may_repeat_only_on_removed_evses() -> None:
    payload = location_payload(evses=3)
    for evse in payload["evses"]:
        evse["evse_id"] = "BE*BEC*E1"
    payload["evses"][0]["status"] = "REMOVED"
    payload["evses"][1]["status"] = "REMOVED"

    assert LocationSerializer(data=payload).is_valid()


def test_connector_ids_are_unique_within_an_evse() -> None:
    payload = location_payload()
    connectors = payload["evses"][0]["connectors"]
    connectors[1]["id"] = connectors[0]["id"]

    errors = errors_of(LocationSerializer, payload)

    assert errors == {"evses": {"0": {"connectors": ["Duplicate connector id: 1."]}}}


def test_an_evse_needs_at_least_one_connector() -> None:
    payload = location_payload()
    payload["evses"][0]["connectors"] = []

    errors = errors_of(LocationSerializer, payload)

    assert errors == {
        "evses": {"0": {"connectors": {"non_field_errors": ["This list may not be empty."]}}}
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"max_voltage": "220"}, "max_voltage"),
        ({"max_voltage": 220.5}, "max_voltage"),
        ({"max_amperage": True}, "max_amperage"),
        ({"max_amperage": -1}, "max_amperage"),
        ({"max_electric_power": "22000"}, "max_electric_power"),
        ({"terms_and_conditions": "not a url"}, "terms_and_conditions"),
        ({"tariff_ids": ["11", "11"]}, "tariff_ids"),
        ({"last_updated": "2015-03-16 10:10:02"}, "last_updated"),
    ],
)
def test_connector_field_rules(overrides: dict[str, Any], field: str) -> None:
    connector = {**example("location_example.json")["evses"][0]["connectors"][0], **overrides}

    assert list(errors_of(ConnectorSerializer, connector)) == [field]


def test_datetimes_without_z_are_utc_and_rendered_with_z() -> None:
    payload = location_payload(last_updated="2015-06-29T20:39:09")

    location = upsert(payload)

    rendered = plain(LocationSerializer(location_for_render(location.pk)).data)
    assert rendered["last_updated"] == "2015-06-29T20:39:09Z"
