"""Reservations of our EVSEs for an eMSP's token (OCPI RESERVE_NOW / CANCEL_RESERVATION,
mod_commands; OCPP 1.6 Reservation profile, 2.0.1 functional block H), on the charge point
side. The OCPI commands module calls reserve() and cancel(); the protocol rules live here:

    reserve()   a Reservation row (REQUESTED) under a fresh OCPP reservation id (its primary
                key: unique, allocated by the database under any concurrency), ReserveNow
                sent through chargers.calls. A RESERVE_NOW with the (party, reservation_id) of a
                held reservation replaces it (mod_commands, ReserveNow): at the same charge
                point under the same OCPP id, so the charge point replaces its own
    answered()  the ReserveNow (or CancelReservation) answer applied to its reservation;
                called by the call's follow-up (ours, or the caller's, which must call it
                first: /work/notes/reservations-API.md)
    Accepted    → ACTIVE: its eMSP's Session in status RESERVATION (sessions.services
                  .session_reserve, PUT), the EVSE RESERVED (chargers.status)
    Faulted, Occupied, Rejected, Unavailable → REJECTED; CALLERROR or no answer → FAILED
    cancel()    CancelReservation; Accepted → CANCELLED
    end         expiry (beat, or the charge point: 2.0.1 ReservationStatusUpdate, 1.6 its
                connector leaving Reserved), a cancellation: the session ends, the EVSE's
                status is derived again, `reservation_ended` is sent in that transaction
    use()       its token starts charging on its EVSE: the reservation's session becomes the
                charging session (ACTIVE), the reservation USED (mod_sessions, Reservation:
                "the Session object status to: ACTIVE")

The session of a reservation that ends unused is COMPLETED ("When a reservation does not
result in a charging session, the Session object status SHALL be set to: COMPLETED",
mod_sessions), so its reservation time may be billed (a CDR may follow) when it expired or
its eMSP cancelled it. Cancelled by the operator or the charge point, the driver never got
what was reserved: INVALID, never billed.
"""

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.dispatch import Signal

from chargers import calls, status
from chargers.authorization import ocpp_id_token_type
from chargers.follow_ups import follow_up
from chargers.models import (
    CallState,
    ChargePoint,
    ChargePointCall,
    ChargePointEvse,
    OcppVersion,
    Reservation,
    ReservationEnd,
    ReservationState,
)
from locations.models import EVSE, Connector
from ocpi.routing import PartyRef
from ocpi.time import format_datetime, now
from sessions import services as sessions
from sessions.errors import SessionError
from sessions.models import AuthMethod, Session, SessionStatus

logger = logging.getLogger(__name__)

RESERVE_NOW = "ReserveNow"
CANCEL_RESERVATION = "CancelReservation"
ACCEPTED = "Accepted"
FOLLOW_UP_RESERVE = "reservations.reserve_now"
FOLLOW_UP_CANCEL = "reservations.cancel"
# 1.6 IdToken and parentIdTag are CiString20; 2.0.1 IdTokenType.idToken is string(36).
ID_TAG_16_MAX = 20
# A 1.6 charge point that releases its connector this close to the expiry date (its clock
# may be a little off) let the reservation expire rather than cancelled it.
EXPIRY_TOLERANCE = timedelta(seconds=60)
# The session of a reservation that ends unused: billable unless the CPO side ended it.
UNBILLED_ENDS = frozenset({ReservationEnd.OPERATOR, ReservationEnd.CHARGE_POINT})

# What is kept of the command's Token (mod_tokens, Token object): its identity, the CdrToken
# of the session, the group and preferences the charge point and the tariff choice use. All
# strings, so the JSON field stores them whatever form the caller's Token data is in.
TOKEN_FIELDS = (
    "country_code",
    "party_id",
    "uid",
    "type",
    "contract_id",
    "visual_number",
    "issuer",
    "group_id",
    "language",
    "default_profile_type",
)

# Sent inside the transaction that ends a held reservation other than by its use or a
# replacement (kwargs: reservation=the Reservation as saved): the commands module reports a
# cancellation by the CPO side to the eMSP (CommandResult CANCELED_RESERVATION, mod_commands).
reservation_ended = Signal()


