"""Writes of sessions: the lifecycle, each step one transaction with its push (mod_sessions).

    session_start / session_reserve  → PENDING, ACTIVE or RESERVATION   PUT of the whole Session
    session_activate                 PENDING/RESERVATION → ACTIVE        PATCH
    session_meter / session_add_periods  (ACTIVE) periods appended     PATCH with the new periods
    session_stop                     ACTIVE/RESERVATION → COMPLETED      PATCH, session_completed
    session_invalidate               any running status → INVALID        PATCH (never billed)

COMPLETED and INVALID are final: nothing changes a finished session (IllegalTransition).
Pushes go to the eMSP that owns the token only (DESIGN.md, "Who gets what"), at the
Receiver URL {url}/{country_code}/{party_id}/{session_id} of our CPO party. A PATCH carries
the fields that changed, last_updated, and only the new charging periods: the receiver
appends them (mod_sessions, PATCH; push.services keeps such PATCHes from being coalesced).

Periods have no end of their own (the next one's start ends them), so the session keeps
`metered_until`: the next period starts there. Volumes are kept to 4 decimals (an OCPI
number), so kwh is exactly the sum of the periods' energy. A reservation's time becomes a
RESERVATION_TIME period from the reservation's start when it ends (by charging or not), so
the Session alone says what was reserved and an eMSP can price it as we do.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from credentials.selectors import local_party
from locations.models import EVSE, Capability, Connector, Location, PowerType, Status
from ocpi.routing import PartyRef
from ocpi.time import now
from push.services import party_targets, push_change
from sessions import freeze
from sessions.models import (
    AuthMethod,
    CdrDimensionType,
    ChargingPreferencesResponse,
    Session,
    SessionChargingPeriod,
    SessionStatus,
)
from sessions.pricing import price
from sessions.serializers import (
    CdrTokenSerializer,
    ChargingPeriodSerializer,
    ChargingPreferencesSerializer,
    SessionSerializer,
    energy_of,
    plain,
    session_as_ocpi,
)
from sessions.signals import session_completed
from tokens.models import ProfileType

MODULE = "sessions"
VOLUME_PLACES = Decimal("0.0001")  # an OCPI number: 4 decimals (types.asciidoc)
MICROS_PER_HOUR = Decimal(3_600_000_000)

_NEXT = {
    SessionStatus.PENDING: {SessionStatus.ACTIVE, SessionStatus.INVALID},
    SessionStatus.RESERVATION: {
        SessionStatus.ACTIVE,
        SessionStatus.COMPLETED,
        SessionStatus.INVALID,
    },
    SessionStatus.ACTIVE: {SessionStatus.COMPLETED, SessionStatus.INVALID},
}
_PHASES = {PowerType.AC_3_PHASE: 3, PowerType.AC_2_PHASE: 2, PowerType.AC_2_PHASE_SPLIT: 2}
# Profiles that move charging in time: the CPO needs to know until when, and how much.
_SCHEDULED_PROFILES = (ProfileType.CHEAP, ProfileType.GREEN)


class SessionError(ValueError):
    """A session change that cannot be made; the message says why."""


class IllegalTransition(SessionError):
    """A status change the lifecycle does not have (finished sessions never change)."""


class NotAtRoamingLocation(SessionError):
    """Sessions are only for connectors at roaming locations of our own CPO parties."""


class InvalidPeriods(SessionError):
    """Charging periods that do not continue the session's time line."""


class NotCapable(SessionError):
    """Charging preferences for an EVSE without CHARGING_PREFERENCES_CAPABLE."""


@dataclass(frozen=True)
class Reading:
    """What a meter says at one moment (for session_meter and session_stop).

    `kwh`: the energy since the session started (None: unchanged). The others describe the
    period since the previous reading: MAX_POWER / MIN_POWER in kW, CURRENT in A,
    STATE_OF_CHARGE in percent. `charging` None: charging when energy flowed.
    """

    kwh: Decimal | None = None
    max_power: Decimal | None = None
    min_power: Decimal | None = None
    current: Decimal | None = None
    state_of_charge: Decimal | None = None
    charging: bool | None = None


# --- checks -----------------------------------------------------------------------------------


def _aware(moment: datetime, name: str = "at") -> None:
    if moment.tzinfo is None:
        raise SessionError(f"{name} must be timezone-aware (UTC)")


