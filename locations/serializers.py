"""One serializer per class of the Locations module (mod_locations.asciidoc, errata lengths).

They validate OCPI payloads (admin forms, seed data, tests, later the hub's Receiver side)
into data keyed by model attribute (`id` → `ocpi_id`, `coordinates` stays a dict), and
render model instances (EVSEs and connectors prefetched: no query per object). Optional
fields that are null, empty lists or empty strings are not written.
"""

import re
import zoneinfo
from collections.abc import Iterable
from functools import cache
from typing import Any

from rest_framework import serializers

from locations.fields import StrictIntegerField
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
from ocpi.fields import (
    CiStringField,
    DateTimeField,
    StoredJsonField,
    StrictBooleanField,
    StringField,
    UrlField,
    optional,
    optional_text,
)
from ocpi.serializers import (
    BlankOmittingSerializer,
    BusinessDetailsSerializer,
    DisplayTextSerializer,
    EnergyMixSerializer,
    EnergySourceSerializer,
    EnvironmentalImpactSerializer,
    ImageSerializer,
)

__all__ = [
    "AdditionalGeoLocationSerializer",
    "BusinessDetailsSerializer",
    "ConnectorSerializer",
    "DisplayTextSerializer",
    "EVSESerializer",
    "EnergyMixSerializer",
    "EnergySourceSerializer",
    "EnvironmentalImpactSerializer",
    "ExceptionalPeriodSerializer",
    "GeoLocationSerializer",
    "HoursSerializer",
    "ImageSerializer",
    "LocationSerializer",
    "PublishTokenTypeSerializer",
    "RegularHoursSerializer",
    "StatusScheduleSerializer",
]

LATITUDE = re.compile(r"^-?[0-9]{1,2}\.[0-9]{5,7}$")
LONGITUDE = re.compile(r"^-?[0-9]{1,3}\.[0-9]{5,7}$")
HOUR_MINUTE = re.compile(r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")
ISO_ALPHA_3 = re.compile(r"^[A-Z]{3}$")
IANA_ZONE_SHAPE = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$")


def _choice(enum: Any, **kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=enum.choices, **kwargs)


def _choices(enum: Any) -> serializers.ListField:
    """A `*` list of enum values (absent, null or [] accepted); stored and written as strings."""
    return serializers.ListField(child=_choice(enum), required=False, allow_null=True)


def _stored(serializer_class: type[serializers.Serializer], *, many: bool = False) -> Any:  # type: ignore[type-arg]
    return StoredJsonField(serializer_class, many=many, required=False, allow_null=True)


@cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class GeoLocationSerializer(BlankOmittingSerializer):
    """WGS 84 decimal degrees as strings, 5 to 7 decimals (mod_locations, GeoLocation)."""

    latitude = StringField(max_length=10)
    longitude = StringField(max_length=11)

    def validate_latitude(self, value: str) -> str:
        if not LATITUDE.match(value) or abs(float(value)) > 90:
            raise serializers.ValidationError(
                r"Must match -?[0-9]{1,2}\.[0-9]{5,7} and lie within ±90, e.g. 51.047599."
            )
        return value

    def validate_longitude(self, value: str) -> str:
        if not LONGITUDE.match(value) or abs(float(value)) > 180:
            raise serializers.ValidationError(
                r"Must match -?[0-9]{1,3}\.[0-9]{5,7} and lie within ±180, e.g. 3.729944."
            )
        return value


class AdditionalGeoLocationSerializer(GeoLocationSerializer):
    name = optional(DisplayTextSerializer)


class PublishTokenTypeSerializer(BlankOmittingSerializer):
    """Who may be shown an unpublished location (mod_locations, PublishTokenType)."""

    uid = optional_text(CiStringField, max_length=36)
    type = optional(serializers.ChoiceField, choices=TokenType.choices)
    visual_number = optional_text(StringField, max_length=64)
    issuer = optional_text(StringField, max_length=64)
    group_id = optional_text(CiStringField, max_length=36)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs.get("uid") or attrs.get("visual_number") or attrs.get("group_id")):
            raise serializers.ValidationError(
                "At least one of uid, visual_number or group_id SHALL be set."
            )
        if attrs.get("uid") and not attrs.get("type"):
            raise serializers.ValidationError({"type": "SHALL be set when uid is set."})
        if attrs.get("visual_number") and not attrs.get("issuer"):
            raise serializers.ValidationError({"issuer": "SHALL be set when visual_number is."})
        return attrs


