"""The CDR classes (mod_cdrs.asciidoc, Object description and Data types).

The same serializers check a CDR (the spec's example, or one built here) into data keyed by
model attribute, and render stored CDRs. What the model keeps as JSON in its OCPI form (the
CdrLocation, the Tariffs, the charging periods, SignedData) is checked on the way in and
written back as stored, so a CDR is sent exactly as it was sealed.
"""

from decimal import Decimal
from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty

from cdrs.models import CREDIT_ID_LENGTH, ID_LENGTH
from locations.serializers import GeoLocationSerializer
from ocpi.fields import (
    CiStringField,
    CurrencyField,
    DateTimeField,
    NumberField,
    StoredJsonField,
    StrictBooleanField,
    StringField,
    optional,
    optional_text,
)
from ocpi.serializers import BlankOmittingSerializer, OcpiSerializer
from sessions import serializers as sessions_serializers
from sessions.models import MONEY_DIGITS, MONEY_PLACES, AuthMethod
from sessions.serializers import plain
from tariffs.engine import SESSION_ONLY_DIMENSIONS, CdrDimension
from tariffs.serializers import TariffSerializer
from tokens.models import TokenType

# "SHALL only be used in Sessions" (CdrDimensionType): never in a CDR's charging periods.
CDR_DIMENSIONS = [kind.value for kind in CdrDimension if kind not in SESSION_ONLY_DIMENSIONS]


class AmountField(NumberField):
    """A number with the 4 decimals of the CDR's columns (more would be silently rounded),
    written without the columns' trailing zeros, like the Session's (4.4, not 4.4000)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return plain(Decimal(value))


def _amount(**kwargs: Any) -> AmountField:
    return AmountField(**kwargs)


class PriceField(serializers.Field[Any, Any, Any, Any]):
    """A Price (types.asciidoc) kept in two columns, `<name>_excl_vat` and `<name>_incl_vat`.

    Negative amounts are allowed: a credit CDR carries the original's costs negated.
    """

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.excl, self.incl = f"{name}_excl_vat", f"{name}_incl_vat"
        super().__init__(source="*", **kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        # source="*" merges the value into the CDR's data: null must merge as two Nones.
        if data is None and self.allow_null:
            return True, {self.excl: None, self.incl: None}
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> dict[str, Decimal | None]:
        checked = CdrPriceSerializer(data=data)
        if not checked.is_valid():
            raise serializers.ValidationError(checked.errors)
        values = checked.validated_data
        return {self.excl: values["excl_vat"], self.incl: values.get("incl_vat")}

    def to_representation(self, instance: Any) -> dict[str, Decimal] | None:
        excl, incl = getattr(instance, self.excl), getattr(instance, self.incl)
        if excl is None:
            return None
        if incl is None:
            return {"excl_vat": plain(excl)}
        return {"excl_vat": plain(excl), "incl_vat": plain(incl)}


class CdrPriceSerializer(OcpiSerializer):
    excl_vat = _amount()
    incl_vat = optional(AmountField)


class CdrDimensionSerializer(sessions_serializers.CdrDimensionSerializer):
    """CdrDimension as a CDR may carry it: no Session-only type."""

    type = serializers.ChoiceField(
        choices=CDR_DIMENSIONS,
        error_messages={
            "invalid_choice": '"{input}" is not a CdrDimensionType allowed in a CDR '
            "(CURRENT, ENERGY_EXPORT, ENERGY_IMPORT, POWER and STATE_OF_CHARGE are "
            "Session-only)."
        },
    )


class ChargingPeriodSerializer(sessions_serializers.ChargingPeriodSerializer):
    dimensions = CdrDimensionSerializer(many=True, allow_empty=False)


class CdrTokenSerializer(OcpiSerializer):
    """CdrToken (mod_cdrs), kept in the CDR's token_* columns."""

    country_code = CiStringField(max_length=2, min_length=2, source="token_country_code")
    party_id = CiStringField(max_length=3, min_length=3, source="token_party_id")
    uid = CiStringField(max_length=36, min_length=1, source="token_uid")
    type = serializers.ChoiceField(choices=TokenType.choices, source="token_type")
    contract_id = CiStringField(max_length=36, min_length=1)


class CdrLocationSerializer(sessions_serializers.CdrLocationSerializer):
    """CdrLocation (mod_cdrs) with its own lengths (address 45, state 20: the errata widened
    Location's only) and coordinates checked as a Location's are."""

    coordinates = GeoLocationSerializer()  # type: ignore[assignment]


