"""JSON Schemas of the chargingprofiles module's objects for the OpenAPI description."""

from drf_spectacular.utils import OpenApiParameter

from chargingprofiles.models import ResponseType
from ocpi.openapi import DATETIME, string_schema

PERIOD = {
    "type": "object",
    "properties": {
        "start_period": {"type": "integer", "minimum": 0},
        "limit": {"type": "number", "minimum": 0},
    },
    "required": ["start_period", "limit"],
}
CHARGING_PROFILE = {
    "type": "object",
    "properties": {
        "start_date_time": DATETIME,
        "duration": {"type": "integer", "minimum": 1},
        "charging_rate_unit": {"type": "string", "enum": ["W", "A"]},
        "min_charging_rate": {"type": "number", "minimum": 0},
        "charging_profile_period": {"type": "array", "items": PERIOD, "minItems": 1},
    },
    "required": ["charging_rate_unit", "charging_profile_period"],
}
SET_CHARGING_PROFILE = {
    "type": "object",
    "properties": {
        "charging_profile": CHARGING_PROFILE,
        "response_url": string_schema(255, format="uri"),
    },
    "required": ["charging_profile", "response_url"],
}
CHARGING_PROFILE_RESPONSE = {
    "type": "object",
    "properties": {
        "result": {"type": "string", "enum": ResponseType.values},
        "timeout": {"type": "integer"},
    },
    "required": ["result", "timeout"],
}
RESPONSE_URL = OpenApiParameter(
    "response_url", str, required=True, description="Where the result is POSTed"
)
DURATION = OpenApiParameter(
    "duration", int, required=True, description="Seconds of schedule wanted"
)
