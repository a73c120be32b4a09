"""The CDR object for the OpenAPI description (mod_cdrs.asciidoc, CDR Object)."""

from typing import Any


def _string(max_length: int, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, **extra}


_DATETIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_PRICE: dict[str, Any] = {
    "type": "object",
    "required": ["excl_vat"],
    "properties": {"excl_vat": {"type": "number"}, "incl_vat": {"type": "number"}},
}
_CDR_TOKEN: dict[str, Any] = {
    "type": "object",
    "required": ["country_code", "party_id", "uid", "type", "contract_id"],
    "properties": {
        "country_code": _string(2),
        "party_id": _string(3),
        "uid": _string(36),
        "type": {"type": "string", "enum": ["AD_HOC_USER", "APP_USER", "OTHER", "RFID"]},
        "contract_id": _string(36),
    },
}
_CDR_LOCATION: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "address",
        "city",
        "country",
        "coordinates",
        "evse_uid",
        "evse_id",
        "connector_id",
        "connector_standard",
        "connector_format",
        "connector_power_type",
    ],
    "properties": {
        "id": _string(36),
        "name": _string(255),
        "address": _string(45),
        "city": _string(45),
        "postal_code": _string(10),
        "state": _string(20),
        "country": _string(3),
        "coordinates": {
            "type": "object",
            "properties": {"latitude": _string(10), "longitude": _string(11)},
        },
        "evse_uid": _string(36),
        "evse_id": _string(48),
        "connector_id": _string(36),
        "connector_standard": {"type": "string"},
        "connector_format": {"type": "string", "enum": ["SOCKET", "CABLE"]},
        "connector_power_type": {"type": "string"},
    },
}
_CHARGING_PERIOD: dict[str, Any] = {
    "type": "object",
    "required": ["start_date_time", "dimensions"],
    "properties": {
        "start_date_time": _DATETIME,
        "dimensions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["type", "volume"],
                "properties": {"type": {"type": "string"}, "volume": {"type": "number"}},
            },
        },
        "tariff_id": _string(36),
    },
}
CDR: dict[str, Any] = {
    "type": "object",
    "description": "CDR (mod_cdrs.asciidoc, CDR Object). Credit CDRs have negative costs.",
    "required": [
        "country_code",
        "party_id",
        "id",
        "start_date_time",
        "end_date_time",
        "cdr_token",
        "auth_method",
        "cdr_location",
        "currency",
        "charging_periods",
        "total_cost",
        "total_energy",
        "total_time",
        "last_updated",
    ],
    "properties": {
        "country_code": _string(2),
        "party_id": _string(3),
        "id": _string(39),
        "start_date_time": _DATETIME,
        "end_date_time": _DATETIME,
        "session_id": _string(36),
        "cdr_token": _CDR_TOKEN,
        "auth_method": {"type": "string", "enum": ["AUTH_REQUEST", "COMMAND", "WHITELIST"]},
        "authorization_reference": _string(36),
        "cdr_location": _CDR_LOCATION,
        "meter_id": _string(255),
        "currency": _string(3),
        "tariffs": {"type": "array", "items": {"type": "object"}},
        "charging_periods": {"type": "array", "minItems": 1, "items": _CHARGING_PERIOD},
        "signed_data": {"type": "object"},
        "total_cost": _PRICE,
        "total_fixed_cost": _PRICE,
        "total_energy": {"type": "number"},
        "total_energy_cost": _PRICE,
        "total_time": {"type": "number"},
        "total_time_cost": _PRICE,
        "total_parking_time": {"type": "number"},
        "total_parking_cost": _PRICE,
        "total_reservation_cost": _PRICE,
        "remark": _string(255),
        "invoice_reference_id": _string(39),
        "credit": {"type": "boolean"},
        "credit_reference_id": _string(39),
        "home_charging_compensation": {"type": "boolean"},
        "last_updated": _DATETIME,
    },
}
