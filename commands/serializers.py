"""The request objects of the Commands module (mod_commands.asciidoc, Object description),
and the CommandResponse / CommandResult we send."""

from typing import Any

from rest_framework import serializers

from commands.models import CommandType
from ocpi.fields import CiStringField, DateTimeField, UrlField, optional_text
from ocpi.netsafety import check_response_url
from ocpi.serializers import OcpiSerializer
from tokens.serializers import TokenSerializer


class CommandSerializer(OcpiSerializer):
    response_url = UrlField()

    def validate_response_url(self, value: str) -> str:
        """Checked like every partner URL, before anything is stored (ocpi.netsafety)."""
        refused = check_response_url(value)
        if refused is not None:
            raise serializers.ValidationError(f"response_url refused: {refused}")
        return value


class StartSessionSerializer(CommandSerializer):
    token = TokenSerializer()
    location_id = CiStringField(max_length=36, min_length=1)
    evse_uid = optional_text(CiStringField, max_length=36)
    connector_id = optional_text(CiStringField, max_length=36)
    authorization_reference = optional_text(CiStringField, max_length=36)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("connector_id") and not attrs.get("evse_uid"):
            raise serializers.ValidationError({"evse_uid": "Required when connector_id is set."})
        return attrs


class StopSessionSerializer(CommandSerializer):
    session_id = CiStringField(max_length=36, min_length=1)


class UnlockConnectorSerializer(CommandSerializer):
    location_id = CiStringField(max_length=36, min_length=1)
    evse_uid = CiStringField(max_length=36, min_length=1)
    connector_id = CiStringField(max_length=36, min_length=1)


class ReserveNowSerializer(CommandSerializer):
    token = TokenSerializer()
    expiry_date = DateTimeField()
    reservation_id = CiStringField(max_length=36, min_length=1)
    location_id = CiStringField(max_length=36, min_length=1)
    evse_uid = optional_text(CiStringField, max_length=36)
    authorization_reference = optional_text(CiStringField, max_length=36)


class CancelReservationSerializer(CommandSerializer):
    reservation_id = CiStringField(max_length=36, min_length=1)


REQUESTS: dict[str, type[CommandSerializer]] = {
    CommandType.START_SESSION: StartSessionSerializer,
    CommandType.STOP_SESSION: StopSessionSerializer,
    CommandType.UNLOCK_CONNECTOR: UnlockConnectorSerializer,
    CommandType.RESERVE_NOW: ReserveNowSerializer,
    CommandType.CANCEL_RESERVATION: CancelReservationSerializer,
}

# Our messages are in English (DisplayText.language).
LANGUAGE = "en"


def display_text(message: str) -> list[dict[str, str]]:
    """A DisplayText list of one English text (string(512)), empty without a message."""
    return [{"language": LANGUAGE, "text": message[:512]}] if message else []


def command_response(result: str, timeout: int, message: str = "") -> dict[str, Any]:
    """CommandResponse: result, timeout (seconds), message (DisplayText *)."""
    response: dict[str, Any] = {"result": result, "timeout": timeout}
    if message:
        response["message"] = display_text(message)
    return response


def command_result(result: str, message: str = "") -> dict[str, Any]:
    """CommandResult: result, message (DisplayText *)."""
    body: dict[str, Any] = {"result": result}
    if message:
        body["message"] = display_text(message)
    return body
