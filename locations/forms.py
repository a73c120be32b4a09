"""Admin forms: operator input checked by the OCPI serializers, errors shown on the field.

Each form builds the OCPI object its fields describe, validates it with the serializer that
also checks partners' payloads, and keeps the validated data (`ocpi_data`) for the service
call in the admin's save. Rules that need other rows (a free evse_id, a local party) are
checked here too, so the operator sees them on the form, not as a server error.
"""

from typing import Any

from django import forms
from rest_framework import serializers

from credentials.selectors import local_party
from locations.form_fields import (
    AdditionalGeoLocationForm,
    HoursForm,
    PublishTokenTypeForm,
    StatusScheduleForm,
)
from locations.models import (
    EVSE,
    Capability,
    Connector,
    Facility,
    Location,
    ParkingRestriction,
    Status,
)
from locations.selectors import evse_id_taken
from locations.serializers import ConnectorSerializer, EVSESerializer, LocationSerializer
from locations.tariff_picker import TariffPickerField
from ocpi.display import known_zone
from ocpi.form_rows import ObjectField, RowsField, set_zone
from ocpi.object_forms import BusinessDetailsForm, DisplayTextForm, EnergyMixForm, ImageForm
from ocpi.routing import PartyRef
from ocpi.time import format_datetime, now


def _messages(detail: Any, prefix: str = "") -> list[str]:
    """Flatten serializer errors of nested objects into lines: `regular_hours: row 2: …: …`."""
    if isinstance(detail, dict):
        return [
            line
            for key, value in detail.items()
            for line in _messages(value, _nested(prefix, key, value))
        ]
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [f"{prefix}{item}" for item in detail]
        return [
            line
            for index, item in enumerate(detail)
            if item
            # Rows are numbered as the form's tables number them (ocpi.form_rows).
            for line in _messages(item, f"{prefix}row {index + 1}: ")
        ]
    return [f"{prefix}{detail}"]


def _nested(prefix: str, key: Any, value: Any = None) -> str:
    if key == "non_field_errors":
        return prefix
    if isinstance(key, int) and isinstance(value, dict):
        # An object of a list: numbered as the form's tables number rows (ocpi.form_rows).
        return f"{prefix}row {key + 1}: "
    return f"{prefix}{key}: "


def validate_into(
    form: forms.BaseForm,
    serializer: serializers.Serializer,  # type: ignore[type-arg]
    renames: dict[str, str],
) -> dict[str, Any] | None:
    """Run `serializer`; put each error on the form field it belongs to (or the form)."""
    if serializer.is_valid():
        data = dict(serializer.validated_data)
        # The form's "now" only made the object complete; the service stamps the save.
        data.pop("last_updated", None)
        return data
    for key, detail in serializer.errors.items():
        if key == "coordinates" and isinstance(detail, dict):
            for part, part_detail in detail.items():
                field = part if part in form.fields else None
                for line in _messages(part_detail):
                    form.add_error(field, line)
            continue
        name = renames.get(key, key)
        field = name if name in form.fields else None
        for line in _messages(detail, "" if field else f"{key}: "):
            form.add_error(field, line)
    return None


def _coordinates(cleaned: dict[str, Any]) -> dict[str, str] | None:
    latitude, longitude = cleaned.get("latitude") or "", cleaned.get("longitude") or ""
    if not (latitude or longitude):
        return None
    return {"latitude": latitude, "longitude": longitude}