def _check_transition(session: Session, target: str) -> None:
    if target not in _NEXT.get(SessionStatus(session.status), set()):
        raise IllegalTransition(
            f"Session {session.ocpi_id} is {session.status} and cannot become {target}"
        )


def _token(token: Mapping[str, Any]) -> dict[str, Any]:
    """The CdrToken fields, validated (mod_cdrs, CdrToken)."""
    serializer = CdrTokenSerializer(data=dict(token))
    if not serializer.is_valid():
        raise SessionError(f"Invalid CdrToken: {dict(serializer.errors)}")
    return dict(serializer.validated_data)


def _auth_method(value: str) -> str:
    if value not in AuthMethod.values:
        raise SessionError(f"auth_method must be one of {', '.join(AuthMethod.values)}")
    return value


def _text(value: str, name: str, max_length: int, *, ascii_only: bool) -> str:
    """A CiString (printable ASCII) or string (no control characters) of max_length."""
    if len(value) > max_length:
        raise SessionError(f"{name} is longer than {max_length} characters")
    printable = all(" " <= ch <= "~" for ch in value) if ascii_only else value.isprintable()
    if not printable:
        raise SessionError(f"{name} must be printable {'ASCII' if ascii_only else 'text'}")
    return value


def _session_id(session_id: str | None) -> str:
    """A fresh id (a UUID: 36 characters, the CiString(36) limit) or the one given."""
    if session_id is None:
        return str(uuid.uuid4())
    if not session_id:
        raise SessionError("A session id cannot be empty")
    return _text(session_id, "session_id", 36, ascii_only=True)


def _owner_of(location: Location) -> PartyRef:
    party = PartyRef.of(location.country_code, location.party_id)
    if not location.roaming:
        raise NotAtRoamingLocation(f"Location {location.ocpi_id} is not offered to roaming")
    if local_party(party) is None:
        raise NotAtRoamingLocation(f"Location {location.ocpi_id} is not of a party of ours")
    return party


def _usable(evse: EVSE) -> None:
    if evse.status == Status.REMOVED:
        raise NotAtRoamingLocation(f"EVSE {evse.uid} is REMOVED")


# --- rendering and pushing --------------------------------------------------------------------


def _snapshot(session: Session) -> dict[str, Any]:
    """The Session object without its periods: what a PATCH compares."""
    return dict(SessionSerializer(session_as_ocpi(session, periods=[])).data)


def _push(session: Session, method: str, payload: dict[str, Any]) -> None:
    push_change(
        module=MODULE,
        method=method,
        owner=session.party,
        object_key=session.object_key,
        path=[session.country_code, session.party_id, session.ocpi_id],
        payload=payload,
        targets=party_targets(MODULE, session.token_party),
    )


def _push_patch(session: Session, before: dict[str, Any], new: Sequence[dict[str, Any]]) -> None:
    after = _snapshot(session)
    changes = {
        key: value
        for key, value in after.items()
        if key != "last_updated" and before.get(key) != value
    }
    if new:
        changes["charging_periods"] = list(ChargingPeriodSerializer(new, many=True).data)
    changes["last_updated"] = after["last_updated"]
    _push(session, "PATCH", changes)


def _moment_after(previous: datetime | None) -> datetime:
    """Now, but later than the session's last change: last_updated only ever grows."""
    moment = now()
    if previous is not None and moment <= previous:
        return previous + timedelta(milliseconds=1)
    return moment


def _lock(session: Session) -> Session:
    locked = Session.objects.select_for_update().filter(pk=session.pk).first()
    if locked is None:
        raise SessionError(f"Session {session.ocpi_id} no longer exists")
    return locked


def _fresh(pk: int) -> Session:
    return Session.objects.select_related("location", "evse", "connector").get(pk=pk)


def _reprice(session: Session) -> None:
    """total_cost from the engine; left as it was (unknown) when nothing can be priced."""
    cost = price(session)
    if cost is not None:
        session.total_cost_excl_vat = cost.total_cost.excl_vat
        session.total_cost_incl_vat = cost.total_cost.incl_vat


def _save_and_patch(
    session: Session, before: dict[str, Any], new: Sequence[dict[str, Any]]
) -> None:
    session.last_updated = _moment_after(session.last_updated)
    session.save()
    _push_patch(session, before, new)


# --- periods ----------------------------------------------------------------------------------


def _volume(value: Any) -> Decimal:
    return plain(Decimal(value).quantize(VOLUME_PLACES, rounding=ROUND_HALF_UP))