class ReservationRefused(ValueError):
    """The reservation cannot be sent (unknown EVSE, expiry passed, a token the charge point
    cannot take, another eMSP's token, nothing held to cancel); nothing was stored."""


# --- reserving ------------------------------------------------------------------------------


def reserve(
    *,
    evse: EVSE,
    token: Mapping[str, Any],
    reservation_id: str,
    party: PartyRef,
    expiry_date: datetime,
    authorization_reference: str | None = None,
    follow_up: str = "",
    requested_by: str = "",
    timeout: float | None = None,
) -> Reservation:
    """Reserve `evse` for `token` (the OCPI Token of the command) until `expiry_date`.

    Returns the REQUESTED reservation, its ReserveNow queued (Reservation.call). The call's
    follow-up is `follow_up` when given (it must call answered(call) first), else ours.
    Raises ReservationRefused, chargers.calls.ChargePointOffline or InvalidCall before storing
    anything."""
    if PartyRef.of(token["country_code"], token["party_id"]) != party:
        raise ReservationRefused(f"The token {token['uid']} is not {party}'s")
    if expiry_date <= now():
        raise ReservationRefused(f"The expiry date {format_datetime(expiry_date)} has passed")
    link = ChargePointEvse.objects.select_related("charge_point").filter(evse=evse).first()
    if link is None:
        raise ReservationRefused(f"EVSE {evse.uid} is on none of our charge points")
    charge_point = link.charge_point
    version = calls.version_of(charge_point)
    id_token, id_token_type = _id_token(token, version)
    moment = now()
    with transaction.atomic():
        replaced = (
            Reservation.objects.held()
            .by_reservation_id(party.country_code, party.party_id, reservation_id)
            .filter(charge_point=charge_point)
            .select_for_update(of=("self",))
            .first()
        )
        row = Reservation.objects.create(
            party_country_code=party.country_code,
            party_party_id=party.party_id,
            reservation_id=reservation_id,
            charge_point=charge_point,
            ocpp_evse_id=link.ocpp_evse_id,
            evse=evse,
            token={name: str(token[name]) for name in TOKEN_FIELDS if token.get(name)},
            id_token=id_token,
            id_token_type=id_token_type,
            expiry_date=expiry_date,
            authorization_reference=authorization_reference or "",
            requested_by=requested_by,
            created_at=moment,
            updated_at=moment,
        )
        row.ocpp_id = replaced.ocpp_id if replaced is not None else row.pk
        row.call = calls.send(
            charge_point,
            RESERVE_NOW,
            _reserve_now(version, row, token),
            timeout=timeout,
            requested_by=requested_by,
            follow_up=follow_up or FOLLOW_UP_RESERVE,
        )
        row.save(update_fields=["ocpp_id", "call"])
    return row


def _id_token(token: Mapping[str, Any], version: str) -> tuple[str, str]:
    """What the charge point will see presented: (1.6 idTag or 2.0.1 idToken, 2.0.1 type)."""
    uid = token["uid"]
    if version == OcppVersion.V16:
        if len(uid) > ID_TAG_16_MAX:
            raise ReservationRefused(
                f"Token uid {uid} is longer than an OCPP 1.6 idTag ({ID_TAG_16_MAX})"
            )
        return uid, ""
    return uid, ocpp_id_token_type(token["type"])


def _reserve_now(version: str, row: Reservation, token: Mapping[str, Any]) -> dict[str, Any]:
    group = token.get("group_id") or ""
    expiry = format_datetime(row.expiry_date)
    if version == OcppVersion.V16:
        payload: dict[str, Any] = {
            "connectorId": row.ocpp_evse_id,
            "expiryDate": expiry,
            "idTag": row.id_token,
            "reservationId": row.ocpp_id,
        }
        if group and len(group) <= ID_TAG_16_MAX:
            payload["parentIdTag"] = group
        return payload
    payload = {
        "id": row.ocpp_id,
        "expiryDateTime": expiry,
        "idToken": {"idToken": row.id_token, "type": row.id_token_type},
        "evseId": row.ocpp_evse_id,
    }
    if group:
        payload["groupIdToken"] = {"idToken": group, "type": "Central"}
    return payload


# --- cancelling -----------------------------------------------------------------------------