def _checkboxes(enum: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=enum.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


LOCATION_STRUCTURED = (
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
LOCATION_TEXT = ("name", "address", "city", "postal_code", "state", "country", "time_zone")


def _business_details(role: str) -> ObjectField:
    return ObjectField(
        BusinessDetailsForm, help_text=f"The {role}; leave every input blank when not set."
    )


def _directions() -> RowsField:
    return RowsField(DisplayTextForm, help_text="Directions to the spot, one row per language.")


def _images() -> RowsField:
    return RowsField(ImageForm, help_text="Links to images; url, category and type are needed.")


def first_known_zone(*names: str | None) -> str:
    """The first of `names` that is a known IANA zone; UTC without one. Date-times typed on
    the location and EVSE pages are read on the location's clock; OCPI stores them in UTC."""
    for name in names:
        if name and known_zone(name.strip()) is not None:
            return name.strip()
    return "UTC"


class LocationForm(forms.ModelForm):  # type: ignore[type-arg]
    """The location page: every OCPI object and list through inputs (ocpi.form_rows)."""

    facilities = _checkboxes(Facility)
    publish_allowed_to = RowsField(
        PublishTokenTypeForm,
        help_text="Only while Publish is off: who may still see this location. Each row: "
        "uid with type, visual_number with issuer, or group_id.",
    )
    related_locations = RowsField(
        AdditionalGeoLocationForm,
        help_text="Other relevant points, e.g. an entrance; 5 to 7 decimals.",
    )
    directions = _directions()
    operator = _business_details("operator")
    suboperator = _business_details("suboperator")
    owner = _business_details("owner")
    opening_times = ObjectField(
        HoursForm,
        help_text="Tick 24/7 or give regular hours. Exceptional periods override them. "
        "Leave everything blank when unknown.",
    )
    images = _images()
    energy_mix = ObjectField(
        EnergyMixForm, help_text="The energy supplied here; leave blank when unknown."
    )

    class Meta:
        model = Location
        fields = [
            "country_code",
            "party_id",
            "ocpi_id",
            "roaming",
            "publish",
            "publish_allowed_to",
            "name",
            "address",
            "city",
            "postal_code",
            "state",
            "country",
            "latitude",
            "longitude",
            "related_locations",
            "parking_type",
            "directions",
            "operator",
            "suboperator",
            "owner",
            "facilities",
            "time_zone",
            "opening_times",
            "charging_when_closed",
            "images",
            "energy_mix",
        ]

    ocpi_data: dict[str, Any] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_zone([self.fields["opening_times"]], self.zone())

    def zone(self) -> str:
        """The zone exceptional periods are typed and shown in: the location's, as the page
        posts it (a zone changed with them holds for them), else as stored."""
        posted = self.data.get(self.add_prefix("time_zone")) if self.is_bound else None
        return first_known_zone(posted, self.instance.time_zone)

    def _key(self, cleaned: dict[str, Any], name: str) -> str:
        # Ids never change: on the change page they are read-only and come from the row.
        return str(cleaned[name] if name in self.fields else getattr(self.instance, name))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        country_code, party_id = self._key(cleaned, "country_code"), self._key(cleaned, "party_id")
        if "party_id" in self.fields and local_party(PartyRef.of(country_code, party_id)) is None:
            self.add_error("party_id", f"{country_code}*{party_id} is not a party of ours.")
            return cleaned
        payload: dict[str, Any] = {
            "country_code": country_code,
            "party_id": party_id,
            "id": self._key(cleaned, "ocpi_id"),
            "publish": cleaned.get("publish", False),
            **{name: cleaned.get(name) for name in LOCATION_TEXT},
            **{name: cleaned.get(name) for name in LOCATION_STRUCTURED},
            "coordinates": _coordinates(cleaned),
            "parking_type": cleaned.get("parking_type") or None,
            "facilities": cleaned.get("facilities") or [],
            "charging_when_closed": cleaned.get("charging_when_closed"),
            "last_updated": format_datetime(now()),
        }
        self.ocpi_data = validate_into(self, LocationSerializer(data=payload), {"id": "ocpi_id"})
        return cleaned


class EvseStatusForm(forms.ModelForm):  # type: ignore[type-arg]
    """The location page's EVSE row: only the status is edited there."""

    class Meta:
        model = EVSE
        fields = ["status"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        status = cleaned.get("status")
        if (
            status
            and status != Status.REMOVED
            and evse_id_taken(evse_id=self.instance.evse_id, other_than=self.instance)
        ):
            self.add_error("status", f"evse_id {self.instance.evse_id} is in use elsewhere.")
        return cleaned


class EvseForm(forms.ModelForm):  # type: ignore[type-arg]
    capabilities = _checkboxes(Capability)
    parking_restrictions = _checkboxes(ParkingRestriction)
    status_schedule = RowsField(
        StatusScheduleForm, help_text="Planned statuses, e.g. a maintenance window."
    )
    directions = _directions()
    images = _images()

    class Meta:
        model = EVSE
        fields = [
            "location",
            "uid",
            "evse_id",
            "status",
            "status_schedule",
            "capabilities",
            "floor_level",
            "latitude",
            "longitude",
            "physical_reference",
            "directions",
            "parking_restrictions",
            "images",
        ]

    ocpi_data: dict[str, Any] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_zone([self.fields["status_schedule"]], self.zone())

    def zone(self) -> str:
        """The zone planned statuses are typed and shown in: their location's, as the add
        page posts it, else as stored."""
        posted = self.data.get(self.add_prefix("location")) if self.is_bound else None
        location_id = posted if posted and str(posted).isdigit() else self.instance.location_id
        stored = (
            Location.objects.filter(pk=location_id).values_list("time_zone", flat=True).first()
            if location_id
            else None
        )
        return first_known_zone(stored)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        payload = {
            "uid": cleaned["uid"] if "uid" in self.fields else self.instance.uid,
            "evse_id": cleaned.get("evse_id"),
            "status": cleaned.get("status"),
            "status_schedule": cleaned.get("status_schedule"),
            "capabilities": cleaned.get("capabilities") or [],
            "floor_level": cleaned.get("floor_level"),
            "coordinates": _coordinates(cleaned),
            "physical_reference": cleaned.get("physical_reference"),
            "directions": cleaned.get("directions"),
            "parking_restrictions": cleaned.get("parking_restrictions") or [],
            "images": cleaned.get("images"),
            "last_updated": format_datetime(now()),
        }
        serializer = EVSESerializer(data=payload)
        serializer.fields.pop("connectors")  # the inline rows below, validated one by one
        self.ocpi_data = validate_into(self, serializer, {})
        if self.ocpi_data is not None and self.ocpi_data["status"] != Status.REMOVED:
            candidate = EVSE(pk=self.instance.pk, evse_id=self.ocpi_data.get("evse_id") or "")
            if evse_id_taken(evse_id=candidate.evse_id, other_than=candidate):
                self.add_error("evse_id", "Another EVSE that is not REMOVED has this evse_id.")
                self.ocpi_data = None
        return cleaned


class ConnectorForm(forms.ModelForm):  # type: ignore[type-arg]
    """A connector on its EVSE's page; `party` is the location's owner (EvseAdmin passes it)."""

    tariff_ids = TariffPickerField()

    class Meta:
        model = Connector
        fields = [
            "ocpi_id",
            "standard",
            "format",
            "power_type",
            "max_voltage",
            "max_amperage",
            "max_electric_power",
            "tariff_ids",
            "terms_and_conditions",
        ]

    ocpi_data: dict[str, Any] | None = None

    def __init__(self, *args: Any, party: PartyRef | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        picker = self.fields["tariff_ids"]
        assert isinstance(picker, TariffPickerField)
        picker.offer(party, list(self.instance.tariff_ids or []) if self.instance.pk else [])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        if self.instance.pk and cleaned["ocpi_id"].upper() != self.instance.ocpi_id.upper():
            self.add_error("ocpi_id", "Connector ids never change (mod_locations, Connector.id).")
            return cleaned
        payload = {
            "id": cleaned["ocpi_id"],
            **{
                name: cleaned.get(name)
                for name in (
                    "standard",
                    "format",
                    "power_type",
                    "max_voltage",
                    "max_amperage",
                    "max_electric_power",
                    "terms_and_conditions",
                )
            },
            "tariff_ids": cleaned.get("tariff_ids") or [],
            "last_updated": format_datetime(now()),
        }
        self.ocpi_data = validate_into(self, ConnectorSerializer(data=payload), {"id": "ocpi_id"})
        return cleaned


class SetStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
