"""JSON Schemas of the Session and ChargingPreferences objects for the OpenAPI description."""

from typing import Any

from ocpi.openapi import DATETIME, PRICE, string_schema
from sessions.models import (
    AuthMethod,
    ChargingPreferencesResponse,
    SessionStatus,
)
from tariffs.engine import CdrDimension
from tokens.models import ProfileType, TokenType

CDR_TOKEN = {
    "type": "object",
    "properties": {
        "country_code": string_schema(2),
        "party_id": string_schema(3),
        "uid": string_schema(36),
        "type": {"type": "string", "enum": TokenType.values},
        "contract_id": string_schema(36),
    },
    "required": ["country_code", "party_id", "uid", "type", "contract_id"],
}


def charging_period(dimension_types: list[str]) -> dict[str, Any]:
    """ChargingPeriod (mod_cdrs) whose dimensions are of `dimension_types`."""
    return {
        "type": "object",
        "properties": {
            "start_date_time": DATETIME,
            "dimensions": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string", "enum": dimension_types},
                        "volume": {"type": "number"},
                    },
                    "required": ["type", "volume"],
                },
            },
            "tariff_id": string_schema(36),
        },
        "required": ["start_date_time", "dimensions"],
    }


CHARGING_PERIOD = charging_period([kind.value for kind in CdrDimension])
SESSION: dict[str, Any] = {
    "type": "object",
    "description": "Session (mod_sessions.asciidoc, Session object).",
    "properties": {
        "country_code": string_schema(2),
        "party_id": string_schema(3),
        "id": string_schema(36),
        "start_date_time": DATETIME,
        "end_date_time": DATETIME,
        "kwh": {"type": "number"},
        "cdr_token": CDR_TOKEN,
        "auth_method": {"type": "string", "enum": AuthMethod.values},
        "authorization_reference": string_schema(36),
        "location_id": string_schema(36),
        "evse_uid": string_schema(36, description='"#NA" for a reservation without an EVSE yet'),
        "connector_id": string_schema(
            36, description='"#NA" for a reservation without a connector'
        ),
        "meter_id": string_schema(255),
        "currency": string_schema(3),
        "charging_periods": {"type": "array", "items": CHARGING_PERIOD},
        "total_cost": PRICE,
        "status": {"type": "string", "enum": SessionStatus.values},
        "last_updated": DATETIME,
    },
    "required": [
        "country_code",
        "party_id",
        "id",
        "start_date_time",
        "kwh",
        "cdr_token",
        "auth_method",
        "location_id",
        "evse_uid",
        "connector_id",
        "currency",
        "status",
        "last_updated",
    ],
}
CHARGING_PREFERENCES: dict[str, Any] = {
    "type": "object",
    "description": "ChargingPreferences (mod_sessions.asciidoc).",
    "properties": {
        "profile_type": {"type": "string", "enum": ProfileType.values},
        "departure_time": DATETIME,
        "energy_need": {"type": "number", "minimum": 0},
        "discharge_allowed": {"type": "boolean"},
    },
    "required": ["profile_type"],
}
CHARGING_PREFERENCES_RESPONSE: dict[str, Any] = {
    "type": "string",
    "enum": ChargingPreferencesResponse.values,
    "description": "ChargingPreferencesResponse (mod_sessions.asciidoc).",
}
