"""A charge point's tokens → tokens.services.authorize() → what OCPP answers.

A driver's tap (Authorize) is decided by tokens.services.authorize() (the cache, the
whitelist, real time at the eMSP) for the EVSEs of the charge point, and the decision is
recorded (AuthorizationRecord): the transaction that follows within
OCPP_AUTHORIZATION_REUSE_SECONDS starts its session from it, the eMSP's
authorization_reference included, whichever gateway process receives it; only a token
without a recent decision is asked about again.

Two tables hold the mappings: STATUSES (a decision's result → the 1.6 and 2.0.1
AuthorizationStatus) and ID_TOKEN_TYPES (2.0.1 IdTokenEnumType ↔ OCPI TokenType).
tokens.services.authorize() makes an HTTP request: never call these in a database transaction.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models.functions import Upper

from chargers.mapping import evses_of
from chargers.models import (
    AuthorizationRecord,
    ChargePoint,
    ChargePointEvse,
    OcppVersion,
    Reservation,
    ReservationState,
)
from ocpi.routing import PartyRef
from ocpi.time import format_datetime
from tokens.authorization import AuthorizationDecision, LocationReferences, Result, Source
from tokens.models import Token, TokenType
from tokens.services import authorize

Payload = dict[str, Any]

ACCEPTED = "Accepted"

# tokens.authorization.Result → (OCPP 1.6 AuthorizationStatus, OCPP 2.0.1 AuthorizationStatus).
# 1.6 knows only Accepted, Blocked, Expired, Invalid and ConcurrentTx: a known token refused
# here is Blocked, one nobody vouches for Invalid. NotAllowedTypeEVSE and NotAtThisTime have no
# OCPI reason behind them (an eMSP answers NOT_ALLOWED for "not here"), ConcurrentTx neither.
STATUSES: dict[Result, tuple[str, str]] = {
    Result.ALLOWED: (ACCEPTED, ACCEPTED),
    Result.BLOCKED: ("Blocked", "Blocked"),
    Result.EXPIRED: ("Expired", "Expired"),
    Result.NO_CREDIT: ("Blocked", "NoCredit"),
    Result.NOT_ALLOWED: ("Blocked", "NotAtThisLocation"),
    Result.UNKNOWN_TOKEN: ("Invalid", "Unknown"),
    Result.NOT_ENOUGH_INFORMATION: ("Invalid", "Invalid"),
    Result.NO_ANSWER: ("Invalid", "Invalid"),
    Result.REJECTED: ("Invalid", "Invalid"),
}

# (OCPP 2.0.1 IdTokenEnumType, OCPI TokenType). Read from a charge point, a type is the OCPI
# type of its first pair; sent to one, an OCPI type is the OCPP type of its first pair.
# NoAuthorization (free vend) names no token of any eMSP: it has no pair, and is accepted
# without a session (authorize_id_token).
ID_TOKEN_TYPE_PAIRS: tuple[tuple[str, str], ...] = (
    ("ISO14443", TokenType.RFID),
    ("ISO15693", TokenType.RFID),
    ("Central", TokenType.APP_USER),
    ("Central", TokenType.AD_HOC_USER),
    ("eMAID", TokenType.OTHER),
    ("KeyCode", TokenType.OTHER),
    ("Local", TokenType.OTHER),
    ("MacAddress", TokenType.OTHER),
)


def ocpi_token_type(id_token_type: str) -> str | None:
    """The OCPI TokenType of a 1.6 idTag ("": an RFID card) or a 2.0.1 idToken type."""
    if not id_token_type:
        return TokenType.RFID
    return next((ocpi for ocpp, ocpi in ID_TOKEN_TYPE_PAIRS if ocpp == id_token_type), None)


def ocpp_id_token_type(token_type: str) -> str:
    """The 2.0.1 IdTokenEnumType a token of OCPI type `token_type` is sent as."""
    return next(ocpp for ocpp, ocpi in ID_TOKEN_TYPE_PAIRS if ocpi == token_type)


def status_of(decision: AuthorizationDecision, version: str, evse_uid: str | None = None) -> str:
    """The AuthorizationStatus answered for `decision` (at `evse_uid`, when it is known)."""
    result = decision.result
    if decision.allowed and (evse_uid is None or decision.allows_evse(evse_uid)):
        result = Result.ALLOWED
    elif result == Result.ALLOWED:  # allowed, but not at this EVSE
        result = Result.NOT_ALLOWED
    return STATUSES[result][0 if version == OcppVersion.V16 else 1]


# --- deciding -------------------------------------------------------------------------------


def authorize_id_token(
    charge_point: ChargePoint, id_token: str, id_token_type: str, at: datetime
) -> AuthorizationDecision:
    """Ask tokens.services.authorize() about a token presented at `charge_point` (at `at`,
    our clock) for its EVSEs, and record the decision. A token holding a reservation there is
    decided by the reservation instead (_reservation_decision)."""
    token_type = ocpi_token_type(id_token_type)
    reserved = _reservation_decision(charge_point, id_token)
    if reserved is not None:
        decision = reserved
    elif token_type is None:
        # The charge point does not authorize (free vend): accepted, and no token to bill,
        # so no session (sessions.services.session_start_authorized).
        decision = AuthorizationDecision(
            True, Result.ALLOWED, Source.NONE, f"{id_token_type}: nobody to bill"
        )
    else:
        evses = evses_of(charge_point)
        location = evses[0].location if evses else None
        decision = authorize(
            party=None,
            uid=id_token,
            token_type=token_type,
            location=None
            if location is None
            else LocationReferences(
                location.ocpi_id,
                tuple(evse.uid for evse in evses if evse.location_id == location.pk),
            ),
            cpo=None if location is None else PartyRef.of(location.country_code, location.party_id),
        )
    _record(charge_point, id_token, id_token_type, decision, at)
    return decision


def _reservation_decision(charge_point: ChargePoint, id_token: str) -> AuthorizationDecision | None:
    """A token holding an accepted reservation at this charge point is allowed at the reserved
    EVSE without asking its eMSP, who authorized it in the RESERVE_NOW (mod_commands,
    ReserveNow: no real-time authorization for it); None when it holds none."""
    held = (
        Reservation.objects.select_related("evse__location")
        .filter(charge_point=charge_point, id_token=id_token, state=ReservationState.ACTIVE)
        .order_by("-created_at")
        .first()
    )
    if held is None:
        return None
    token = held.token
    party = PartyRef.of(held.party_country_code, held.party_party_id)
    cached = Token.objects.for_party(party).identified(token["uid"], token["type"]).first()
    return AuthorizationDecision(
        True,
        Result.ALLOWED,
        Source.COMMAND,
        f"reservation {held.reservation_id} of {party}",
        party=party,
        token=cached,
        authorization_reference=held.authorization_reference or None,
        location=LocationReferences(held.evse.location.ocpi_id, (held.evse.uid,)),
    )


def recorded_decision(
    charge_point: ChargePoint, id_token: str, id_token_type: str
) -> AuthorizationDecision | None:
    """The last decision recorded for this token at this charge point, however old."""
    record = (
        AuthorizationRecord.objects.select_related("token")
        .filter(charge_point=charge_point, id_token=id_token, id_token_type=id_token_type)
        .first()
    )
    return None if record is None else _decision(record)


def decision_for(
    charge_point: ChargePoint, id_token: str, id_token_type: str, at: datetime
) -> AuthorizationDecision:
    """The decision recorded for this token at this charge point within
    OCPP_AUTHORIZATION_REUSE_SECONDS before `at` (our clock), else a new one."""
    since = at - timedelta(seconds=settings.OCPP_AUTHORIZATION_REUSE_SECONDS)
    record = (
        AuthorizationRecord.objects.select_related("token")
        .filter(
            charge_point=charge_point,
            id_token=id_token,
            id_token_type=id_token_type,
            decided_at__gte=since,
        )
        .first()
    )
    if record is not None:
        return _decision(record)
    return authorize_id_token(charge_point, id_token, id_token_type, at)


def _record(
    charge_point: ChargePoint,
    id_token: str,
    id_token_type: str,
    decision: AuthorizationDecision,
    at: datetime,
) -> None:
    party = decision.party
    location = decision.location
    AuthorizationRecord.objects.update_or_create(
        charge_point=charge_point,
        id_token=id_token,
        id_token_type=id_token_type,
        defaults={
            "decided_at": at,
            "allowed": decision.allowed,
            "result": decision.result,
            "source": decision.source,
            "reason": decision.reason,
            "token": decision.token,
            "party_country_code": party.country_code if party else "",
            "party_party_id": party.party_id if party else "",
            "authorization_reference": decision.authorization_reference or "",
            "location_id": location.location_id if location else "",
            "evse_uids": list(location.evse_uids) if location else [],
        },
    )


def _decision(record: AuthorizationRecord) -> AuthorizationDecision:
    return AuthorizationDecision(
        allowed=record.allowed,
        result=Result(record.result),
        source=Source(record.source),
        reason=f"{record.reason} (decided at {format_datetime(record.decided_at)})",
        party=PartyRef.of(record.party_country_code, record.party_party_id)
        if record.party_country_code
        else None,
        token=record.token,
        authorization_reference=record.authorization_reference or None,
        location=LocationReferences(record.location_id, tuple(record.evse_uids))
        if record.location_id
        else None,
    )


# --- answering ------------------------------------------------------------------------------


def _cache_expiry(status: str, at: datetime) -> str | None:
    """An accepted token is cached by the charge point no longer than we reuse the decision:
    then it asks again (and the eMSP's newer word counts)."""
    if status != ACCEPTED:
        return None
    return format_datetime(at + timedelta(seconds=settings.OCPP_AUTHORIZATION_REUSE_SECONDS))


def id_tag_info(
    decision: AuthorizationDecision, at: datetime, evse_uid: str | None = None
) -> Payload:
    """OCPP 1.6 IdTagInfo: status, expiryDate (accepted), parentIdTag (the token's group)."""
    status = status_of(decision, OcppVersion.V16, evse_uid)
    info: Payload = {"status": status}
    expiry = _cache_expiry(status, at)
    if expiry is not None:
        info["expiryDate"] = expiry
    token = decision.token
    if token is not None and token.group_id and len(token.group_id) <= 20:
        info["parentIdTag"] = token.group_id
    return info


def id_token_info(
    charge_point: ChargePoint,
    decision: AuthorizationDecision,
    at: datetime,
    evse_uid: str | None = None,
) -> Payload:
    """OCPP 2.0.1 IdTokenInfo: status, cacheExpiryDateTime (accepted), evseId (the EVSEs the
    eMSP restricted the token to), groupIdToken and language1 of the token."""
    status = status_of(decision, OcppVersion.V201, evse_uid)
    info: Payload = {"status": status}
    expiry = _cache_expiry(status, at)
    if expiry is not None:
        info["cacheExpiryDateTime"] = expiry
    restriction = decision.evse_uids
    if status == ACCEPTED and restriction is not None:
        allowed = ChargePointEvse.objects.filter(charge_point=charge_point).annotate(
            uid=Upper("evse__uid")
        )
        ids = allowed.filter(uid__in=[uid.upper() for uid in restriction]).values_list(
            "ocpp_evse_id", flat=True
        )
        if ids:
            info["evseId"] = sorted(ids)
    token = decision.token
    if token is not None and token.group_id:
        info["groupIdToken"] = {"idToken": token.group_id, "type": "Central"}
    if token is not None and token.language:
        info["language1"] = token.language
    return info