def cancel(
    reservation: Reservation,
    *,
    by: ReservationEnd = ReservationEnd.EMSP,
    follow_up: str = "",
    requested_by: str = "",
    timeout: float | None = None,
) -> ChargePointCall:
    """Send CancelReservation for a held reservation; once Accepted it is CANCELLED by `by`
    (kept in ended_by meanwhile). The call's follow-up is `follow_up` when given (it must
    call answered(call) first), else ours. Raises ReservationRefused when it is not held,
    chargers.calls.ChargePointOffline or InvalidCall."""
    with transaction.atomic():
        row = _locked(reservation.pk)
        if not row.held:
            raise ReservationRefused(f"{row} is not held")
        call = calls.send(
            row.charge_point,
            CANCEL_RESERVATION,
            {"reservationId": row.ocpp_id},
            timeout=timeout,
            requested_by=requested_by,
            follow_up=follow_up or FOLLOW_UP_CANCEL,
        )
        row.cancel_call = call
        row.ended_by = by
        row.updated_at = now()
        row.save(update_fields=["cancel_call", "ended_by", "updated_at"])
    return call


def cancel_here(reservation: Reservation, *, by: ReservationEnd = ReservationEnd.OPERATOR) -> bool:
    """End a held reservation without telling its charge point (it is offline; it expires the
    reservation there itself). Whether it was held."""
    with transaction.atomic():
        row = _locked(reservation.pk)
        if not row.held:
            return False
        _end(
            row,
            ReservationState.CANCELLED,
            by,
            now(),
            "cancelled here; the charge point was not told",
        )
    return True


# --- answers --------------------------------------------------------------------------------


@follow_up(FOLLOW_UP_RESERVE)
def _reserve_now_ended(call: ChargePointCall) -> None:
    answered(call)


@follow_up(FOLLOW_UP_CANCEL)
def _cancel_ended(call: ChargePointCall) -> None:
    answered(call)


def answered(call: ChargePointCall) -> Reservation | None:
    """Apply a final ReserveNow or CancelReservation call to its reservation; the reservation
    as saved (None: the call is no reservation's). Safe to repeat: only a reservation still
    waiting for that answer changes."""
    with transaction.atomic():
        row = _lockable().filter(Q(call=call) | Q(cancel_call=call)).first()
        if row is None:
            return None
        if row.call_id == call.pk:
            _reserve_answered(row, call)
        else:
            _cancel_answered(row, call)
    return row


def outcome(call: ChargePointCall) -> str:
    """The charge point's answer as a word: its status, else the CALLERROR or timeout."""
    if call.state == CallState.ANSWERED:
        return str((call.response or {}).get("status", ""))
    if call.state == CallState.FAILED:
        return f"CALLERROR {call.error_code}: {call.error_description}"[:100]
    return "no answer in time"


def _reserve_answered(row: Reservation, call: ChargePointCall) -> None:
    if row.state != ReservationState.REQUESTED or call.state not in ChargePointCall.FINAL:
        return  # ended meanwhile (a report of the charge point, a cancellation)
    row.answer = outcome(call)
    row.updated_at = now()
    if call.state == CallState.ANSWERED and row.answer == ACCEPTED:
        _activate(row)
        return
    row.state = (
        ReservationState.REJECTED if call.state == CallState.ANSWERED else ReservationState.FAILED
    )
    row.ended_at = row.updated_at
    row.save()
    logger.info("%s at %s: %s", row, row.charge_point, row.answer)


def _activate(row: Reservation) -> None:
    """Accepted: the held reservation it replaces ends, its session (at the same EVSE) or a new
    one is the RESERVATION session, the EVSE is RESERVED."""
    moment = row.updated_at
    predecessors = list(
        Reservation.objects.select_for_update(of=("self",))
        .select_related("charge_point", "session")
        .filter(state=ReservationState.ACTIVE)
        .filter(
            Q(ocpp_id=row.ocpp_id)
            | Q(
                party_country_code=row.party_country_code,
                party_party_id=row.party_party_id,
                reservation_id__ci=row.reservation_id,
            )
        )
        .exclude(pk=row.pk)
    )
    session: Session | None = None
    touched: dict[int, ChargePoint] = {row.charge_point_id: row.charge_point}
    for old in predecessors:
        kept = old.session if old.evse_id == row.evse_id and session is None else None
        if kept is not None:
            session, old.session = kept, None
        old.state, old.ended_by, old.ended_at = (
            ReservationState.REPLACED,
            ReservationEnd.REPLACEMENT,
            moment,
        )
        old.updated_at = moment
        old.save()
        if kept is None:
            _close_session(old, moment)
        if old.charge_point_id != row.charge_point_id:
            _forget_at_charge_point(old)
            touched[old.charge_point_id] = old.charge_point
    row.state = ReservationState.ACTIVE
    row.session = session or _reservation_session(row, moment)
    row.save()
    for charge_point in touched.values():
        status.refresh(charge_point)


