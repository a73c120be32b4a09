"""JSON Schemas of the Location, EVSE and Connector objects for the OpenAPI description."""

from typing import Any


def _string(max_length: int, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, **extra}


DATETIME = {"type": "string", "format": "date-time", "example": "2026-01-01T12:00:00Z"}
GEO_LOCATION = {
    "type": "object",
    "properties": {"latitude": _string(10), "longitude": _string(11)},
    "required": ["latitude", "longitude"],
}
LIST_OF_OBJECTS = {"type": "array", "items": {"type": "object"}}

CONNECTOR = {
    "type": "object",
    "properties": {
        "id": _string(36),
        "standard": {"type": "string", "example": "IEC_62196_T2"},
        "format": {"type": "string", "enum": ["SOCKET", "CABLE"]},
        "power_type": {"type": "string", "example": "AC_3_PHASE"},
        "max_voltage": {"type": "integer"},
        "max_amperage": {"type": "integer"},
        "max_electric_power": {"type": "integer"},
        "tariff_ids": {"type": "array", "items": _string(36)},
        "terms_and_conditions": _string(255),
        "last_updated": DATETIME,
    },
    "required": [
        "id",
        "standard",
        "format",
        "power_type",
        "max_voltage",
        "max_amperage",
        "last_updated",
    ],
}

EVSE = {
    "type": "object",
    "properties": {
        "uid": _string(36),
        "evse_id": _string(48),
        "status": {"type": "string", "example": "AVAILABLE"},
        "status_schedule": LIST_OF_OBJECTS,
        "capabilities": {"type": "array", "items": {"type": "string"}},
        "connectors": {"type": "array", "items": CONNECTOR, "minItems": 1},
        "floor_level": _string(4),
        "coordinates": GEO_LOCATION,
        "physical_reference": _string(16),
        "directions": LIST_OF_OBJECTS,
        "parking_restrictions": {"type": "array", "items": {"type": "string"}},
        "images": LIST_OF_OBJECTS,
        "last_updated": DATETIME,
    },
    "required": ["uid", "status", "connectors", "last_updated"],
}

LOCATION = {
    "type": "object",
    "properties": {
        "country_code": _string(2),
        "party_id": _string(3),
        "id": _string(36),
        "publish": {"type": "boolean"},
        "publish_allowed_to": LIST_OF_OBJECTS,
        "name": _string(255),
        "address": _string(255),
        "city": _string(45),
        "postal_code": _string(10),
        "state": _string(45),
        "country": _string(3),
        "coordinates": GEO_LOCATION,
        "related_locations": LIST_OF_OBJECTS,
        "parking_type": {"type": "string"},
        "evses": {"type": "array", "items": EVSE},
        "directions": LIST_OF_OBJECTS,
        "operator": {"type": "object"},
        "suboperator": {"type": "object"},
        "owner": {"type": "object"},
        "facilities": {"type": "array", "items": {"type": "string"}},
        "time_zone": _string(255),
        "opening_times": {"type": "object"},
        "charging_when_closed": {"type": "boolean"},
        "images": LIST_OF_OBJECTS,
        "energy_mix": {"type": "object"},
        "last_updated": DATETIME,
    },
    "required": [
        "country_code",
        "party_id",
        "id",
        "publish",
        "address",
        "city",
        "country",
        "coordinates",
        "time_zone",
        "last_updated",
    ],
}
