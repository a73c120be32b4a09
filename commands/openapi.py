"""JSON Schemas of the command objects and the CommandResponse for the OpenAPI description."""

from typing import Any

from commands.models import CommandResponseType
from ocpi.openapi import DATETIME, string_schema
from tokens.openapi import TOKEN

URL = {"type": "string", "format": "uri", "maxLength": 255}
DISPLAY_TEXT = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"language": string_schema(2), "text": string_schema(512)},
        "required": ["language", "text"],
    },
}


def _object(name: str, required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "title": name,
        "required": ["response_url", *required],
        "properties": {"response_url": URL, **properties},
    }


COMMAND_REQUEST: dict[str, Any] = {
    "description": "The object of the command named in the URL (mod_commands).",
    "oneOf": [
        _object(
            "StartSession",
            ["token", "location_id"],
            {
                "token": TOKEN,
                "location_id": string_schema(36),
                "evse_uid": string_schema(36),
                "connector_id": string_schema(36),
                "authorization_reference": string_schema(36),
            },
        ),
        _object("StopSession", ["session_id"], {"session_id": string_schema(36)}),
        _object(
            "UnlockConnector",
            ["location_id", "evse_uid", "connector_id"],
            {
                "location_id": string_schema(36),
                "evse_uid": string_schema(36),
                "connector_id": string_schema(36),
            },
        ),
        _object(
            "ReserveNow",
            ["token", "expiry_date", "reservation_id", "location_id"],
            {
                "token": TOKEN,
                "expiry_date": DATETIME,
                "reservation_id": string_schema(36),
                "location_id": string_schema(36),
                "evse_uid": string_schema(36),
                "authorization_reference": string_schema(36),
            },
        ),
        _object("CancelReservation", ["reservation_id"], {"reservation_id": string_schema(36)}),
    ],
}

COMMAND_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["result", "timeout"],
    "properties": {
        "result": {"type": "string", "enum": CommandResponseType.values},
        "timeout": {"type": "integer", "description": "Seconds to wait for the CommandResult."},
        "message": DISPLAY_TEXT,
    },
}