def _reservation_session(row: Reservation, at: datetime) -> Session | None:
    """Its eMSP's RESERVATION session (PUT). A session service's refusal is logged: the charge
    point holds the reservation all the same."""
    token = row.token
    try:
        return sessions.session_reserve(
            location=row.evse.location,
            evse=row.evse,
            token=token,
            at=at,
            auth_method=AuthMethod.COMMAND,
            authorization_reference=row.authorization_reference,
            profile_type=token.get("default_profile_type") or None,
        )
    except SessionError as exc:
        logger.warning("%s: no RESERVATION session (%s)", row, exc)
        return None


def _forget_at_charge_point(old: Reservation) -> None:
    """A replacement at another charge point: the old one is cancelled there, if it is
    connected (else it expires there; ours has ended)."""
    try:
        old.cancel_call = calls.send(
            old.charge_point,
            CANCEL_RESERVATION,
            {"reservationId": old.ocpp_id},
            requested_by="replaced reservation",
        )
    except calls.ChargePointOffline:
        logger.info("%s replaced; its charge point %s is offline", old, old.charge_point)
        return
    old.save(update_fields=["cancel_call"])


def _cancel_answered(row: Reservation, call: ChargePointCall) -> None:
    if not row.held or call.state not in ChargePointCall.FINAL:
        return
    answer = outcome(call)
    if call.state == CallState.ANSWERED and answer == ACCEPTED:
        by = ReservationEnd(row.ended_by or ReservationEnd.EMSP)
        _end(row, ReservationState.CANCELLED, by, now(), "CancelReservation Accepted")
        return
    row.answer = f"CancelReservation: {answer}"[:100]
    row.ended_by = ""
    row.updated_at = now()
    row.save(update_fields=["answer", "ended_by", "updated_at"])


# --- ends -----------------------------------------------------------------------------------


def expire_due(moment: datetime) -> int:
    """Expire every held reservation whose expiry date has come (a 1.6 charge point says
    nothing when it expires one); how many."""
    pks = list(
        Reservation.objects.filter(state=ReservationState.ACTIVE, expiry_date__lte=moment)
        .order_by("expiry_date", "pk")
        .values_list("pk", flat=True)
    )
    expired = 0
    for pk in pks:
        with transaction.atomic():
            row = _locked(pk)
            if row.state == ReservationState.ACTIVE and row.expiry_date <= moment:
                _end(row, ReservationState.EXPIRED, ReservationEnd.EXPIRY, row.expiry_date, "")
                expired += 1
    return expired


def ended_by_charge_point(charge_point: ChargePoint, ocpp_id: int, expired: bool) -> bool:
    """2.0.1 ReservationStatusUpdate: the charge point expired (Expired) or removed (Removed)
    reservation `ocpp_id`. Whether one of ours was held."""
    with transaction.atomic():
        locked = (
            _lockable()
            .filter(charge_point=charge_point, ocpp_id=ocpp_id, state__in=Reservation.HELD)
            .order_by("state", "-created_at")  # ACTIVE before REQUESTED
            .first()
        )
        if locked is None:
            return False
        moment = now()
        if expired:
            at = min(moment, max(locked.expiry_date, locked.created_at))
            _end(locked, ReservationState.EXPIRED, ReservationEnd.EXPIRY, at, "Expired")
        else:
            _end(locked, ReservationState.CANCELLED, _remover(locked), moment, "Removed")
    return True