def _hours(start: datetime, end: datetime) -> Decimal:
    micros = (end - start) // timedelta(microseconds=1)
    return _volume(Decimal(micros) / MICROS_PER_HOUR)


def _normalised(period: Mapping[str, Any], tariff_id: str) -> dict[str, Any]:
    try:
        dimensions = [
            {"type": CdrDimensionType(d["type"]).value, "volume": _volume(d["volume"])}
            for d in period["dimensions"]
        ]
        start = period["start_date_time"]
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise InvalidPeriods(f"Not a ChargingPeriod: {period!r} ({exc})") from exc
    if not dimensions:
        raise InvalidPeriods("A charging period needs at least one dimension")
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise InvalidPeriods("start_date_time must be a timezone-aware datetime")
    return {
        "start_date_time": start,
        "dimensions": dimensions,
        "tariff_id": period.get("tariff_id") or tariff_id,
    }


def _append(
    session: Session, periods: Sequence[Mapping[str, Any]], until: datetime
) -> list[dict[str, Any]]:
    """Store `periods`, which cover [metered_until, until), after the session's periods."""
    _aware(until, "until")
    new = [_normalised(period, session.tariff_id) for period in periods]
    if not new:
        raise InvalidPeriods("No charging period to add")
    starts = [period["start_date_time"] for period in new]
    if starts[0] != session.metered_until:
        raise InvalidPeriods(
            f"The first new period must start where the last one ended ({session.metered_until})"
        )
    if any(later <= earlier for earlier, later in zip(starts, starts[1:], strict=False)):
        raise InvalidPeriods("Charging periods must start one after the other")
    if until <= starts[-1]:
        raise InvalidPeriods("`until` must be after the last period's start")
    position = SessionChargingPeriod.objects.filter(session=session).count()
    SessionChargingPeriod.objects.bulk_create(
        SessionChargingPeriod(
            session=session,
            position=position + index,
            start_date_time=period["start_date_time"],
            dimensions=period["dimensions"],
            tariff_id=period["tariff_id"],
        )
        for index, period in enumerate(new)
    )
    session.metered_until = until
    session.kwh = session.kwh + energy_of(new)
    return new


def _meter_period(session: Session, at: datetime, reading: Reading) -> dict[str, Any]:
    """The period from the previous reading (metered_until) to `at`."""
    _aware(at)
    start = session.metered_until
    assert start is not None  # every ACTIVE session is metered from its activation
    if at <= start:
        raise InvalidPeriods(f"A reading at {at} is not after the previous one ({start})")
    meter = _volume(reading.kwh) if reading.kwh is not None else session.kwh
    energy = _volume(meter - session.kwh)
    if energy < 0:
        raise InvalidPeriods(f"The meter went backwards: {meter} kWh after {session.kwh} kWh")
    charging = reading.charging if reading.charging is not None else energy > 0
    time = CdrDimensionType.TIME if charging else CdrDimensionType.PARKING_TIME
    dimensions = [
        {"type": CdrDimensionType.ENERGY.value, "volume": energy},
        {"type": time.value, "volume": _hours(start, at)},
    ]
    for kind, value in (
        (CdrDimensionType.MAX_POWER, reading.max_power),
        (CdrDimensionType.MIN_POWER, reading.min_power),
        (CdrDimensionType.CURRENT, reading.current),
        (CdrDimensionType.STATE_OF_CHARGE, reading.state_of_charge),
    ):
        if value is not None:
            dimensions.append({"type": kind.value, "volume": _volume(value)})
    return {"start_date_time": start, "dimensions": dimensions}


def _end_reservation(session: Session, at: datetime) -> list[dict[str, Any]]:
    """Close a reservation at `at`: its RESERVATION_TIME period, from its start."""
    start = session.reserved_from
    assert start is not None  # set by session_reserve
    if at < start:
        raise SessionError(f"The reservation started at {start}, after {at}")
    session.reserved_until = at
    session.metered_until = start
    if at == start:
        return []
    period = {
        "start_date_time": start,
        "dimensions": [{"type": "RESERVATION_TIME", "volume": _hours(start, at)}],
    }
    return _append(session, [period], until=at)


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
    _aware(at)
    owner = _owner_of(location)
    cdr_token = _token(token)
    ocpi_id = _session_id(session_id)
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
        auth_method=_auth_method(auth_method),
        authorization_reference=_text(
            authorization_reference, "authorization_reference", 36, ascii_only=True
        ),
        location=location,
        evse=evse,
        connector=connector,
        meter_id=_text(meter_id, "meter_id", 255, ascii_only=False),
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
        if Session.objects.for_party(owner).filter(ocpi_id__iexact=ocpi_id).exists():
            raise taken
        try:
            with transaction.atomic():  # a savepoint: the same id created meanwhile
                session.save()
        except IntegrityError as exc:
            raise taken from exc
        _push(session, "PUT", dict(SessionSerializer(session_as_ocpi(session, periods=[])).data))
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
    _usable(evse)
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
        _usable(evse)
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


