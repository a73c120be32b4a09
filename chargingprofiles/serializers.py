"""The classes of mod_charging_profiles, with the cardinalities and limits of their tables.

Limits and min_charging_rate have at most one decimal ("Accepts at most one digit
fraction"); a SetChargingProfile must carry at least one period, in increasing start_period
order from 0, because OCPP charge points refuse anything else (OCPP 1.6 §7.13, 2.0.1 K01):
such a profile is refused at once (2001) rather than sent to fail at the charge point.
"""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from chargers.smart_charging import RateUnit
from ocpi.fields import DateTimeField, NumberField, UrlField, optional
from ocpi.netsafety import check_response_url
from ocpi.serializers import OcpiSerializer

MAX_DURATION = 7 * 24 * 3600  # a week: far beyond any useful schedule of one session
MAX_PERIODS = 1024  # OCPP 2.0.1 ChargingScheduleType: a charge point keeps no more


class ChargingProfilePeriodSerializer(OcpiSerializer):
    start_period = serializers.IntegerField(min_value=0, max_value=MAX_DURATION)
    limit = NumberField(
        min_value=Decimal(0), max_value=Decimal(10**9), max_digits=11, decimal_places=1
    )


class ChargingProfileSerializer(OcpiSerializer):
    start_date_time = optional(DateTimeField)
    duration = optional(serializers.IntegerField, min_value=1, max_value=MAX_DURATION)
    charging_rate_unit = serializers.ChoiceField(choices=[u.value for u in RateUnit])
    min_charging_rate = optional(
        NumberField, min_value=Decimal(0), max_value=Decimal(10**9), max_digits=11, decimal_places=1
    )
    charging_profile_period = ChargingProfilePeriodSerializer(
        many=True, required=False, allow_null=True
    )

    def validate_charging_profile_period(self, value: Any) -> Any:
        if value is not None and len(value) > MAX_PERIODS:
            raise serializers.ValidationError(f"At most {MAX_PERIODS} periods")
        starts = [period["start_period"] for period in value or []]
        if starts != sorted(set(starts)):
            raise serializers.ValidationError("start_period must increase from one to the next")
        return value


class ResponseUrlSerializer(OcpiSerializer):
    response_url = UrlField()

    def validate_response_url(self, value: str) -> str:
        """Checked like every partner URL, before anything is stored (ocpi.netsafety)."""
        refused = check_response_url(value)
        if refused is not None:
            raise serializers.ValidationError(f"response_url refused: {refused}")
        return value


class SetChargingProfileSerializer(ResponseUrlSerializer):
    charging_profile = ChargingProfileSerializer()

    def validate_charging_profile(self, value: dict[str, Any]) -> dict[str, Any]:
        periods = value.get("charging_profile_period") or []
        if not periods:
            raise serializers.ValidationError("A profile to set needs charging_profile_period")
        if periods[0]["start_period"] != 0:
            raise serializers.ValidationError("The first period must start at start_period 0")
        return value


class ActiveChargingProfileSerializer(OcpiSerializer):
    start_date_time = DateTimeField()
    charging_profile = ChargingProfileSerializer()


class CompositeQuerySerializer(ResponseUrlSerializer):
    """GET's URL parameters (DELETE's: ResponseUrlSerializer)."""

    duration = serializers.IntegerField(min_value=1, max_value=MAX_DURATION)