def connector_released(charge_point: ChargePoint, ocpp_evse_id: int, at: datetime) -> bool:
    """1.6: a connector reported Reserved now reports Available, Unavailable or Faulted: the
    charge point no longer holds its reservation (expired there, or dropped). Whether one was
    held."""
    with transaction.atomic():
        locked = (
            _lockable()
            .filter(
                charge_point=charge_point,
                ocpp_evse_id=ocpp_evse_id,
                state=ReservationState.ACTIVE,
            )
            .first()
        )
        if locked is None:
            return False
        if at >= locked.expiry_date - EXPIRY_TOLERANCE:
            _end(
                locked,
                ReservationState.EXPIRED,
                ReservationEnd.EXPIRY,
                min(at, locked.expiry_date),
                "",
            )
        else:
            _end(locked, ReservationState.CANCELLED, _remover(locked), at, "connector released")
    return True


def _remover(row: Reservation) -> ReservationEnd:
    """Who ended a held reservation the charge point reports gone before its expiry: whoever
    sent the CancelReservation still awaiting its answer (the report often arrives first:
    a 1.6 charge point frees the connector as it accepts), else the charge point itself."""
    if row.cancel_call_id is not None and row.ended_by:
        return ReservationEnd(row.ended_by)
    return ReservationEnd.CHARGE_POINT


def _end(row: Reservation, state: str, by: ReservationEnd, at: datetime, answer: str) -> None:
    """`row` (locked, held) ends at `at`: its session ends, its EVSE's status is derived again,
    `reservation_ended` is sent."""
    row.state = state
    row.ended_by = by
    row.ended_at = at
    row.updated_at = now()
    if answer:
        row.answer = answer[:100]
    row.save()
    _close_session(row, at)
    status.refresh(row.charge_point)
    reservation_ended.send(sender=Reservation, reservation=row)
    logger.info("%s at %s ended by %s", row, row.charge_point, by)


def _close_session(row: Reservation, at: datetime) -> None:
    session = row.session
    if session is None or session.status != SessionStatus.RESERVATION:
        return
    try:
        if row.ended_by in UNBILLED_ENDS:
            row.session = sessions.session_invalidate(session=session)
        else:
            row.session = sessions.session_stop(
                session=session, at=max(at, session.start_date_time)
            )
    except SessionError as exc:
        logger.warning("%s: its session %s could not end (%s)", row, session.ocpi_id, exc)


# --- use ------------------------------------------------------------------------------------


def held_for(charge_point: ChargePoint, ocpp_evse_id: int, id_token: str) -> Reservation | None:
    """The reservation `id_token` holds on that EVSE of the charge point, if any."""
    return (
        Reservation.objects.filter(
            charge_point=charge_point,
            ocpp_evse_id=ocpp_evse_id,
            state=ReservationState.ACTIVE,
            id_token=id_token,
        )
        .order_by("-created_at")
        .first()
    )


def use(
    *,
    charge_point: ChargePoint,
    connector: Connector,
    ocpp_evse_id: int,
    id_token: str,
    at: datetime,
) -> Session | None:
    """A transaction of `id_token` starts at `at` on a connector of that EVSE: the reservation
    it holds there is USED and its session becomes the charging session (ACTIVE from `at`).
    None when it holds none, or its session cannot become active (then the transaction starts
    a session of its own)."""
    with transaction.atomic():
        found = held_for(charge_point, ocpp_evse_id, id_token)
        if found is None:
            return None
        row = _locked(found.pk)
        if row.state != ReservationState.ACTIVE:
            return None
        row.state = ReservationState.USED
        row.ended_by = ReservationEnd.TRANSACTION
        row.ended_at = row.updated_at = now()
        row.save()
        session = row.session
        activated = None
        if session is not None and session.status == SessionStatus.RESERVATION:
            try:
                activated = sessions.session_activate(
                    session=session, at=max(at, session.start_date_time), connector=connector
                )
            except SessionError as exc:
                logger.warning("%s: its session could not become active (%s)", row, exc)
        logger.info("%s used at %s", row, charge_point)
    return activated


def _lockable() -> "QuerySet[Reservation]":
    """Reservations locked as read (their own rows only), with what their ends read."""
    return Reservation.objects.select_for_update(of=("self",)).select_related(
        "charge_point", "evse__location", "session"
    )


def _locked(pk: int) -> Reservation:
    return _lockable().get(pk=pk)
