"""Load management: a GridLimit shared among the ACTIVE sessions behind it, sent to the charge
points as TxProfiles (the sharing itself: chargingprofiles.planning, pure).

replan(grid) reads the sessions charging behind the limit, asks the planner for their shares
and sends each session whose profile changed its new TxProfile: the eMSP's profile capped by
the share, or the share alone (chargers.smart_charging.effective). A session whose profile
did not change is sent nothing, so a re-plan without changes sends nothing at all.

What a session asks (planning.Demand), from what the platform knows of it:
    upper     its connector's maximum power (max_electric_power, else U × I × phases), lowered
              to the eMSP profile's limit of the moment
    lower     the eMSP profile's min_charging_rate; or, with charging preferences that give
              energy_need and departure_time, the power still needed to deliver it in time
    priority  the preferences' profile_type: FAST before REGULAR before CHEAP and GREEN
    phases    AC: the connector's; DC: a 3-phase rectifier at GRID_VOLTS per phase

When a plan is made: a session of the site starts, becomes active, stops (sessions.signals,
debounced per site: chargingprofiles.tasks), an eMSP sets or clears a profile, and every
LOAD_REPLAN_SECONDS (the beat), which also crosses the limit's time-of-day windows and follows
reports (energy delivered against a preference's need) without touching the meter path.
A charge point offline when its profile changes is sent it at the next plan.
"""

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.db.models import QuerySet

from chargers.calls import ChargePointOffline, InvalidCall
from chargers.models import CallState, ChargePointCall
from chargers.smart_charging import (
    Supply,
    accepted,
    clear_profile,
    effective,
    profile_from_ocpp,
    sent_schedule,
    set_profile,
    supply_of,
    to_watts,
)
from chargingprofiles.models import GridLimit, SessionProfile
from chargingprofiles.planning import (
    DEFAULT_PRIORITY,
    PRIORITY,
    Demand,
    GridSchedule,
    Limit,
    Plan,
    Window,
    needed_watts,
    plan,
)
from chargingprofiles.pushes import push_active, render_profile, stored_profile
from locations.models import EVSE, Connector
from ocpi.time import now, parse_datetime
from sessions.models import Session, SessionStatus

logger = logging.getLogger(__name__)

PLANNED_FOLLOW_UP = "chargingprofiles.planned"
GRID_VOLTS = Decimal(230)  # per phase, where a DC charger draws from the grid
REQUESTED_BY = "load management"


# --- the limit ----------------------------------------------------------------------------------


def _limit(max_kw: Any, max_phase_a: Any) -> Limit:
    try:
        total = Decimal(str(max_kw)) * 1000
        phase = None if max_phase_a in (None, "") else Decimal(str(max_phase_a))
    except InvalidOperation as exc:
        raise ValueError(f"Not a number: {max_kw!r} / {max_phase_a!r}") from exc
    if total < 0 or (phase is not None and phase < 0):
        raise ValueError("A limit is not negative")
    return Limit(total_w=total, phase_a=phase)


