"""Writes of sessions: the lifecycle, each step one transaction with its push (mod_sessions).

    session_start / session_reserve  → PENDING, ACTIVE or RESERVATION   PUT of the whole Session
    session_start_authorized         session_start from an authorization decision
    session_activate                 PENDING/RESERVATION → ACTIVE        PATCH
    session_meter / session_add_periods  (ACTIVE) periods appended     PATCH with the new periods
    session_progress                 (ACTIVE) kwh, total_cost so far    PATCH, no period
    sessions_progress                session_progress of many at once   PATCHes queued together
    session_stop                     ACTIVE/RESERVATION → COMPLETED      PATCH, session_completed
    session_invalidate               any running status → INVALID        PATCH (never billed)

COMPLETED and INVALID are final: nothing changes a finished session (IllegalTransition).
Each step checks its input (sessions.checks), changes the locked session and its periods
(sessions.metering) and saves it with its push (sessions.pushes) in one transaction; what it
refuses raises a sessions.errors.SessionError.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from locations.models import EVSE, Connector, Location
from ocpi.time import now
from sessions import checks, freeze
from sessions.errors import InvalidPeriods, NotAuthorized, NotCapable, SessionError
from sessions.metering import (
    Reading,
    append_periods,
    end_reservation,
    meter_period,
    metered_kwh,
    volume,
)
from sessions.models import AuthMethod, ChargingPreferencesResponse, Session, SessionStatus
from sessions.preferences import decide, takes_charging_preferences
from sessions.pricing import price, stored_periods_of
from sessions.pushes import (
    figures_snapshot,
    push,
    save_and_patch,
    save_and_patch_figures,
    snapshot,
)
from sessions.serializers import ChargingPreferencesSerializer, energy_of
from sessions.signals import session_completed, session_status_changed
from tokens.authorization import AuthorizationDecision, Source


def _lock(session: Session, *, related: bool = True) -> Session:
    """The session's row locked, with the rows its snapshot reads (unless `related` is
    False: figures_snapshot reads none); the lock is on its row only."""
    rows = Session.objects.select_for_update(of=("self",))
    if related:
        rows = rows.select_related("location", "evse", "connector")
    locked = rows.filter(pk=session.pk).first()
    if locked is None:
        raise SessionError(f"Session {session.ocpi_id} no longer exists")
    return locked


def _fresh(pk: int) -> Session:
    return Session.objects.select_related("location", "evse", "connector").get(pk=pk)


def _reprice(
    session: Session,
    until: datetime | None = None,
    periods: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """total_cost from the engine (sessions.pricing.price); left as it was (unknown) when
    nothing can be priced."""
    cost = price(session, until, periods)
    if cost is not None:
        session.total_cost_excl_vat = cost.total_cost.excl_vat
        session.total_cost_incl_vat = cost.total_cost.incl_vat


# --- creating ---------------------------------------------------------------------------------


def _create(
    *,
    location: Location,
    evse: EVSE | None,
    connector: Connector | None,
    connectors: Sequence[Connector],
    token: Mapping[str, Any],
    auth_method: str,
    authorization_reference: str,
    meter_id: str,
    at: datetime,
    status: str,
    session_id: str | None,
    profile_type: str | None,
) -> Session:
    checks.aware(at)
    owner = checks.owner_of(location)
    cdr_token = checks.cdr_token(token)
    ocpi_id = checks.session_id(session_id)
    tariffs = freeze.tariffs_valid_at(owner, freeze.tariff_ids_of(connectors), at)
    chosen = freeze.choose_tariff(tariffs, profile_type)
    session = Session(
        country_code=location.country_code,
        party_id=location.party_id,
        ocpi_id=ocpi_id,
        start_date_time=at,
        kwh=Decimal(0),
        token_country_code=cdr_token["country_code"],
        token_party_id=cdr_token["party_id"],
        token_uid=cdr_token["uid"],
        token_type=cdr_token["type"],
        contract_id=cdr_token["contract_id"],
        auth_method=checks.auth_method(auth_method),
        authorization_reference=checks.authorization_reference(authorization_reference),
        location=location,
        evse=evse,
        connector=connector,
        meter_id=checks.text(meter_id, "meter_id", 255, ascii_only=False),
        currency=chosen["currency"] if chosen is not None else settings.OCPI_CURRENCY,
        status=status,
        last_updated=now(),
        reserved_from=at if status == SessionStatus.RESERVATION else None,
        metered_until=at if status == SessionStatus.ACTIVE else None,
        cdr_location=freeze.cdr_location(location, evse, connector),
        tariffs=tariffs,
        tariff_id=chosen["id"] if chosen is not None else "",
        time_zone=location.time_zone,
    )
    taken = SessionError(f"Session {ocpi_id} already exists for {owner}")
    with transaction.atomic():
        if Session.objects.for_party(owner).filter(ocpi_id__ci=ocpi_id).exists():
            raise taken
        try:
            with transaction.atomic():  # a savepoint: the same id created meanwhile
                session.save()
        except IntegrityError as exc:
            raise taken from exc
        push(session, "PUT", snapshot(session))
        session_status_changed.send(sender=Session, session=session)
    return _fresh(session.pk)


def session_start(
    *,
    connector: Connector,
    token: Mapping[str, Any],
    auth_method: str,
    at: datetime,
    authorization_reference: str = "",
    meter_id: str = "",
    status: str = SessionStatus.PENDING,
    session_id: str | None = None,
    profile_type: str | None = None,
) -> Session:
    """A new session at `connector` for `token` (CdrToken fields), created at `at`.

    PENDING (not all pre-conditions met yet) or ACTIVE (charging may begin: periods are
    metered from `at`). Freezes the CdrLocation, the connector's tariffs valid at `at` and
    the one that prices the session (sessions.freeze: `profile_type`, e.g. the token's
    default_profile_type, picks a PROFILE_* tariff), the location's time zone and the
    currency (the tariff's, else OCPI_CURRENCY). PUTs the Session to the token's eMSP.
    """
    if status not in (SessionStatus.PENDING, SessionStatus.ACTIVE):
        raise SessionError("A session starts PENDING or ACTIVE (reservations: session_reserve)")
    evse = connector.evse
    checks.usable(evse)
    return _create(
        location=evse.location,
        evse=evse,
        connector=connector,
        connectors=[connector],
        token=token,
        auth_method=auth_method,
        authorization_reference=authorization_reference,
        meter_id=meter_id,
        at=at,
        status=status,
        session_id=session_id,
        profile_type=profile_type,
    )


def session_start_authorized(
    *,
    connector: Connector,
    decision: AuthorizationDecision,
    at: datetime,
    meter_id: str = "",
    status: str = SessionStatus.PENDING,
) -> Session:
    """session_start for a driver that tokens.services.authorize() let charge here.

    The one mapping of an authorization onto the session, for every charge point side:
    the eMSP's answer (REALTIME) makes the session AUTH_REQUEST, its command (a remote start:
    chargers.remote) COMMAND, a decision from our cache or its offline fallback WHITELIST
    (mod_cdrs, AuthMethod); the authorization_reference the eMSP gave is carried into the
    session and from there into its CDR (mod_sessions, authorization_reference: "the latest
    value given by the eMSP").
    """
    evse_uid = connector.evse.uid
    if not decision.allows_evse(evse_uid):
        raise NotAuthorized(f"Token not authorized at EVSE {evse_uid}: {decision.reason}")
    token = decision.token
    if token is None:
        raise NotAuthorized("The authorization names no token to bill (no CdrToken)")
    method = {Source.REALTIME: AuthMethod.AUTH_REQUEST, Source.COMMAND: AuthMethod.COMMAND}.get(
        decision.source, AuthMethod.WHITELIST
    )
    return session_start(
        connector=connector,
        token={
            "country_code": token.country_code,
            "party_id": token.party_id,
            "uid": token.uid,
            "type": token.type,
            "contract_id": token.contract_id,
        },
        auth_method=method,
        authorization_reference=decision.authorization_reference or "",
        at=at,
        meter_id=meter_id,
        status=status,
        profile_type=token.default_profile_type or None,
    )


def session_reserve(
    *,
    location: Location,
    token: Mapping[str, Any],
    at: datetime,
    evse: EVSE | None = None,
    auth_method: str = AuthMethod.COMMAND,
    authorization_reference: str = "",
    session_id: str | None = None,
    profile_type: str | None = None,
) -> Session:
    """A RESERVATION session from `at`, of `evse` or of any EVSE of `location` (evse_uid and
    connector_id "#NA" until charging binds them).

    The tariffs frozen are those of the connectors it may use, valid at `at`, so the
    reservation keeps the prices it was made at through the charge that follows it. Until
    charging binds a connector, the rule of sessions.freeze picks among all of them; then
    among the bound connector's (the reservation's own period is priced with that one).
    """
    if evse is not None:
        if evse.location_id != location.pk:
            raise SessionError(f"EVSE {evse.uid} is not at location {location.ocpi_id}")
        checks.usable(evse)
    try:
        connectors = freeze.connectors_in_scope(location, evse)
        return _create(
            location=location,
            evse=evse,
            connector=None,
            connectors=connectors,
            token=token,
            auth_method=auth_method,
            authorization_reference=authorization_reference,
            meter_id="",
            at=at,
            status=SessionStatus.RESERVATION,
            session_id=session_id,
            profile_type=profile_type,
        )
    except freeze.NothingToCharge as exc:
        raise SessionError(str(exc)) from exc


# --- changing ---------------------------------------------------------------------------------


def session_activate(
    *,
    session: Session,
    at: datetime,
    connector: Connector | None = None,
    auth_method: str | None = None,
    authorization_reference: str | None = None,
) -> Session:
    """PENDING or RESERVATION → ACTIVE at `at`, the new start_date_time (mod_sessions,
    Session.start_date_time: "the time when the session became active").

    A reservation needs the `connector` it charges at (on its EVSE, if it reserved one) and
    gets its RESERVATION_TIME period. auth_method and authorization_reference take the
    latest values the eMSP gave, when given (mod_sessions, Session object).
    """
    checks.aware(at)
    with transaction.atomic():
        locked = _lock(session)
        checks.transition(locked, SessionStatus.ACTIVE)
        if at < locked.start_date_time:
            raise SessionError(f"Session {locked.ocpi_id} cannot become active before it began")
        before = snapshot(locked)
        if connector is not None:
            freeze.bind_connector(locked, connector)
        elif locked.connector_id is None:
            raise SessionError("A reservation becomes active on a connector: name it")
        if auth_method is not None:
            locked.auth_method = checks.auth_method(auth_method)
        if authorization_reference is not None:
            locked.authorization_reference = checks.authorization_reference(authorization_reference)
        new = []
        if locked.status == SessionStatus.RESERVATION:
            new = end_reservation(locked, at)
        locked.status = SessionStatus.ACTIVE
        locked.start_date_time = at
        locked.metered_until = at
        _reprice(locked)
        save_and_patch(locked, before, new)
        session_status_changed.send(sender=Session, session=locked)
    return _fresh(locked.pk)


def session_add_periods(
    *, session: Session, periods: Sequence[Mapping[str, Any]], until: datetime
) -> Session:
    """Append `periods` (ChargingPeriod data: start_date_time, dimensions, tariff_id) that
    cover [the end of the last period, `until`): kwh and total_cost follow; PATCH.

    A period without tariff_id gets the session's pricing tariff's.
    """
    with transaction.atomic():
        locked = _lock(session)
        checks.require_active(locked)
        before = snapshot(locked)
        new = append_periods(locked, periods, until)
        _reprice(locked)
        save_and_patch(locked, before, new)
    return _fresh(locked.pk)


def session_meter(*, session: Session, at: datetime, reading: Reading) -> Session:
    """A meter reading at `at`: one period since the previous reading (ENERGY, TIME while
    charging or PARKING_TIME when no power was requested, and what else the reading says)."""
    with transaction.atomic():
        locked = _lock(session)
        checks.require_active(locked)
        before = snapshot(locked)
        new = append_periods(locked, [meter_period(locked, at, reading)], at)
        _reprice(locked)
        save_and_patch(locked, before, new)
    return _fresh(locked.pk)


def session_progress(*, session: Session, at: datetime, reading: Reading) -> Session:
    """How an ACTIVE session stands at `at` between periods: kwh and total_cost as if the
    open period ended there with `reading` (as for session_meter), but no period is added.
    PATCH of what changed; nothing when nothing did.

    A charge point samples every minute or so, while a period only needs to start where the
    price or the charging state changes (mod_cdrs, ChargingPeriod): the samples in between
    keep the eMSP's view current without a period each. The period added later counts its
    energy from the stored periods, not from this kwh (sessions.metering.metered_kwh).
    """
    result = sessions_progress([Progress(session, at, reading)])[0]
    if isinstance(result, SessionError):
        raise result
    return result


@dataclass(frozen=True)
class Progress:
    """One session_progress of sessions_progress."""

    session: Session
    at: datetime
    reading: Reading


def sessions_progress(items: Sequence[Progress]) -> list[Session | SessionError]:
    """session_progress of many sessions in one transaction, as a gateway's round of meter
    values brings them: their rows locked in one SELECT (in pk order), their stored periods
    read in one, their PATCHes queued together (sessions.pushes.save_and_patch_figures).
    Each item's result in order: the session as saved, or the SessionError that refused it
    (the others go on)."""
    with transaction.atomic():
        rows = Session.objects.select_for_update(of=("self",)).order_by("pk")
        locked = {row.pk: row for row in rows.filter(pk__in={i.session.pk for i in items})}
        periods = stored_periods_of(locked)
        results: list[Session | SessionError] = []
        changed: dict[int, tuple[Session, dict[str, Any]]] = {}
        for item in items:
            try:
                results.append(_progress(locked, periods, item, changed))
            except SessionError as exc:
                results.append(exc)
        save_and_patch_figures(list(changed.values()))
    return results


def _progress(
    locked: Mapping[int, Session],
    periods: Mapping[int, list[dict[str, Any]]],
    item: Progress,
    changed: dict[int, tuple[Session, dict[str, Any]]],
) -> Session:
    session = locked.get(item.session.pk)
    if session is None:
        raise SessionError(f"Session {item.session.ocpi_id} no longer exists")
    checks.require_active(session)
    before = changed[session.pk][1] if session.pk in changed else figures_snapshot(session)
    stored = periods[session.pk]
    metered = metered_kwh(session, stored)
    open_period = {
        **meter_period(session, item.at, item.reading, metered),
        "tariff_id": session.tariff_id,
    }
    session.kwh = metered + energy_of([open_period])
    _reprice(session, item.at, [*stored, open_period])
    if figures_snapshot(session) != before:
        changed[session.pk] = (session, before)
    else:
        changed.pop(session.pk, None)
    return session


def session_stop(*, session: Session, at: datetime, reading: Reading | None = None) -> Session:
    """ACTIVE → COMPLETED at `at`, or a RESERVATION that ended without charging.

    An active session's time since the last reading becomes its last period (`reading`: the
    final meter values; without one, the meter stood still and the vehicle was parked). The
    final kwh and total_cost go out in one PATCH, and session_completed is sent inside the
    same transaction (the CDR is built with the completion or not at all).
    """
    checks.aware(at)
    with transaction.atomic():
        locked = _lock(session)
        checks.transition(locked, SessionStatus.COMPLETED)
        before = snapshot(locked)
        if locked.status == SessionStatus.RESERVATION:
            new = end_reservation(locked, at)
            locked.metered_until = at
        else:
            assert locked.metered_until is not None
            if at < locked.metered_until:
                raise InvalidPeriods(f"The session was metered until {locked.metered_until}")
            final = reading or Reading()
            new = []
            if at > locked.metered_until:
                new = append_periods(locked, [meter_period(locked, at, final)], at)
            elif final.kwh is not None and volume(final.kwh) != locked.kwh:
                raise InvalidPeriods("A final reading needs time after the previous one")
        locked.end_date_time = at
        locked.status = SessionStatus.COMPLETED
        _reprice(locked)
        save_and_patch(locked, before, new)
        completed = _fresh(locked.pk)
        session_completed.send(sender=Session, session=completed)
        session_status_changed.send(sender=Session, session=completed)
    return completed


def session_invalidate(*, session: Session) -> Session:
    """Any running status → INVALID: declared invalid, never billed (no CDR)."""
    with transaction.atomic():
        locked = _lock(session)
        checks.transition(locked, SessionStatus.INVALID)
        before = snapshot(locked)
        locked.status = SessionStatus.INVALID
        save_and_patch(locked, before, [])
        session_status_changed.send(sender=Session, session=locked)
    return _fresh(locked.pk)


# --- charging preferences ---------------------------------------------------------------------


def session_set_charging_preferences(
    *, session: Session, preferences: Mapping[str, Any], at: datetime | None = None
) -> str:
    """Answer the eMSP's ChargingPreferences (validated data) and keep them when ACCEPTED.

    NotCapable when the session's EVSE lacks CHARGING_PREFERENCES_CAPABLE (or it has no EVSE
    yet): the spec's HTTP 404. They are not Session fields: nothing is pushed.
    """
    moment = at or now()
    with transaction.atomic():
        locked = _lock(session)
        if not takes_charging_preferences(locked):
            raise NotCapable(
                f"The EVSE of session {locked.ocpi_id} does not take charging preferences"
            )
        decision = decide(locked, preferences, moment)
        if decision == ChargingPreferencesResponse.ACCEPTED:
            locked.charging_preferences = dict(
                ChargingPreferencesSerializer(dict(preferences)).data
            )
            locked.save(update_fields=["charging_preferences"])
    return decision
