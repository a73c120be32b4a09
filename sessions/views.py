"""The Sessions Sender interface (mod_sessions.asciidoc, CPO Interface).

- GET `{url}?date_from=…[&date_to][&offset][&limit]`: the caller's sessions, paginated.
  date_from is required (its Request Parameters table): without it, 2001.
- PUT `{url}/{session_id}/charging_preferences` with ChargingPreferences: data is a
  ChargingPreferencesResponse. An EVSE without CHARGING_PREFERENCES_CAPABLE answers HTTP 404
  with 2001 ("No value should be returned … Use HTTP 404 instead"); an unknown session, or
  another eMSP's, HTTP 404 with 2000 (no OCPI code names a session, and one eMSP learns
  nothing of another's: transport_and_format, access blocking).
- POST, PATCH, DELETE: n/a (HTTP 405).

Scope (credentials.access): sessions of our party named by the OCPI-to headers (all ours
without headers) whose token belongs to the eMSP named by the OCPI-from headers (without
headers: any eMSP party of the calling platform); other roles of that party see none.
"""

from collections.abc import Sequence
from typing import Any

from django.db.models import Model
from rest_framework.request import Request
from rest_framework.response import Response

from credentials.routing import FunctionalModuleApi
from ocpi.exceptions import InvalidParameters, NotFound, OcpiError
from ocpi.openapi import ocpi_schema, page_parameters
from ocpi.pagination import paginated_response
from ocpi.responses import ocpi_response
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


class SessionSenderListApi(FunctionalModuleApi):
    @ocpi_schema(
        operation_id="sessions_list",
        summary="The caller's sessions last updated in [date_from, date_to), paginated",
        data=openapi.SESSION,
        many=True,
        functional=True,
        extra_parameters=page_parameters(date_from_required=True),
    )
    def get(self, request: Request) -> Response:
        route = self.route
        sessions = session_list(owners=route.receiver_parties(), token_parties=route.emsp_parties())
        return paginated_response(request, sessions, render_sessions, date_from_required=True)


class ChargingPreferencesApi(FunctionalModuleApi):
    @ocpi_schema(
        operation_id="sessions_charging_preferences",
        summary="Set the driver's charging preferences for a running session",
        request={"application/json": openapi.CHARGING_PREFERENCES},
        data=openapi.CHARGING_PREFERENCES_RESPONSE,
        functional=True,
    )
    def put(self, request: Request, session_id: str) -> Response:
        session = session_get(
            owners=self.route.receiver_parties(),
            token_parties=self.route.emsp_parties(),
            session_id=session_id,
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