def _bind(session: Session, connector: Connector) -> None:
    """Put the session on `connector` (a reservation that starts charging)."""
    evse = connector.evse
    if session.connector_id is not None and session.connector_id != connector.pk:
        raise SessionError(f"Session {session.ocpi_id} is on another connector")
    if evse.location_id != session.location_id:
        raise SessionError(f"Connector {connector.ocpi_id} is not at the session's location")
    if session.evse_id is not None and session.evse_id != evse.pk:
        raise SessionError(f"Connector {connector.ocpi_id} is not on the reserved EVSE")
    _usable(evse)
    if session.connector_id is None:
        # Of the tariffs frozen for the reservation, the bound connector's price it now.
        named = {str(tariff_id).upper() for tariff_id in connector.tariff_ids or []}
        chosen = freeze.choose_tariff(
            [t for t in session.tariffs if str(t["id"]).upper() in named], None
        )
        session.tariff_id = chosen["id"] if chosen is not None else ""
        session.currency = chosen["currency"] if chosen is not None else session.currency
    session.evse = evse
    session.connector = connector
    session.cdr_location = freeze.cdr_location(session.location, evse, connector)


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
    _aware(at)
    with transaction.atomic():
        locked = _lock(session)
        _check_transition(locked, SessionStatus.ACTIVE)
        if at < locked.start_date_time:
            raise SessionError(f"Session {locked.ocpi_id} cannot become active before it began")
        before = _snapshot(locked)
        if connector is not None:
            _bind(locked, connector)
        elif locked.connector_id is None:
            raise SessionError("A reservation becomes active on a connector: name it")
        if auth_method is not None:
            locked.auth_method = _auth_method(auth_method)
        if authorization_reference is not None:
            locked.authorization_reference = _text(
                authorization_reference, "authorization_reference", 36, ascii_only=True
            )
        new = []
        if locked.status == SessionStatus.RESERVATION:
            new = _end_reservation(locked, at)
        locked.status = SessionStatus.ACTIVE
        locked.start_date_time = at
        locked.metered_until = at
        _reprice(locked)
        _save_and_patch(locked, before, new)
    return _fresh(locked.pk)


def _require_active(session: Session) -> None:
    if session.status != SessionStatus.ACTIVE:
        raise IllegalTransition(
            f"Session {session.ocpi_id} is {session.status}: only an ACTIVE session is metered"
        )


def session_add_periods(
    *, session: Session, periods: Sequence[Mapping[str, Any]], until: datetime
) -> Session:
    """Append `periods` (ChargingPeriod data: start_date_time, dimensions, tariff_id) that
    cover [the end of the last period, `until`): kwh and total_cost follow; PATCH.

    A period without tariff_id gets the session's pricing tariff's.
    """
    with transaction.atomic():
        locked = _lock(session)
        _require_active(locked)
        before = _snapshot(locked)
        new = _append(locked, periods, until)
        _reprice(locked)
        _save_and_patch(locked, before, new)
    return _fresh(locked.pk)


def session_meter(*, session: Session, at: datetime, reading: Reading) -> Session:
    """A meter reading at `at`: one period since the previous reading (ENERGY, TIME while
    charging or PARKING_TIME when no power was requested, and what else the reading says)."""
    with transaction.atomic():
        locked = _lock(session)
        _require_active(locked)
        before = _snapshot(locked)
        new = _append(locked, [_meter_period(locked, at, reading)], at)
        _reprice(locked)
        _save_and_patch(locked, before, new)
    return _fresh(locked.pk)


