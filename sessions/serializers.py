"""The Session classes (mod_sessions.asciidoc) and the mod_cdrs classes a Session is made of.

CdrToken, CdrDimension, ChargingPeriod and CdrLocation belong to mod_cdrs but a Session (or
what it freezes for its CDR) already carries them, so they live here, below the cdrs app,
which reuses them. Each validates OCPI JSON into plain data (Decimals, aware datetimes) and
renders it back; SessionSerializer also renders a stored Session (see `session_as_ocpi`).

Optional fields that are absent, null or "" are not written back (OcpiSerializer).
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from locations.models import ConnectorFormat, ConnectorType, PowerType
from locations.serializers import GeoLocationSerializer
from ocpi.fields import (
    CiStringField,
    CurrencyField,
    DateTimeField,
    NumberField,
    StrictBooleanField,
    StringField,
    optional,
    optional_text,
)
from ocpi.serializers import BlankOmittingSerializer, PriceSerializer
from sessions.models import (
    NOT_APPLICABLE,
    AuthMethod,
    Session,
    SessionChargingPeriod,
    SessionStatus,
)
from tariffs.engine import CdrDimension
from tokens.models import ProfileType, TokenType

_TIME_DIMENSIONS = frozenset(
    {
        CdrDimension.TIME,
        CdrDimension.PARKING_TIME,
        CdrDimension.RESERVATION_TIME,
    }
)
# Volumes that cannot be negative: durations, gross energy flows, and the state of charge.
# ENERGY may be (net export, mod_cdrs CdrDimensionType), and so may POWER and CURRENT.
_NOT_NEGATIVE = _TIME_DIMENSIONS | {
    CdrDimension.ENERGY_EXPORT,
    CdrDimension.ENERGY_IMPORT,
    CdrDimension.STATE_OF_CHARGE,
}


def plain(value: Decimal) -> Decimal:
    """The same number without trailing zeros or an exponent: 12.500000 → 12.5, 1E+2 → 100."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


class CdrTokenSerializer(BlankOmittingSerializer):
    """CdrToken (mod_cdrs): country_code and party_id, new in 2.2.1, name the token's eMSP."""

    country_code = CiStringField(max_length=2, min_length=2)
    party_id = CiStringField(max_length=3, min_length=3)
    uid = CiStringField(max_length=36, min_length=1)
    type = serializers.ChoiceField(choices=TokenType.choices)
    contract_id = CiStringField(max_length=36, min_length=1)


class CdrDimensionSerializer(BlankOmittingSerializer):
    """CdrDimension (mod_cdrs): kWh, hours, kW, A or percent depending on the type."""

    type = serializers.ChoiceField(choices=[kind.value for kind in CdrDimension])
    volume = NumberField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind, volume = attrs["type"], attrs["volume"]
        if kind in _NOT_NEGATIVE and volume < 0:
            raise serializers.ValidationError({"volume": [f"{kind} cannot be negative."]})
        if kind == CdrDimension.STATE_OF_CHARGE and volume > 100:
            raise serializers.ValidationError({"volume": ["STATE_OF_CHARGE is 0 to 100 %."]})
        return attrs