def parse_windows(value: Any) -> tuple[Window, ...]:
    """GridLimit.windows as planning Windows; ValueError saying what is wrong."""
    if not isinstance(value, list):
        raise ValueError("A list of windows is expected")
    windows = []
    for item in value:
        if not isinstance(item, dict) or not {"from", "until", "max_kw"} <= set(item):
            raise ValueError('Each window has "from", "until" and "max_kw"')
        try:
            start, until = time.fromisoformat(item["from"]), time.fromisoformat(item["until"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Times are HH:MM: {item['from']!r}, {item['until']!r}") from exc
        if start == until:
            raise ValueError("A window ends after it starts")
        windows.append(Window(start, until, _limit(item["max_kw"], item.get("max_phase_a"))))
    return tuple(windows)


def schedule_of(grid: GridLimit) -> GridSchedule:
    return GridSchedule(_limit(grid.max_kw, grid.max_phase_a), parse_windows(grid.windows))


def _zone(grid: GridLimit) -> ZoneInfo:
    try:
        return ZoneInfo(grid.location.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# --- who is behind it -------------------------------------------------------------------------


def grid_limit_of(evse_id: int, location_id: int) -> int | None:
    """The active limit an EVSE is behind: the group's it is in, else its location's whole
    one (limits do not nest: an EVSE is planned by one limit only)."""
    limits = GridLimit.objects.filter(active=True, location_id=location_id).order_by("pk")
    group = limits.filter(evses__pk=evse_id).values_list("pk", flat=True).first()
    if group is not None:
        return group
    return limits.filter(evses__isnull=True).values_list("pk", flat=True).first()


def evses_behind(grid: GridLimit) -> QuerySet[EVSE]:
    """The EVSEs a limit plans: those chosen, else the location's that no other active limit
    of the location has chosen."""
    chosen = grid.evses.all()
    if chosen.exists():
        return chosen
    grouped = GridLimit.evses.through.objects.filter(
        gridlimit__active=True, gridlimit__location_id=grid.location_id
    ).values("evse_id")
    return EVSE.objects.filter(location_id=grid.location_id).exclude(pk__in=grouped)


def sessions_behind(grid: GridLimit) -> list[Session]:
    """ACTIVE sessions charging at an OCPP transaction behind the limit, in id order."""
    return list(
        Session.objects.filter(
            status=SessionStatus.ACTIVE,
            evse__in=evses_behind(grid),
            connector__isnull=False,
            charger_transaction__ended_at__isnull=True,
            charger_transaction__ocpp_evse_id__isnull=False,
        )
        .select_related("connector", "evse", "charger_transaction__charge_point", "profile_state")
        # What a session froze for its CDR is of no use here and is most of its row.
        .defer("cdr_location", "tariffs")
        .order_by("ocpi_id", "pk")
    )


# --- what each asks -----------------------------------------------------------------------------


def max_power_w(connector: Connector, supply: Supply) -> Decimal:
    if connector.max_electric_power:
        return Decimal(connector.max_electric_power)
    return Decimal(connector.max_amperage) * supply.watts_per_ampere


def demand_of(session: Session, state: SessionProfile | None, at: datetime) -> Demand:
    connector = session.connector
    assert connector is not None
    supply = supply_of(connector)
    upper = max_power_w(connector, supply)
    lower = Decimal(0)
    emsp = (
        None if state is None or state.emsp_profile is None else stored_profile(state.emsp_profile)
    )
    if emsp is not None:
        origin = emsp.start or session.start_date_time
        limit = emsp.limit_at((at - origin).total_seconds())
        if limit is not None:
            upper = min(upper, to_watts(limit, emsp.unit, supply))
        if emsp.min_rate is not None:
            lower = to_watts(emsp.min_rate, emsp.unit, supply)
    preferences: Mapping[str, Any] = session.charging_preferences or {}
    need, departure = preferences.get("energy_need"), preferences.get("departure_time")
    if need is not None and departure is not None:
        needed = needed_watts(Decimal(str(need)), session.kwh, at, parse_datetime(departure))
        lower = max(lower, needed)
    direct = supply.direct_current
    return Demand(
        key=session.ocpi_id,
        upper_w=upper,
        lower_w=lower,
        volts=GRID_VOLTS if direct else supply.volts,
        phases=3 if direct else supply.phases,
        priority=PRIORITY.get(preferences.get("profile_type", ""), DEFAULT_PRIORITY),
        started_at=session.start_date_time,
    )


# --- the plan -----------------------------------------------------------------------------------


def replan(grid_limit_id: int, at: datetime | None = None) -> Plan | None:
    """Share the limit among the sessions behind it now and send what changed; None when the
    limit is gone or inactive (an inactive one releases the sessions it planned)."""
    moment = at or now()
    with transaction.atomic():
        grid = (
            GridLimit.objects.select_for_update(of=("self",))
            .select_related("location")
            .filter(pk=grid_limit_id)
            .first()
        )
        if grid is None:
            return None
        if not grid.active:
            release(grid, keep=())
            return None
        schedule = schedule_of(grid)
        local = moment.astimezone(_zone(grid))
        limit = schedule.at(local)
        sessions = sessions_behind(grid)
        states = {s.pk: getattr(s, "profile_state", None) for s in sessions}
        result = plan([demand_of(s, states[s.pk], moment) for s in sessions], limit)
        for session in sessions:
            _apply(grid, session, states[session.pk], result, moment)
        release(grid, keep=[s.pk for s in sessions])
        change = schedule.next_change(local)
        grid.planned_at = moment
        grid.plan = {key: str(watts) for key, watts in result.watts.items()}
        grid.starved = list(result.starved)
        grid.limit_w = limit.total_w
        grid.next_change_at = None if change is None else change.astimezone(moment.tzinfo)
        grid.save(update_fields=["planned_at", "plan", "starved", "limit_w", "next_change_at"])
    return result


def _apply(
    grid: GridLimit,
    session: Session,
    state: SessionProfile | None,
    result: Plan,
    at: datetime,
) -> None:
    """Record the session's share and send its profile if that changed."""
    if state is None:
        state = SessionProfile(session=session)
    assert session.connector is not None
    supply = supply_of(session.connector)
    share = result.watts[session.ocpi_id]
    emsp = None if state.emsp_profile is None else stored_profile(state.emsp_profile)
    profile = effective(emsp, share, supply)
    assert profile is not None
    rendered = render_profile(profile)
    starved = session.ocpi_id in result.starved
    planned = (state.grid_limit_id, state.planned_w, state.starved)
    if (
        state.pk is not None
        and planned == (grid.pk, share, starved)
        and (rendered == state.sent_profile)
    ):
        return  # nothing changed: nothing sent, nothing written
    state.grid_limit = grid
    state.planned_w = share
    state.starved = starved
    if rendered != state.sent_profile:
        try:
            call = set_profile(
                session.charger_transaction,
                profile,
                supply,
                follow_up=PLANNED_FOLLOW_UP,
                requested_by=REQUESTED_BY,
            )
        except (ChargePointOffline, InvalidCall) as exc:
            logger.warning("Session %s keeps its profile for now: %s", session.ocpi_id, exc)
        else:
            state.sent_profile = rendered
            state.sent_at = at
            state.planned_call = call
    state.save()


def release(grid: GridLimit, keep: Iterable[int]) -> None:
    """The sessions the limit planned that it no longer does (they ended, their EVSE left its
    group, the limit was switched off or is being deleted), other than `keep`: an active one
    is sent back the eMSP's profile alone, or has its TxProfile cleared when there is none."""
    stale = (
        SessionProfile.objects.filter(grid_limit=grid)
        .exclude(session_id__in=list(keep))
        .select_related("session__connector", "session__charger_transaction__charge_point")
    )
    for state in stale:
        session = state.session
        state.grid_limit, state.planned_w, state.starved = None, None, False
        transaction_row = getattr(session, "charger_transaction", None)
        running = (
            session.status == SessionStatus.ACTIVE
            and session.connector is not None
            and transaction_row is not None
            and transaction_row.ended_at is None
            and state.sent_profile is not None
        )
        if running:
            _send_alone(state, session)
        state.save()


def _send_alone(state: SessionProfile, session: Session) -> None:
    """Send the session the eMSP's profile without any share, or clear its TxProfile."""
    assert session.connector is not None
    supply = supply_of(session.connector)
    emsp = None if state.emsp_profile is None else stored_profile(state.emsp_profile)
    try:
        if emsp is None:
            clear_profile(session.charger_transaction, requested_by=REQUESTED_BY)
            state.sent_profile = None
        else:
            state.planned_call = set_profile(
                session.charger_transaction,
                emsp,
                supply,
                follow_up=PLANNED_FOLLOW_UP,
                requested_by=REQUESTED_BY,
            )
            state.sent_profile = render_profile(emsp)
    except (ChargePointOffline, InvalidCall) as exc:
        logger.warning("Session %s keeps its planned profile: %s", session.ocpi_id, exc)


def planned_ended(call: ChargePointCall) -> None:
    """A planned TxProfile ended: once Accepted, the eMSP that set a profile on the session
    hears of its new schedule; a call that failed or timed out is sent again at the next plan
    (a refusal is not: the charge point would refuse it again, and it is logged)."""
    state = SessionProfile.objects.select_related("session").filter(planned_call=call).first()
    if state is None:
        return
    if call.state == CallState.ANSWERED and accepted(call.response):
        profile = profile_from_ocpp(sent_schedule(call.payload))
        push_active(state.session, state, profile, call.finished_at or now())
        return
    if call.state == CallState.ANSWERED:
        logger.warning(
            "Charge point refused the planned profile of session %s: %s",
            state.session.ocpi_id,
            call.response,
        )
        return
    state.sent_profile = None
    state.save(update_fields=["sent_profile"])


def active_grid_limits() -> Iterable[int]:
    return GridLimit.objects.filter(active=True).values_list("pk", flat=True)
