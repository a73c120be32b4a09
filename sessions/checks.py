"""Checks of what the session services are given, each raising the SessionError that says why.

Services take plain values from charge point events and operators, not validated OCPI
payloads, so the limits the Session object puts on them (mod_sessions, Session object:
CiString and string lengths, AuthMethod, CdrToken) are checked here before anything is stored.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from credentials.selectors import local_party
from locations.models import EVSE, Location, Status
from ocpi.routing import PartyRef
from sessions.errors import IllegalTransition, NotAtRoamingLocation, SessionError
from sessions.models import AuthMethod, Session, SessionStatus
from sessions.serializers import CdrTokenSerializer

# The lifecycle (mod_sessions, SessionStatus): COMPLETED and INVALID are final.
_NEXT = {
    SessionStatus.PENDING: {SessionStatus.ACTIVE, SessionStatus.INVALID},
    SessionStatus.RESERVATION: {
        SessionStatus.ACTIVE,
        SessionStatus.COMPLETED,
        SessionStatus.INVALID,
    },
    SessionStatus.ACTIVE: {SessionStatus.COMPLETED, SessionStatus.INVALID},
}


def aware(moment: datetime, name: str = "at") -> None:
    if moment.tzinfo is None:
        raise SessionError(f"{name} must be timezone-aware (UTC)")


def transition(session: Session, target: str) -> None:
    if target not in _NEXT.get(SessionStatus(session.status), set()):
        raise IllegalTransition(
            f"Session {session.ocpi_id} is {session.status} and cannot become {target}"
        )


def require_active(session: Session) -> None:
    if session.status != SessionStatus.ACTIVE:
        raise IllegalTransition(
            f"Session {session.ocpi_id} is {session.status}: only an ACTIVE session is metered"
        )


def cdr_token(token: Mapping[str, Any]) -> dict[str, Any]:
    """The CdrToken fields, validated (mod_cdrs, CdrToken)."""
    serializer = CdrTokenSerializer(data=dict(token))
    if not serializer.is_valid():
        raise SessionError(f"Invalid CdrToken: {dict(serializer.errors)}")
    return dict(serializer.validated_data)


def auth_method(value: str) -> str:
    if value not in AuthMethod.values:
        raise SessionError(f"auth_method must be one of {', '.join(AuthMethod.values)}")
    return value


def text(value: str, name: str, max_length: int, *, ascii_only: bool) -> str:
    """A CiString (printable ASCII) or string (no control characters) of max_length."""
    if len(value) > max_length:
        raise SessionError(f"{name} is longer than {max_length} characters")
    printable = all(" " <= ch <= "~" for ch in value) if ascii_only else value.isprintable()
    if not printable:
        raise SessionError(f"{name} must be printable {'ASCII' if ascii_only else 'text'}")
    return value


def authorization_reference(value: str) -> str:
    return text(value, "authorization_reference", 36, ascii_only=True)


def session_id(value: str | None) -> str:
    """A fresh id (a UUID: 36 characters, the CiString(36) limit) or the one given."""
    if value is None:
        return str(uuid.uuid4())
    if not value:
        raise SessionError("A session id cannot be empty")
    return text(value, "session_id", 36, ascii_only=True)


def owner_of(location: Location) -> PartyRef:
    party = PartyRef.of(location.country_code, location.party_id)
    if not location.roaming:
        raise NotAtRoamingLocation(f"Location {location.ocpi_id} is not offered to roaming")
    if local_party(party) is None:
        raise NotAtRoamingLocation(f"Location {location.ocpi_id} is not of a party of ours")
    return party


def usable(evse: EVSE) -> None:
    if evse.status == Status.REMOVED:
        raise NotAtRoamingLocation(f"EVSE {evse.uid} is REMOVED")
