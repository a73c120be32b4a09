"""Charging profile requests of eMSPs (mod_charging_profiles, CPO Receiver interface).

    profile_request()   the immediate ChargingProfileResponse; when ACCEPTED, the call to the
                        charge point is queued in the same transaction as the request's row
    set_ended / get_ended / clear_ended
                        the follow-ups of those calls (chargingprofiles.follow_ups): the
                        result POSTed to the response_url through the outbox
                        (push.services.post_result), the session's profile state updated

Immediate answers (ChargingProfileResponseType):
    UNKNOWN_SESSION  no ACTIVE session of the caller's (its token's eMSP) has that id: another
                     eMSP's session, a finished one, an unknown id all answer the same
    NOT_SUPPORTED    the session's EVSE is not CHARGING_PROFILE_CAPABLE, or runs on no OCPP
                     transaction of ours (nothing to send the profile to)
    TOO_OFTEN        a request on the session still awaits its charge point's answer: one at a
                     time per session, so results cannot overtake one another
    REJECTED         the charge point is offline (chargers.calls.ChargePointOffline), or the
                     profile cannot be expressed for it (InvalidCall)
    ACCEPTED         sent; `timeout` is the call's deadline (OCPP_CALL_TIMEOUT_SECONDS)

Results (ChargingProfileResultType): ACCEPTED when the charge point answered Accepted;
UNKNOWN when a ClearChargingProfile finds no such profile (OCPP Unknown); REJECTED otherwise,
a refusal, a CALLERROR or no answer before the deadline alike.

At a site under load management (chargingprofiles.loadmanagement) the charge point is sent
the eMSP's profile capped by the session's share of the grid limit (smart_charging.effective),
and the limit is planned again once the eMSP's profile is set or cleared.
"""

import logging
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from chargers.calls import ChargePointOffline, InvalidCall, version_of
from chargers.models import CallState, ChargePointCall, ChargerTransaction
from chargers.smart_charging import (
    Profile,
    Supply,
    accepted,
    clear_profile,
    composite_of,
    effective,
    get_composite_schedule,
    profile_from_ocpi,
    profile_from_ocpp,
    sent_schedule,
    set_profile,
    supply_of,
    unit_for,
)
from chargingprofiles.models import (
    ProfileRequest,
    RequestKind,
    ResponseType,
    ResultType,
    SessionProfile,
)
from chargingprofiles.pushes import render_active, render_profile, stored_profile
from credentials.models import PartnerPlatform
from locations.models import Capability
from ocpi.routing import PartyRef
from ocpi.time import now
from push.services import post_result
from sessions.models import Session, SessionStatus

logger = logging.getLogger(__name__)

MODULE = "chargingprofiles"
DEFAULT_DURATION = 3600  # GET without duration: an hour (the spec's advice: 30 to 60 min)

SET_FOLLOW_UP = "chargingprofiles.set"
GET_FOLLOW_UP = "chargingprofiles.get"
CLEAR_FOLLOW_UP = "chargingprofiles.clear"


@dataclass(frozen=True)
class Target:
    """Where a charge point call of a session goes: its open transaction and the EVSE's supply."""

    transaction: ChargerTransaction
    supply: Supply


def timeout_seconds() -> int:
    """ChargingProfileResponse.timeout: the call's deadline, in whole seconds."""
    return math.ceil(settings.OCPP_CALL_TIMEOUT_SECONDS)


def _target(session: Session) -> Target | str:
    """The session's open OCPP transaction and supply, or why there is none (NOT_SUPPORTED)."""
    evse = session.evse
    if evse is None or Capability.CHARGING_PROFILE_CAPABLE not in (evse.capabilities or []):
        return "The EVSE is not CHARGING_PROFILE_CAPABLE"
    found = (
        ChargerTransaction.objects.filter(session=session, ended_at__isnull=True)
        .select_related("charge_point")
        .first()
    )
    if found is None or found.ocpp_evse_id is None or session.connector is None:
        return "The session runs at no charge point of ours that takes profiles"
    return Target(found, supply_of(session.connector))


def _busy(session: Session) -> bool:
    """A request on the session still waits for its charge point."""
    return ProfileRequest.objects.filter(
        session=session,
        response=ResponseType.ACCEPTED,
        finished_at__isnull=True,
        call__state__in=(CallState.PENDING, CallState.SENT),
    ).exists()


def state_of(session: Session) -> SessionProfile:
    state, _ = SessionProfile.objects.get_or_create(session=session)
    return state


def profile_request(
    *,
    partner: PartnerPlatform,
    emsp: PartyRef,
    session_id: str,
    session: Session | None,
    kind: str,
    response_url: str,
    charging_profile: dict[str, Any] | None = None,
    duration: int | None = None,
) -> ProfileRequest:
    """Record the request, answer it, and send its call when ACCEPTED (one transaction)."""
    request = ProfileRequest(
        partner=partner,
        emsp_country_code=emsp.country_code,
        emsp_party_id=emsp.party_id,
        session_ocpi_id=session_id,
        session=session,
        kind=kind,
        response_url=response_url,
        charging_profile=(
            None
            if charging_profile is None
            else render_profile(profile_from_ocpi(charging_profile))
        ),
        duration=duration,
        received_at=now(),
    )
    with transaction.atomic():
        if session is None or session.status != SessionStatus.ACTIVE:
            return _answer(request, ResponseType.UNKNOWN_SESSION, "No active session of yours")
        target = _target(session)
        if isinstance(target, str):
            return _answer(request, ResponseType.NOT_SUPPORTED, target)
        Session.objects.select_for_update().filter(pk=session.pk).first()  # one at a time
        if _busy(session):
            return _answer(request, ResponseType.TOO_OFTEN, "A request awaits the charge point")
        try:
            request.call = _send(request, session, target)
        except ChargePointOffline as exc:
            return _answer(request, ResponseType.REJECTED, str(exc))
        except InvalidCall as exc:
            logger.warning("Charging profile for session %s not sendable: %s", session_id, exc)
            return _answer(request, ResponseType.REJECTED, "The charge point cannot take it")
        return _answer(request, ResponseType.ACCEPTED, "")