class ChargingPeriodSerializer(BlankOmittingSerializer):
    """ChargingPeriod (mod_cdrs): it lasts until the next one starts (the last until the end)."""

    start_date_time = DateTimeField()
    dimensions = CdrDimensionSerializer(many=True, allow_empty=False)
    tariff_id = optional_text(CiStringField, max_length=36)

    def validate_dimensions(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kinds = [dimension["type"] for dimension in value]
        repeated = sorted({kind for kind in kinds if kinds.count(kind) > 1})
        if repeated:
            raise serializers.ValidationError(
                f"Each dimension type may appear once per period: {', '.join(repeated)} repeats."
            )
        return value


class CdrLocationSerializer(BlankOmittingSerializer):
    """CdrLocation (mod_cdrs): the location as at the session's start, frozen for its CDR.

    The errata widened Location.address (255) and state (45) but not CdrLocation's, which
    keep 45 and 20; the session freezes them cut to those lengths (sessions.freeze).
    """

    id = CiStringField(max_length=36, min_length=1)
    name = optional_text(StringField, max_length=255)
    address = StringField(max_length=45)
    city = StringField(max_length=45)
    postal_code = optional_text(StringField, max_length=10)
    state = optional_text(StringField, max_length=20)
    country = StringField(max_length=3, min_length=3)
    coordinates = GeoLocationSerializer()
    evse_uid = CiStringField(max_length=36, min_length=1)
    evse_id = CiStringField(max_length=48, min_length=1)
    connector_id = CiStringField(max_length=36, min_length=1)
    connector_standard = serializers.ChoiceField(choices=ConnectorType.choices)
    connector_format = serializers.ChoiceField(choices=ConnectorFormat.choices)
    connector_power_type = serializers.ChoiceField(choices=PowerType.choices)


class ChargingPreferencesSerializer(BlankOmittingSerializer):
    """ChargingPreferences (mod_sessions): what the driver wants, sent by the eMSP (PUT)."""

    profile_type = serializers.ChoiceField(choices=ProfileType.choices)
    departure_time = optional(DateTimeField)
    energy_need = optional(NumberField, min_value=Decimal(0))
    # A JSON boolean only: "false" (a string) would silently allow discharging.
    discharge_allowed = optional(StrictBooleanField)


def energy_of(periods: Iterable[Mapping[str, Any]]) -> Decimal:
    """kWh in `periods`: each one's ENERGY (else ENERGY_IMPORT), net export counted as 0.

    The tariff engine reads a period's energy the same way (tariffs.engine.timeline).
    """
    total = Decimal(0)
    for period in periods:
        volumes = {d["type"]: d["volume"] for d in period["dimensions"]}
        energy = volumes.get(CdrDimension.ENERGY, volumes.get(CdrDimension.ENERGY_IMPORT))
        if energy is not None:
            total += max(Decimal(energy), Decimal(0))
    return total


class SessionSerializer(BlankOmittingSerializer):
    """Session (mod_sessions, Session object), with the cardinalities and lengths of its table.

    Validation checks what one object can tell: end after start, periods in time order, and
    that the periods' energy fits in `kwh`. The last catches the spec's own example
    session_example_2_short_finished.json, which reports ENERGY in Wh (120 and 41000 for a
    session of 41.12 kWh): CdrDimensionType ENERGY is in kWh.
    """

    country_code = CiStringField(max_length=2, min_length=2)
    party_id = CiStringField(max_length=3, min_length=3)
    id = CiStringField(max_length=36, min_length=1)
    start_date_time = DateTimeField()
    end_date_time = optional(DateTimeField)
    kwh = NumberField(min_value=Decimal(0))
    cdr_token = CdrTokenSerializer()
    auth_method = serializers.ChoiceField(choices=AuthMethod.choices)
    authorization_reference = optional_text(CiStringField, max_length=36)
    location_id = CiStringField(max_length=36, min_length=1)
    evse_uid = CiStringField(max_length=36, min_length=1)
    connector_id = CiStringField(max_length=36, min_length=1)
    meter_id = optional_text(StringField, max_length=255)
    currency = CurrencyField()
    charging_periods = ChargingPeriodSerializer(many=True, required=False, allow_null=True)
    total_cost = optional(PriceSerializer)
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    last_updated = DateTimeField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        if isinstance(instance, Session):
            instance = session_as_ocpi(instance)
        return super().to_representation(instance)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        start, end = attrs.get("start_date_time"), attrs.get("end_date_time")
        if start is not None and end is not None and end < start:
            errors["end_date_time"] = ["Must not be before start_date_time."]
        periods = attrs.get("charging_periods") or []
        starts = [period["start_date_time"] for period in periods]
        if starts != sorted(starts):
            errors["charging_periods"] = ["Must be in order of start_date_time."]
        energy = energy_of(periods)
        kwh = attrs.get("kwh")
        if kwh is not None and energy > kwh:
            errors.setdefault("charging_periods", []).append(
                f"Their ENERGY adds up to {energy} kWh, more than the session's kwh {kwh} "
                "(ENERGY volumes are kWh, not Wh)."
            )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def period_as_ocpi(period: SessionChargingPeriod) -> dict[str, Any]:
    return {
        "start_date_time": period.start_date_time,
        "dimensions": period.dimensions,
        "tariff_id": period.tariff_id,
    }


def session_as_ocpi(
    session: Session, periods: Iterable[SessionChargingPeriod] | None = None
) -> dict[str, Any]:
    """A stored Session as the OCPI object's fields (SessionSerializer renders them).

    evse_uid and connector_id are "#NA" while a reservation is not bound to an EVSE or a
    connector (mod_sessions, Session object); total_cost only once it is known; periods in
    their order. Reads `session.location/evse/connector` and `charging_periods`: select and
    prefetch them for lists (sessions.selectors). `periods` overrides the stored periods.
    """
    if periods is None:
        periods = session.charging_periods.all()
    return {
        "country_code": session.country_code,
        "party_id": session.party_id,
        "id": session.ocpi_id,
        "start_date_time": session.start_date_time,
        "end_date_time": session.end_date_time,
        "cdr_token": {
            "country_code": session.token_country_code,
            "party_id": session.token_party_id,
            "uid": session.token_uid,
            "type": session.token_type,
            "contract_id": session.contract_id,
        },
        "auth_method": session.auth_method,
        "authorization_reference": session.authorization_reference,
        "location_id": session.location.ocpi_id,
        "evse_uid": session.evse.uid if session.evse is not None else NOT_APPLICABLE,
        "connector_id": (
            session.connector.ocpi_id if session.connector is not None else NOT_APPLICABLE
        ),
        "meter_id": session.meter_id,
        "currency": session.currency,
        "charging_periods": [period_as_ocpi(p) for p in periods],
        "status": session.status,
        **session_figures_as_ocpi(session),
    }


# What metering a running session changes, and nothing else (sessions.services.session_progress).
FIGURES = ("kwh", "total_cost", "last_updated")


def session_figures_as_ocpi(session: Session) -> dict[str, Any]:
    """The FIGURES of a stored Session as the OCPI object's fields (session_as_ocpi's part
    that reads no related row): total_cost only once it is known."""
    total_cost = None
    if session.total_cost_excl_vat is not None and session.total_cost_incl_vat is not None:
        total_cost = {
            "excl_vat": plain(session.total_cost_excl_vat),
            "incl_vat": plain(session.total_cost_incl_vat),
        }
    return {
        "kwh": plain(session.kwh),
        "total_cost": total_cost,
        "last_updated": session.last_updated,
    }


def render_session(session: Session) -> dict[str, Any]:
    """The Session object as JSON-ready data (Decimals, DateTime strings)."""
    return dict(SessionSerializer(session).data)
