"""The Tariff classes (mod_tariffs.asciidoc, Object description): validation and rendering.

The same serializers read a pushed or typed-in Tariff (validation) and write ours from model
instances (rendering). Rendering reads only prefetched relations, so a page of tariffs costs
the same queries whatever the number of elements and components.
"""

import re
from datetime import date
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from ocpi.fields import (
    CiStringField,
    CurrencyField,
    DateTimeField,
    NumberField,
    StringField,
    UrlField,
    optional,
)
from ocpi.serializers import (
    BlankOmittingSerializer,
    DisplayTextSerializer,
    EnergyMixSerializer,
    OcpiSerializer,
    PriceSerializer,
)
from tariffs.models import (
    DECIMAL_PLACES,
    MAX_DIGITS,
    DayOfWeek,
    ReservationRestrictionType,
    TariffDimensionType,
    TariffType,
)

# TariffRestrictions regexes, verbatim from the spec's table.
_TIME = re.compile(r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")
_DATE = re.compile(r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
# A reservation element prices the reservation: FLAT and TIME only (TariffRestrictions).
RESERVATION_DIMENSIONS = {TariffDimensionType.FLAT, TariffDimensionType.TIME}


def _amount(**kwargs: Any) -> NumberField:
    """A number with the 4 decimals our columns keep: more would be silently rounded."""
    return NumberField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


def _optional_amount() -> NumberField:
    return _amount(required=False, allow_null=True, min_value=Decimal(0))


class TariffPriceSerializer(PriceSerializer):
    """Price (types.asciidoc) limited to the 4 decimals of the tariff's money columns."""

    excl_vat = _amount(min_value=Decimal(0))
    incl_vat = _optional_amount()


class LocalTimeField(StringField):
    """string(5) `HH:MM`, 24 h with leading zeros (TariffRestrictions start_time/end_time)."""

    default_error_messages = {"format": "Must be HH:MM (24 h, leading zeros)."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=5, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not _TIME.match(value):
            self.fail("format")
        return value


class LocalDateField(StringField):
    """string(10) `YYYY-MM-DD`, a real calendar date (TariffRestrictions start_date/end_date)."""

    default_error_messages = {"format": "Must be a date YYYY-MM-DD."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=10, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not _DATE.match(value):
            self.fail("format")
        try:
            date.fromisoformat(value)
        except ValueError:
            self.fail("format")
        return value


class TariffRestrictionsSerializer(BlankOmittingSerializer):
    start_time = optional(LocalTimeField)
    end_time = optional(LocalTimeField)
    start_date = optional(LocalDateField)
    end_date = optional(LocalDateField)
    min_kwh = _optional_amount()
    max_kwh = _optional_amount()
    min_current = _optional_amount()
    max_current = _optional_amount()
    min_power = _optional_amount()
    max_power = _optional_amount()
    min_duration = optional(serializers.IntegerField, min_value=0)
    max_duration = optional(serializers.IntegerField, min_value=0)
    day_of_week = serializers.ListField(
        child=serializers.ChoiceField(choices=DayOfWeek.choices),
        required=False,
        allow_null=True,
    )
    reservation = optional(serializers.ChoiceField, choices=ReservationRestrictionType.choices)

    def validate_day_of_week(self, value: list[str] | None) -> list[str] | None:
        if value and len(set(value)) != len(value):
            raise serializers.ValidationError("Each day may appear once.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = {}
        for low, high in (
            ("min_kwh", "max_kwh"),
            ("min_current", "max_current"),
            ("min_power", "max_power"),
            ("min_duration", "max_duration"),
            ("start_date", "end_date"),
        ):
            both = attrs.get(low) is not None and attrs.get(high) is not None
            if both and attrs[low] > attrs[high]:
                errors[high] = [f"Must not be less than {low}."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PriceComponentSerializer(OcpiSerializer):
    type = serializers.ChoiceField(choices=TariffDimensionType.choices)
    price = _amount(min_value=Decimal(0))
    # Absent means "no VAT applicable", which the spec distinguishes from 0.0.
    vat = _optional_amount()
    step_size = serializers.IntegerField(min_value=0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # FLAT has no unit to step in (the free-of-charge example sends 0); others need one.
        if attrs["type"] != TariffDimensionType.FLAT and attrs["step_size"] < 1:
            raise serializers.ValidationError(
                {"step_size": [f"Must be at least 1 for {attrs['type']}."]}
            )
        return attrs


class TariffElementSerializer(OcpiSerializer):
    price_components = PriceComponentSerializer(many=True, allow_empty=False)
    restrictions = TariffRestrictionsSerializer(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        restrictions = attrs.get("restrictions") or {}
        if restrictions.get("reservation"):
            wrong = [
                c["type"]
                for c in attrs["price_components"]
                if c["type"] not in RESERVATION_DIMENSIONS
            ]
            if wrong:
                raise serializers.ValidationError(
                    {
                        "price_components": [
                            "A reservation element may only have FLAT and TIME components, "
                            f"not {', '.join(wrong)}."
                        ]
                    }
                )
        return attrs


class TariffSerializer(BlankOmittingSerializer):
    country_code = CiStringField(max_length=2, min_length=2)
    party_id = CiStringField(max_length=3, min_length=3)
    id = CiStringField(max_length=36, min_length=1, source="ocpi_id")
    currency = CurrencyField()
    type = optional(serializers.ChoiceField, choices=TariffType.choices)
    tariff_alt_text = DisplayTextSerializer(many=True, required=False, allow_null=True)
    tariff_alt_url = optional(UrlField)
    min_price = TariffPriceSerializer(required=False, allow_null=True)
    max_price = TariffPriceSerializer(required=False, allow_null=True)
    elements = TariffElementSerializer(many=True, allow_empty=False)
    start_date_time = optional(DateTimeField)
    end_date_time = optional(DateTimeField)
    energy_mix = EnergyMixSerializer(required=False, allow_null=True)
    last_updated = DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        start, end = attrs.get("start_date_time"), attrs.get("end_date_time")
        if start is not None and end is not None and start > end:
            errors["end_date_time"] = ["Must not be before start_date_time."]
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low and high:
            for part in ("excl_vat", "incl_vat"):
                both = low.get(part) is not None and high.get(part) is not None
                if both and low[part] > high[part]:
                    errors.setdefault("max_price", []).append(
                        f"{part} must not be less than min_price.{part}."
                    )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs
