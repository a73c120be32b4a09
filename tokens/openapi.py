"""The Token object and the `type` parameter for the OpenAPI description."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter

from ocpi.openapi import string_schema

TOKEN: dict[str, Any] = {
    "type": "object",
    "description": "Token (mod_tokens.asciidoc, Token object).",
    "required": [
        "country_code",
        "party_id",
        "uid",
        "type",
        "contract_id",
        "issuer",
        "valid",
        "whitelist",
        "last_updated",
    ],
    "properties": {
        "country_code": string_schema(2),
        "party_id": string_schema(3),
        "uid": string_schema(36),
        "type": {"type": "string", "enum": ["AD_HOC_USER", "APP_USER", "OTHER", "RFID"]},
        "contract_id": string_schema(36),
        "visual_number": string_schema(64),
        "issuer": string_schema(64),
        "group_id": string_schema(36),
        "valid": {"type": "boolean"},
        "whitelist": {
            "type": "string",
            "enum": ["ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER"],
        },
        "language": string_schema(2),
        "default_profile_type": {"type": "string", "enum": ["CHEAP", "FAST", "GREEN", "REGULAR"]},
        "energy_contract": {
            "type": "object",
            "properties": {"supplier_name": string_schema(64), "contract_id": string_schema(64)},
            "required": ["supplier_name"],
        },
        "last_updated": {"type": "string", "format": "date-time"},
    },
}

TYPE_PARAMETER = OpenApiParameter(
    "type", str, description="Token.type of the token (default RFID when omitted)."
)