class SignedValueSerializer(OcpiSerializer):
    nature = CiStringField(max_length=32, min_length=1)
    plain_data = StringField(max_length=5000)  # errata: was 512
    signed_data = StringField(max_length=5000)


class SignedDataSerializer(BlankOmittingSerializer):
    encoding_method = CiStringField(max_length=36, min_length=1)
    encoding_method_version = optional(serializers.IntegerField)
    public_key = optional_text(StringField, max_length=512)
    signed_values = SignedValueSerializer(many=True, allow_empty=False)
    url = optional_text(StringField, max_length=512)


class CdrSerializer(BlankOmittingSerializer):
    """The CDR object (mod_cdrs, CDR Object)."""

    country_code = CiStringField(max_length=2, min_length=2)
    party_id = CiStringField(max_length=3, min_length=3)
    id = CiStringField(max_length=CREDIT_ID_LENGTH, min_length=1, source="ocpi_id")
    start_date_time = DateTimeField()
    end_date_time = DateTimeField()
    session_id = optional_text(CiStringField, max_length=36)
    cdr_token = CdrTokenSerializer(source="*")
    auth_method = serializers.ChoiceField(choices=AuthMethod.choices)
    authorization_reference = optional_text(CiStringField, max_length=36)
    cdr_location = StoredJsonField(CdrLocationSerializer)
    meter_id = optional_text(StringField, max_length=255)
    currency = CurrencyField()
    tariffs = StoredJsonField(TariffSerializer, many=True, required=False, allow_null=True)
    charging_periods = StoredJsonField(ChargingPeriodSerializer, many=True, allow_empty=False)
    signed_data = StoredJsonField(SignedDataSerializer, required=False, allow_null=True)
    total_cost = PriceField("total_cost")
    total_fixed_cost = PriceField("total_fixed_cost", required=False, allow_null=True)
    total_energy = _amount()
    total_energy_cost = PriceField("total_energy_cost", required=False, allow_null=True)
    total_time = _amount(min_value=Decimal(0))
    total_time_cost = PriceField("total_time_cost", required=False, allow_null=True)
    total_parking_time = optional(AmountField, min_value=Decimal(0))
    total_parking_cost = PriceField("total_parking_cost", required=False, allow_null=True)
    total_reservation_cost = PriceField("total_reservation_cost", required=False, allow_null=True)
    remark = optional_text(StringField, max_length=255)
    invoice_reference_id = optional_text(CiStringField, max_length=CREDIT_ID_LENGTH)
    credit = optional(StrictBooleanField)
    credit_reference_id = optional_text(CiStringField, max_length=CREDIT_ID_LENGTH)
    home_charging_compensation = optional(StrictBooleanField)
    last_updated = DateTimeField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        credit = bool(attrs.get("credit"))
        if not credit and len(attrs["ocpi_id"]) > ID_LENGTH:
            errors["id"] = [f"A CDR that is no credit CDR has an id of at most {ID_LENGTH}."]
        if credit and not attrs.get("credit_reference_id"):
            errors["credit_reference_id"] = ["Required for a credit CDR."]
        if not credit and attrs.get("credit_reference_id"):
            errors["credit_reference_id"] = ["Only a credit CDR (credit: true) refers to one."]
        if attrs["end_date_time"] < attrs["start_date_time"]:
            errors["end_date_time"] = ["Must not be before start_date_time."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        # "the fields credit and credit_reference_id omitted" on a CDR that is no credit.
        if not data.get("credit"):
            data.pop("credit", None)
        return data

    def run_validation(self, data: Any = empty) -> Any:
        validated = super().run_validation(data)
        # Optional fields sent as null are absent (the columns keep "" for absent text).
        cleaned = {
            name: ("" if value is None and name in _TEXT_COLUMNS else value)
            for name, value in validated.items()
        }
        if cleaned.get("credit") is None:
            cleaned["credit"] = False
        if "tariffs" in cleaned and cleaned["tariffs"] is None:
            cleaned["tariffs"] = []  # `*`: absent, null and [] are the same
        return cleaned


_TEXT_COLUMNS = frozenset(
    {
        "session_id",
        "authorization_reference",
        "meter_id",
        "remark",
        "invoice_reference_id",
        "credit_reference_id",
    }
)
