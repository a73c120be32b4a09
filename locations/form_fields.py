"""Inputs of the Locations module's own classes (mod_locations): Hours with its regular and
exceptional periods, PublishTokenType, AdditionalGeoLocation and StatusSchedule.

Built on ocpi.form_rows (an object's inputs, a list's rows); the rules stay with
locations.serializers, which the location and EVSE forms run on the whole object.
"""

from collections.abc import Mapping
from typing import Any

from django import forms

from locations.models import Status, TokenType
from ocpi.form_rows import OcpiObjectForm, RowsField, ZonedDateTimeField, choices_with_blank
from ocpi.object_forms import choice_input, text_input

WEEKDAYS = [
    (1, "1 Monday"),
    (2, "2 Tuesday"),
    (3, "3 Wednesday"),
    (4, "4 Thursday"),
    (5, "5 Friday"),
    (6, "6 Saturday"),
    (7, "7 Sunday"),
]


def _local_time(label: str) -> forms.CharField:
    return forms.CharField(
        required=False,
        label=label,
        help_text="HH:MM, the location's local time",
        widget=forms.TextInput(attrs={"type": "time"}),
    )


class RegularHoursForm(OcpiObjectForm):
    weekday = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=choices_with_blank(WEEKDAYS),
        label="weekday",
    )
    period_begin = _local_time("period_begin")
    period_end = _local_time("period_end")


class ExceptionalPeriodForm(OcpiObjectForm):
    # In the location's zone (LocationForm sets it), stored in UTC.
    period_begin = ZonedDateTimeField(label="period_begin")
    period_end = ZonedDateTimeField(label="period_end")


class HoursForm(OcpiObjectForm):
    twentyfourseven = forms.BooleanField(
        required=False, label="twentyfourseven", help_text="Open 24/7: then no regular hours"
    )
    regular_hours = RowsField(
        RegularHoursForm,
        label="regular_hours",
        help_text="Needed unless 24/7; several rows per weekday for a break",
    )
    exceptional_openings = RowsField(
        ExceptionalPeriodForm, label="exceptional_openings", help_text="Open in these periods"
    )
    exceptional_closings = RowsField(
        ExceptionalPeriodForm, label="exceptional_closings", help_text="Closed in these periods"
    )


class PublishTokenTypeForm(OcpiObjectForm):
    uid = text_input(label="uid", help_text="with type")
    type = choice_input(TokenType.choices, label="type")
    visual_number = text_input(label="visual_number", help_text="with issuer")
    issuer = text_input(label="issuer")
    group_id = text_input(label="group_id")


class AdditionalGeoLocationForm(OcpiObjectForm):
    """Flat in its row: the optional `name` DisplayText is two more columns."""

    latitude = text_input(label="latitude", help_text="e.g. 51.047599")
    longitude = text_input(label="longitude", help_text="e.g. 3.729944")
    name_language = text_input(label="name: language", help_text="ISO 639-1, e.g. en")
    name_text = text_input(label="name: text", help_text="e.g. Entrance")

    def to_ocpi(self) -> dict[str, Any]:
        data = super().to_ocpi()
        name = {
            key: data.pop(f"name_{key}") for key in ("language", "text") if f"name_{key}" in data
        }
        return {**data, "name": name} if name else data

    @classmethod
    def initial_from(cls, obj: Mapping[str, Any]) -> dict[str, Any]:
        name = obj.get("name") or {}
        return {
            "latitude": obj.get("latitude"),
            "longitude": obj.get("longitude"),
            "name_language": name.get("language"),
            "name_text": name.get("text"),
        }


class StatusScheduleForm(OcpiObjectForm):
    period_begin = ZonedDateTimeField(label="period_begin")
    period_end = ZonedDateTimeField(label="period_end", note="blank = open end")
    status = choice_input(Status.choices, label="status")