class RegularHoursSerializer(BlankOmittingSerializer):
    weekday = StrictIntegerField(min_value=1, max_value=7)
    period_begin = StringField(max_length=5)
    period_end = StringField(max_length=5)

    def _hour_minute(self, value: str) -> str:
        if not HOUR_MINUTE.match(value):
            raise serializers.ValidationError("Must be HH:MM in 24h format, e.g. 18:15.")
        return value

    validate_period_begin = validate_period_end = _hour_minute

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["period_end"] <= attrs["period_begin"]:
            raise serializers.ValidationError({"period_end": "Must be later than period_begin."})
        return attrs


class ExceptionalPeriodSerializer(BlankOmittingSerializer):
    period_begin = DateTimeField()
    period_end = DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["period_end"] <= attrs["period_begin"]:
            raise serializers.ValidationError({"period_end": "Must be later than period_begin."})
        return attrs


class HoursSerializer(BlankOmittingSerializer):
    twentyfourseven = StrictBooleanField()
    regular_hours = RegularHoursSerializer(many=True, required=False, allow_null=True)
    exceptional_openings = ExceptionalPeriodSerializer(many=True, required=False, allow_null=True)
    exceptional_closings = ExceptionalPeriodSerializer(many=True, required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        regular = attrs.get("regular_hours") or []
        if attrs["twentyfourseven"] and regular:
            raise serializers.ValidationError(
                {"regular_hours": "Only to be used when twentyfourseven is false."}
            )
        if not attrs["twentyfourseven"] and not regular:
            raise serializers.ValidationError(
                {"regular_hours": "At least one entry is needed when twentyfourseven is false."}
            )
        return attrs


class StatusScheduleSerializer(BlankOmittingSerializer):
    period_begin = DateTimeField()
    period_end = optional(DateTimeField)
    status = _choice(Status)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        end = attrs.get("period_end")
        if end is not None and end <= attrs["period_begin"]:
            raise serializers.ValidationError({"period_end": "Must be later than period_begin."})
        return attrs


class ConnectorSerializer(BlankOmittingSerializer):
    id = CiStringField(max_length=36, min_length=1, source="ocpi_id")
    standard = _choice(ConnectorType)
    format = _choice(ConnectorFormat)
    power_type = _choice(PowerType)
    max_voltage = StrictIntegerField(min_value=0, max_value=2_147_483_647)
    max_amperage = StrictIntegerField(min_value=0, max_value=2_147_483_647)
    max_electric_power = optional(StrictIntegerField, min_value=0, max_value=2_147_483_647)
    tariff_ids = serializers.ListField(
        child=CiStringField(max_length=36, min_length=1), required=False, allow_null=True
    )
    terms_and_conditions = optional_text(UrlField)
    last_updated = DateTimeField()

    def validate_tariff_ids(self, value: list[str] | None) -> list[str] | None:
        _refuse_duplicates(value or [], "tariff id")
        return value


class EVSESerializer(BlankOmittingSerializer):
    uid = CiStringField(max_length=36, min_length=1)
    evse_id = optional_text(CiStringField, max_length=48)
    status = _choice(Status)
    status_schedule = _stored(StatusScheduleSerializer, many=True)
    capabilities = _choices(Capability)
    connectors = ConnectorSerializer(many=True, allow_empty=False)
    floor_level = optional_text(StringField, max_length=4)
    coordinates = optional(GeoLocationSerializer)
    physical_reference = optional_text(StringField, max_length=16)
    directions = _stored(DisplayTextSerializer, many=True)
    parking_restrictions = _choices(ParkingRestriction)
    images = _stored(ImageSerializer, many=True)
    last_updated = DateTimeField()

    def validate_connectors(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        _refuse_duplicates((connector["ocpi_id"] for connector in value), "connector id")
        return value

    def validate_capabilities(self, value: list[str] | None) -> list[str] | None:
        _refuse_duplicates(value or [], "capability")
        return value

    def validate_parking_restrictions(self, value: list[str] | None) -> list[str] | None:
        _refuse_duplicates(value or [], "parking restriction")
        return value


class LocationSerializer(BlankOmittingSerializer):
    country_code = CiStringField(max_length=2, min_length=2)
    party_id = CiStringField(max_length=3, min_length=3)
    id = CiStringField(max_length=36, min_length=1, source="ocpi_id")
    publish = StrictBooleanField()
    publish_allowed_to = _stored(PublishTokenTypeSerializer, many=True)
    name = optional_text(StringField, max_length=255)
    address = StringField(max_length=255)
    city = StringField(max_length=45)
    postal_code = optional_text(StringField, max_length=10)
    state = optional_text(StringField, max_length=45)
    country = StringField(max_length=3)
    coordinates = GeoLocationSerializer()
    related_locations = _stored(AdditionalGeoLocationSerializer, many=True)
    parking_type = optional(serializers.ChoiceField, choices=ParkingType.choices)
    evses = EVSESerializer(many=True, required=False, allow_null=True)
    directions = _stored(DisplayTextSerializer, many=True)
    operator = _stored(BusinessDetailsSerializer)
    suboperator = _stored(BusinessDetailsSerializer)
    owner = _stored(BusinessDetailsSerializer)
    facilities = _choices(Facility)
    time_zone = StringField(max_length=255)
    opening_times = _stored(HoursSerializer)
    charging_when_closed = optional(StrictBooleanField)
    images = _stored(ImageSerializer, many=True)
    energy_mix = _stored(EnergyMixSerializer)
    last_updated = DateTimeField()

    def validate_country(self, value: str) -> str:
        if not ISO_ALPHA_3.match(value):
            raise serializers.ValidationError("Must be an ISO 3166-1 alpha-3 code, e.g. BEL.")
        return value

    def validate_time_zone(self, value: str) -> str:
        known = _known_time_zones()
        # Without a tz database on the host, accept what is shaped like an IANA name.
        if (known and value not in known) or not IANA_ZONE_SHAPE.match(value):
            raise serializers.ValidationError(
                "Must be an IANA time zone name, e.g. Europe/Brussels."
            )
        return value

    def validate_facilities(self, value: list[str] | None) -> list[str] | None:
        _refuse_duplicates(value or [], "facility")
        return value

    def validate_evses(self, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        evses = value or []
        _refuse_duplicates((evse["uid"] for evse in evses), "EVSE uid")
        _refuse_duplicates(
            (
                evse["evse_id"]
                for evse in evses
                if evse.get("evse_id") and evse["status"] != Status.REMOVED
            ),
            "evse_id among EVSEs that are not REMOVED",
        )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("publish") and attrs.get("publish_allowed_to"):
            raise serializers.ValidationError(
                {"publish_allowed_to": "May only be used when publish is false."}
            )
        return attrs

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if data.get("publish"):
            data.pop("publish_allowed_to", None)
        return data


def _refuse_duplicates(values: Iterable[str], what: str) -> None:
    """CiStrings compare case-insensitively, so `a` and `A` are the same id."""
    seen: set[str] = set()
    for value in values:
        if value.upper() in seen:
            raise serializers.ValidationError(f"Duplicate {what}: {value}.")
        seen.add(value.upper())
