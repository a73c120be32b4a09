"""JSON Schemas of the Session and ChargingPreferences objects for the OpenAPI description."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter

from sessions.models import (
    AuthMethod,
    CdrDimensionType,
    ChargingPreferencesResponse,
    SessionStatus,
)
from tokens.models import ProfileType, TokenType


def _string(max_length: int, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, **extra}


DATETIME = {"type": "string", "format": "date-time", "example": "2026-01-01T12:00:00Z"}
PRICE = {
    "type": "object",
    "properties": {"excl_vat": {"type": "number"}, "incl_vat": {"type": "number"}},
    "required": ["excl_vat"],
}
CDR_TOKEN = {
    "type": "object",
    "properties": {
        "country_code": _string(2),
        "party_id": _string(3),
        "uid": _string(36),
        "type": {"type": "string", "enum": TokenType.values},
        "contract_id": _string(36),
    },
    "required": ["country_code", "party_id", "uid", "type", "contract_id"],
}
CHARGING_PERIOD = {
    "type": "object",
    "properties": {
        "start_date_time": DATETIME,
        "dimensions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": CdrDimensionType.values},
                    "volume": {"type": "number"},
                },
                "required": ["type", "volume"],
            },
        },
        "tariff_id": _string(36),
    },
    "required": ["start_date_time", "dimensions"],
}
SESSION: dict[str, Any] = {
    "type": "object",
    "description": "Session (mod_sessions.asciidoc, Session object).",
    "properties": {
        "country_code": _string(2),
        "party_id": _string(3),
        "id": _string(36),
        "start_date_time": DATETIME,
        "end_date_time": DATETIME,
        "kwh": {"type": "number"},
        "cdr_token": CDR_TOKEN,
        "auth_method": {"type": "string", "enum": AuthMethod.values},
        "authorization_reference": _string(36),
        "location_id": _string(36),
        "evse_uid": _string(36, description='"#NA" for a reservation without an EVSE yet'),
        "connector_id": _string(36, description='"#NA" for a reservation without a connector'),
        "meter_id": _string(255),
        "currency": _string(3),
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
PAGE_PARAMETERS = [
    OpenApiParameter(
        "date_from", str, required=True, description="last_updated ≥ date_from (UTC). Required."
    ),
    OpenApiParameter("date_to", str, description="last_updated < date_to (UTC)"),
    OpenApiParameter("offset", int, description="Index of the first object (default 0)"),
    OpenApiParameter("limit", int, description="Page size, capped by the server (X-Limit)"),
]
