"""The credentials endpoint (credentials.asciidoc): GET, POST, PUT, DELETE on one URL.

POST registers (token A only; 405 once registered); GET, PUT and DELETE need a registered
partner (405 otherwise). Handshake failures answer HTTP 200 with 3001, 3002 or 3003.
"""

from rest_framework.request import Request
from rest_framework.response import Response

from credentials import services
from credentials.models import Invitation, PartnerPlatform
from credentials.selectors import our_credentials
from credentials.serializers import CredentialsSerializer
from ocpi.exceptions import MethodNotAllowed
from ocpi.openapi import ocpi_schema
from ocpi.responses import ocpi_response
from ocpi.views import ConfigurationModuleApi

CREDENTIALS_SCHEMA = {
    "type": "object",
    "properties": {
        "token": {"type": "string", "maxLength": 64},
        "url": {"type": "string", "maxLength": 255},
        "roles": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "role": {"type": "string"},
                    "business_details": {"type": "object"},
                    "party_id": {"type": "string", "maxLength": 3},
                    "country_code": {"type": "string", "maxLength": 2},
                },
            },
        },
    },
}


class CredentialsApi(ConfigurationModuleApi):
    module_name = "credentials"

    def _registered_partner(self, request: Request) -> PartnerPlatform:
        caller = request.auth
        if not isinstance(caller, PartnerPlatform) or not caller.is_registered:
            raise MethodNotAllowed("Not registered: register with POST and a token A first")
        return caller

    @ocpi_schema(
        operation_id="credentials_get",
        summary="The credentials the caller uses to access this platform",
        data=CREDENTIALS_SCHEMA,
    )
    def get(self, request: Request) -> Response:
        partner = self._registered_partner(request)
        return ocpi_response(our_credentials(partner.incoming_token))

    @ocpi_schema(
        operation_id="credentials_register",
        summary="Register with token A: we fetch your endpoints with token B and answer token C",
        data=CREDENTIALS_SCHEMA,
        request=CredentialsSerializer,
    )
    def post(self, request: Request) -> Response:
        caller = request.auth
        if not isinstance(caller, Invitation):
            raise MethodNotAllowed("Already registered: use PUT to update or DELETE to end")
        accepted = services.accept_registration(invitation=caller, data=request.data)
        return ocpi_response(accepted.credentials)

    @ocpi_schema(
        operation_id="credentials_update",
        summary="Update: we refetch your endpoints and issue a new token",
        data=CREDENTIALS_SCHEMA,
        request=CredentialsSerializer,
    )
    def put(self, request: Request) -> Response:
        partner = self._registered_partner(request)
        accepted = services.accept_update(partner=partner, data=request.data)
        return ocpi_response(accepted.credentials)

    @ocpi_schema(operation_id="credentials_delete", summary="Unregister: all traffic stops")
    def delete(self, request: Request) -> Response:
        partner = self._registered_partner(request)
        services.accept_unregistration(partner=partner)
        return ocpi_response()
