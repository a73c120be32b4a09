"""The Commands Receiver interface (mod_commands.asciidoc, Receiver Interface).

- POST `{url}/{command}` with the command's object: data is a CommandResponse (commands
  .services says which, and when a CommandResult follows at the response_url). A body that
  is not the command's object (or a response_url we will not call: ocpi.netsafety) is
  refused with 2001 and HTTP 400, nothing stored. A command name that is no CommandType
  matches no URL: HTTP 404.
- GET, PUT, PATCH, DELETE: n/a (HTTP 405).

The eMSP party is the OCPI-from party, else the caller's only eMSP party; START_SESSION and
RESERVE_NOW must carry a token of that party (mod_commands: "only use Tokens that are owned
by this eMSP"), STOP_SESSION names one of its sessions (another's is UNKNOWN_SESSION).
"""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from commands import openapi, services
from commands.models import CommandResponseType, CommandType
from commands.serializers import REQUESTS, command_response
from credentials.routing import FunctionalModuleApi
from ocpi.exceptions import OcpiError, validation_message
from ocpi.openapi import ocpi_schema
from ocpi.responses import ocpi_response
from ocpi.routing import PartyRef
from ocpi.status import OcpiStatus

# Commands that carry a token: the eMSP party is the token's.
WITH_TOKEN = (CommandType.START_SESSION, CommandType.RESERVE_NOW)


class MalformedCommand(OcpiError):
    """Not the command's object: 2001 with HTTP 400, as a body that is no JSON."""

    status_code = OcpiStatus.INVALID_PARAMETERS
    http_status = 400
    default_message = "Invalid or missing parameters"


class NoEmspParty(OcpiError):
    status_code = OcpiStatus.INVALID_PARAMETERS
    default_message = "Commands come from an eMSP party: name it in the OCPI-from headers"


class CommandApi(FunctionalModuleApi):
    @ocpi_schema(
        operation_id="commands_post",
        summary="Send a command to a charge point; its CommandResult follows at response_url",
        request={"application/json": openapi.COMMAND_REQUEST},
        data=openapi.COMMAND_RESPONSE,
        functional=True,
    )
    def post(self, request: Request, command: str) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise MalformedCommand(f"The body must be a {command} object")
        serializer = REQUESTS[command](data=body)
        if not serializer.is_valid():
            raise MalformedCommand(validation_message(serializer.errors))
        data: dict[str, Any] = dict(serializer.validated_data)
        route = self.route
        party = services.caller_party(route)
        if command in WITH_TOKEN:
            token = PartyRef.of(data["token"]["country_code"], data["token"]["party_id"])
            if token not in route.emsp_parties():
                return ocpi_response(
                    command_response(
                        CommandResponseType.REJECTED,
                        services.announced_timeout(),
                        f"Token of party {token}, not of the eMSP sending the command",
                    )
                )
            party = token
        if party is None:
            raise NoEmspParty()
        stored = services.receive(services.Received(route, command, data, body), party)
        return ocpi_response(stored.response, status_code=stored.response_status_code)