def session_stop(*, session: Session, at: datetime, reading: Reading | None = None) -> Session:
    """ACTIVE → COMPLETED at `at`, or a RESERVATION that ended without charging.

    An active session's time since the last reading becomes its last period (`reading`: the
    final meter values; without one, the meter stood still and the vehicle was parked). The
    final kwh and total_cost go out in one PATCH, and session_completed is sent inside the
    same transaction (the CDR is built with the completion or not at all).
    """
    _aware(at)
    with transaction.atomic():
        locked = _lock(session)
        _check_transition(locked, SessionStatus.COMPLETED)
        before = _snapshot(locked)
        if locked.status == SessionStatus.RESERVATION:
            new = _end_reservation(locked, at)
            locked.metered_until = at
        else:
            assert locked.metered_until is not None
            if at < locked.metered_until:
                raise InvalidPeriods(f"The session was metered until {locked.metered_until}")
            final = reading or Reading()
            new = []
            if at > locked.metered_until:
                new = _append(locked, [_meter_period(locked, at, final)], at)
            elif final.kwh is not None and _volume(final.kwh) != locked.kwh:
                raise InvalidPeriods("A final reading needs time after the previous one")
        locked.end_date_time = at
        locked.status = SessionStatus.COMPLETED
        _reprice(locked)
        _save_and_patch(locked, before, new)
        completed = _fresh(locked.pk)
        session_completed.send(sender=Session, session=completed)
    return completed


def session_invalidate(*, session: Session) -> Session:
    """Any running status → INVALID: declared invalid, never billed (no CDR)."""
    with transaction.atomic():
        locked = _lock(session)
        _check_transition(locked, SessionStatus.INVALID)
        before = _snapshot(locked)
        locked.status = SessionStatus.INVALID
        _save_and_patch(locked, before, [])
    return _fresh(locked.pk)


# --- charging preferences ---------------------------------------------------------------------


def _max_power_kw(connector: Connector) -> Decimal:
    if connector.max_electric_power:
        return Decimal(connector.max_electric_power) / 1000
    phases = _PHASES.get(PowerType(connector.power_type), 1)
    return Decimal(connector.max_voltage * connector.max_amperage * phases) / 1000


def _decide(session: Session, preferences: Mapping[str, Any], moment: datetime) -> str:
    """Our answer to ChargingPreferences (mod_sessions, ChargingPreferencesResponse):

    - a finished session: NOT_POSSIBLE;
    - CHEAP, FAST or GREEN without a PROFILE_<type> tariff frozen on the session:
      PROFILE_TYPE_NOT_SUPPORTED ("for every supported ProfileType, a Tariff MUST be
      provided"); REGULAR is always supported;
    - CHEAP and GREEN move charging in time, so they need departure_time
      (DEPARTURE_REQUIRED), then energy_need (ENERGY_NEED_REQUIRED);
    - a departure not in the future, or more energy than the connector's maximum power can
      deliver before it: NOT_POSSIBLE;
    - otherwise ACCEPTED (discharge_allowed only permits: we never discharge).
    """
    if session.is_final:
        return ChargingPreferencesResponse.NOT_POSSIBLE
    profile = preferences["profile_type"]
    if profile != ProfileType.REGULAR and freeze.profile_tariff(session.tariffs, profile) is None:
        return ChargingPreferencesResponse.PROFILE_TYPE_NOT_SUPPORTED
    departure, energy = preferences.get("departure_time"), preferences.get("energy_need")
    if profile in _SCHEDULED_PROFILES:
        if departure is None:
            return ChargingPreferencesResponse.DEPARTURE_REQUIRED
        if energy is None:
            return ChargingPreferencesResponse.ENERGY_NEED_REQUIRED
    if departure is not None and departure <= moment:
        return ChargingPreferencesResponse.NOT_POSSIBLE
    if departure is not None and energy is not None and session.connector is not None:
        hours = Decimal((departure - moment) // timedelta(microseconds=1)) / MICROS_PER_HOUR
        if energy > _max_power_kw(session.connector) * hours:
            return ChargingPreferencesResponse.NOT_POSSIBLE
    return ChargingPreferencesResponse.ACCEPTED


def takes_charging_preferences(session: Session) -> bool:
    """Whether the session's EVSE has CHARGING_PREFERENCES_CAPABLE (mod_locations, Capability);
    a reservation not bound to an EVSE has none to ask."""
    evse = session.evse
    return evse is not None and Capability.CHARGING_PREFERENCES_CAPABLE in (evse.capabilities or [])


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
        decision = _decide(locked, preferences, moment)
        if decision == ChargingPreferencesResponse.ACCEPTED:
            locked.charging_preferences = dict(
                ChargingPreferencesSerializer(dict(preferences)).data
            )
            locked.save(update_fields=["charging_preferences"])
    return decision
