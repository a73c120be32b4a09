"""The Token object and the `type` parameter for the OpenAPI description."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter


def _string(max_length: int, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, **extra}


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
        "country_code": _string(2),
        "party_id": _string(3),
        "uid": _string(36),
        "type": {"type": "string", "enum": ["AD_HOC_USER", "APP_USER", "OTHER", "RFID"]},
        "contract_id": _string(36),
        "visual_number": _string(64),
        "issuer": _string(64),
        "group_id": _string(36),
        "valid": {"type": "boolean"},
        "whitelist": {
            "type": "string",
            "enum": ["ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER"],
        },
        "language": _string(2),
        "default_profile_type": {"type": "string", "enum": ["CHEAP", "FAST", "GREEN", "REGULAR"]},
        "energy_contract": {
            "type": "object",
            "properties": {"supplier_name": _string(64), "contract_id": _string(64)},
            "required": ["supplier_name"],
        },
        "last_updated": {"type": "string", "format": "date-time"},
    },
}

TYPE_PARAMETER = OpenApiParameter(
    "type", str, description="Token.type of the token (default RFID when omitted)."
)
