"""JSON Schemas of the Location, EVSE and Connector objects for the OpenAPI description."""

from ocpi.openapi import DATETIME, string_schema

GEO_LOCATION = {
    "type": "object",
    "properties": {"latitude": string_schema(10), "longitude": string_schema(11)},
    "required": ["latitude", "longitude"],
}
LIST_OF_OBJECTS = {"type": "array", "items": {"type": "object"}}

CONNECTOR = {
    "type": "object",
    "properties": {
        "id": string_schema(36),
        "standard": {"type": "string", "example": "IEC_62196_T2"},
        "format": {"type": "string", "enum": ["SOCKET", "CABLE"]},
        "power_type": {"type": "string", "example": "AC_3_PHASE"},
        "max_voltage": {"type": "integer"},
        "max_amperage": {"type": "integer"},
        "max_electric_power": {"type": "integer"},
        "tariff_ids": {"type": "array", "items": string_schema(36)},
        "terms_and_conditions": string_schema(255),
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
        "uid": string_schema(36),
        "evse_id": string_schema(48),
        "status": {"type": "string", "example": "AVAILABLE"},
        "status_schedule": LIST_OF_OBJECTS,
        "capabilities": {"type": "array", "items": {"type": "string"}},
        "connectors": {"type": "array", "items": CONNECTOR, "minItems": 1},
        "floor_level": string_schema(4),
        "coordinates": GEO_LOCATION,
        "physical_reference": string_schema(16),
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
        "country_code": string_schema(2),
        "party_id": string_schema(3),
        "id": string_schema(36),
        "publish": {"type": "boolean"},
        "publish_allowed_to": LIST_OF_OBJECTS,
        "name": string_schema(255),
        "address": string_schema(255),
        "city": string_schema(45),
        "postal_code": string_schema(10),
        "state": string_schema(45),
        "country": string_schema(3),
        "coordinates": GEO_LOCATION,
        "related_locations": LIST_OF_OBJECTS,
        "parking_type": {"type": "string"},
        "evses": {"type": "array", "items": EVSE},
        "directions": LIST_OF_OBJECTS,
        "operator": {"type": "object"},
        "suboperator": {"type": "object"},
        "owner": {"type": "object"},
        "facilities": {"type": "array", "items": {"type": "string"}},
        "time_zone": string_schema(255),
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
