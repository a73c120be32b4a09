"""The ChargingProfiles Receiver interface of our CPO parties (mod_charging_profiles).

- PUT `{url}/{session_id}` with SetChargingProfile → ChargingProfileResponse; the charge
  point's answer is POSTed later to its response_url as a ChargingProfileResult.
- GET `{url}/{session_id}?duration=…&response_url=…` → ChargingProfileResponse; later an
  ActiveChargingProfileResult.
- DELETE `{url}/{session_id}?response_url=…` → ChargingProfileResponse; later a
  ClearProfileResult.

A body or query that is not the spec's object (a malformed profile, no duration, a
response_url we may not call: ocpi.netsafety) is refused with 2001 and HTTP 400, as a body
that is no JSON, and nothing is stored or sent; the commands module answers the same. Any
well-formed request is answered with a ChargingProfileResponse, whose result says what
became of it (chargingprofiles.services): another eMSP's session is UNKNOWN_SESSION, as an
unknown one (one eMSP learns nothing of another's).

Scope (credentials.access, as the sessions module): sessions of our party named by the
OCPI-to headers (all ours without headers) whose token belongs to the eMSP named by the
OCPI-from headers (without headers: any eMSP party of the calling platform).
"""

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from chargingprofiles import openapi, services
from chargingprofiles.models import ProfileRequest, RequestKind
from chargingprofiles.serializers import (
    CompositeQuerySerializer,
    ResponseUrlSerializer,
    SetChargingProfileSerializer,
)
from credentials.routing import FunctionalModuleApi
from ocpi.exceptions import OcpiError, validation_message
from ocpi.openapi import ocpi_schema
from ocpi.responses import ocpi_response
from ocpi.routing import PartyRef
from ocpi.status import OcpiStatus
from sessions.models import Session
from sessions.selectors import session_get


class MalformedRequest(OcpiError):
    """Not the spec's object: 2001 with HTTP 400."""

    status_code = OcpiStatus.INVALID_PARAMETERS
    http_status = 400
    default_message = "Invalid or missing parameters"


def _valid(serializer: serializers.Serializer[Any]) -> dict[str, Any]:
    if not serializer.is_valid():
        raise MalformedRequest(validation_message(serializer.errors))
    data: dict[str, Any] = serializer.validated_data
    return data


def _answer(request: ProfileRequest) -> Response:
    return ocpi_response({"result": request.response, "timeout": services.timeout_seconds()})


class ChargingProfileReceiverApi(FunctionalModuleApi):
    def _session(self, session_id: str) -> Session | None:
        return session_get(
            owners=self.route.receiver_parties(),
            token_parties=self.route.emsp_parties(),
            session_id=session_id,
        )

    def _emsp(self, session: Session | None) -> PartyRef:
        """The eMSP party the request speaks for: the session's token owner (within the
        caller's parties, by the selector's scope), else the one its headers name."""
        if session is not None:
            return session.token_party
        sender = self.route.sender
        if sender is not None:
            return PartyRef.of(sender.country_code, sender.party_id)
        parties = self.route.emsp_parties()
        return parties[0] if parties else PartyRef.of("", "")

    def _request(self, session_id: str, kind: str, **fields: Any) -> Response:
        session = self._session(session_id)
        made = services.profile_request(
            partner=self.route.partner,
            emsp=self._emsp(session),
            session_id=session_id,
            session=session,
            kind=kind,
            **fields,
        )
        return _answer(made)

    @ocpi_schema(
        operation_id="chargingprofiles_set",
        summary="Set the charging profile of a running session",
        request={"application/json": openapi.SET_CHARGING_PROFILE},
        data=openapi.CHARGING_PROFILE_RESPONSE,
        functional=True,
    )
    def put(self, request: Request, session_id: str) -> Response:
        if not isinstance(request.data, dict):
            raise MalformedRequest("The body must be a SetChargingProfile object")
        body = _valid(SetChargingProfileSerializer(data=request.data))
        return self._request(
            session_id,
            RequestKind.SET,
            response_url=body["response_url"],
            charging_profile=body["charging_profile"],
        )

    @ocpi_schema(
        operation_id="chargingprofiles_get",
        summary="Ask for the schedule the charge point plans for a running session",
        data=openapi.CHARGING_PROFILE_RESPONSE,
        functional=True,
        extra_parameters=[openapi.DURATION, openapi.RESPONSE_URL],
    )
    def get(self, request: Request, session_id: str) -> Response:
        query = _valid(CompositeQuerySerializer(data=request.query_params.dict()))
        return self._request(
            session_id,
            RequestKind.GET,
            response_url=query["response_url"],
            duration=query["duration"],
        )

    @ocpi_schema(
        operation_id="chargingprofiles_clear",
        summary="Clear the charging profile the eMSP set on a running session",
        data=openapi.CHARGING_PROFILE_RESPONSE,
        functional=True,
        extra_parameters=[openapi.RESPONSE_URL],
    )
    def delete(self, request: Request, session_id: str) -> Response:
        query = _valid(ResponseUrlSerializer(data=request.query_params.dict()))
        return self._request(session_id, RequestKind.CLEAR, response_url=query["response_url"])