def _answer(request: ProfileRequest, response: str, reason: str) -> ProfileRequest:
    request.response = response
    request.reason = reason
    request.save()
    return request


def _send(request: ProfileRequest, session: Session, target: Target) -> ChargePointCall:
    requested_by = f"OCPI {request.emsp_country_code}*{request.emsp_party_id}"
    if request.kind == RequestKind.SET:
        assert request.charging_profile is not None
        state = state_of(session)
        profile = effective(
            stored_profile(request.charging_profile), state.planned_w, target.supply
        )
        assert profile is not None
        return set_profile(
            target.transaction,
            profile,
            target.supply,
            follow_up=SET_FOLLOW_UP,
            requested_by=requested_by,
        )
    if request.kind == RequestKind.GET:
        emsp_profile = state_of(session).emsp_profile
        unit = emsp_profile["charging_rate_unit"] if emsp_profile else unit_for(target.supply)
        return get_composite_schedule(
            target.transaction,
            request.duration or DEFAULT_DURATION,
            unit,
            follow_up=GET_FOLLOW_UP,
            requested_by=requested_by,
        )
    return clear_profile(target.transaction, follow_up=CLEAR_FOLLOW_UP, requested_by=requested_by)


# --- the follow-ups: the charge point has answered (or not) ------------------------------------


def _request_of(call: ChargePointCall) -> ProfileRequest | None:
    return (
        ProfileRequest.objects.select_related("session", "partner")
        .filter(call=call, finished_at__isnull=True)
        .first()
    )


def _finish(request: ProfileRequest, result: str, body: dict[str, Any]) -> None:
    """Record the result and queue its POST to the response_url, in the follow-up's
    transaction."""
    request.result = result
    request.finished_at = now()
    request.save(update_fields=["result", "result_profile", "finished_at"])
    assert request.session is not None
    post_result(
        partner=request.partner,
        to=PartyRef.of(request.emsp_country_code, request.emsp_party_id),
        owner=request.session.party,
        module=MODULE,
        url=request.response_url,
        payload=body,
    )


def _answered(call: ChargePointCall) -> dict[str, Any] | None:
    return call.response if call.state == CallState.ANSWERED else None


def set_ended(call: ChargePointCall) -> None:
    """SetChargingProfile ended: ChargingProfileResult; once Accepted, the profile is the
    session's and its eMSP party is told of later changes (mod_charging_profiles, eMSP PUT)."""
    request = _request_of(call)
    if request is None:
        return
    result = ResultType.ACCEPTED if accepted(_answered(call)) else ResultType.REJECTED
    if result == ResultType.ACCEPTED:
        assert request.session is not None
        state = state_of(request.session)
        state.emsp_profile = request.charging_profile
        state.emsp_set_at = now()
        state.subscriber_country_code = request.emsp_country_code
        state.subscriber_party_id = request.emsp_party_id
        state.sent_profile = render_profile(profile_from_ocpp(sent_schedule(call.payload)))
        state.sent_at = state.emsp_set_at
        state.save()
        _replan_after(state)
    _finish(request, result, {"result": result})


def get_ended(call: ChargePointCall) -> None:
    """GetCompositeSchedule ended: ActiveChargingProfileResult, with the profile when there is
    one (its start_date_time: when the charge point calculated it)."""
    request = _request_of(call)
    if request is None:
        return
    composite = composite_of(version_of(call.charge_point), _answered(call))
    if composite is None:
        _finish(request, ResultType.REJECTED, {"result": ResultType.REJECTED})
        return
    calculated_at = composite.start or call.finished_at or now()
    request.result_profile = render_active(calculated_at, composite)
    _finish(
        request,
        ResultType.ACCEPTED,
        {"result": ResultType.ACCEPTED, "profile": request.result_profile},
    )


def clear_ended(call: ChargePointCall) -> None:
    """ClearChargingProfile ended: ClearProfileResult (UNKNOWN: the charge point had none)."""
    request = _request_of(call)
    if request is None:
        return
    response = _answered(call)
    if accepted(response):
        result = ResultType.ACCEPTED
    elif response is not None and response.get("status") == "Unknown":
        result = ResultType.UNKNOWN
    else:
        result = ResultType.REJECTED
    if result == ResultType.ACCEPTED:
        assert request.session is not None
        state = state_of(request.session)
        state.emsp_profile = None
        state.sent_profile = None
        state.save(update_fields=["emsp_profile", "sent_profile"])
        _replan_after(state)
    _finish(request, result, {"result": result})


def _replan_after(state: SessionProfile) -> None:
    """The eMSP's limit changed: its site shares the grid limit again (if it has one)."""
    if state.grid_limit_id is not None:
        from chargingprofiles.tasks import schedule_replan

        schedule_replan(state.grid_limit_id)


def profile_of(state: SessionProfile) -> Profile | None:
    """The eMSP's profile of a session, while set."""
    return None if state.emsp_profile is None else stored_profile(state.emsp_profile)
