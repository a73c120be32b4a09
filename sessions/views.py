"""The Sessions Sender interface (mod_sessions.asciidoc, CPO Interface).

- GET `{url}?date_from=…[&date_to][&offset][&limit]`: the caller's sessions, paginated.
  date_from is required (its Request Parameters table): without it, 2001.
- PUT `{url}/{session_id}/charging_preferences` with ChargingPreferences: data is a
  ChargingPreferencesResponse. An EVSE without CHARGING_PREFERENCES_CAPABLE answers HTTP 404
  with 2001 ("No value should be returned … Use HTTP 404 instead"); an unknown session, or
  another eMSP's, HTTP 404 with 2000 (no OCPI code names a session, and one eMSP learns
  nothing of another's: transport_and_format, access blocking).
- POST, PATCH, DELETE: n/a (HTTP 405).

Scope: sessions of our party named by the OCPI-to headers (all ours without headers) whose
token belongs to the party named by the OCPI-from headers (without headers: any party of the
calling platform).
"""

from collections.abc import Sequence
from typing import Any

from django.db.models import Model
from rest_framework.request import Request
from rest_framework.response import Response

from credentials.authentication import OcpiPrincipal
from credentials.models import PartnerRole
from credentials.routing import FunctionalModuleApi
from ocpi.exceptions import InvalidParameters, NotFound, OcpiError
from ocpi.openapi import ocpi_schema
from ocpi.pagination import paginated_response
from ocpi.responses import ocpi_response
from ocpi.routing import PartyRef
from ocpi.status import OcpiStatus
from sessions import openapi, services
from sessions.errors import NotCapable
from sessions.preferences import takes_charging_preferences
from sessions.selectors import session_get, session_list
from sessions.serializers import ChargingPreferencesSerializer, SessionSerializer


class SessionNotFound(NotFound):
    default_message = "Unknown session"


class ChargingPreferencesNotSupported(OcpiError):
    """mod_sessions, ChargingPreferencesResponse: HTTP 404 for an EVSE without the capability."""

    http_status = 404
    status_code = OcpiStatus.INVALID_PARAMETERS
    default_message = "The EVSE does not support charging preferences"


def render_sessions(sessions: Sequence[Model]) -> list[Any]:
    return list(SessionSerializer(sessions, many=True).data)


class SessionsSenderApi(FunctionalModuleApi):
    def owners(self) -> list[PartyRef]:
        """Our party addressed, or all of ours (as read for routing: no further query)."""
        return [PartyRef.of(p.country_code, p.party_id) for p in self.route.receivers()]

    def token_parties(self) -> list[PartyRef]:
        """The calling party, or every party of the calling platform."""
        sender = self.route.sender
        if sender is not None:
            roles: Sequence[PartnerRole] = [sender]
        else:
            principal = self.request.user
            assert isinstance(principal, OcpiPrincipal)  # FunctionalModuleApi.initial
            roles = principal.roles
        return [PartyRef.of(role.country_code, role.party_id) for role in roles]


class SessionSenderListApi(SessionsSenderApi):
    @ocpi_schema(
        operation_id="sessions_list",
        summary="The caller's sessions last updated in [date_from, date_to), paginated",
        data=openapi.SESSION,
        many=True,
        functional=True,
        extra_parameters=openapi.PAGE_PARAMETERS,
    )
    def get(self, request: Request) -> Response:
        sessions = session_list(owners=self.owners(), token_parties=self.token_parties())
        return paginated_response(request, sessions, render_sessions, date_from_required=True)


class ChargingPreferencesApi(SessionsSenderApi):
    @ocpi_schema(
        operation_id="sessions_charging_preferences",
        summary="Set the driver's charging preferences for a running session",
        request={"application/json": openapi.CHARGING_PREFERENCES},
        data=openapi.CHARGING_PREFERENCES_RESPONSE,
        functional=True,
    )
    def put(self, request: Request, session_id: str) -> Response:
        session = session_get(
            owners=self.owners(), token_parties=self.token_parties(), session_id=session_id
        )
        if session is None:
            raise SessionNotFound(f"Unknown session {session_id}")
        if not takes_charging_preferences(session):
            raise ChargingPreferencesNotSupported(
                f"The EVSE of session {session.ocpi_id} is not CHARGING_PREFERENCES_CAPABLE"
            )
        if not isinstance(request.data, dict):
            raise InvalidParameters("The body must be a ChargingPreferences object")
        serializer = ChargingPreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            decision = services.session_set_charging_preferences(
                session=session, preferences=serializer.validated_data
            )
        except NotCapable as exc:  # the EVSE changed since the check above
            raise ChargingPreferencesNotSupported(str(exc)) from exc
        return ocpi_response(decision)
