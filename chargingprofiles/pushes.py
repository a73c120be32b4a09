"""Profiles as OCPI JSON, and the ActiveChargingProfile PUT to the eMSP that set one.

mod_charging_profiles, eMSP PUT method: the CPO tells the eMSP of every change it knows of to
the schedule of a session, but only when that eMSP has successfully set a profile on it at
least once (SessionProfile.subscriber_*), never otherwise. The PUT goes to
`{chargingprofiles_endpoint_url}/{session_id}` of the eMSP's Sender interface
(ocpi.enums.pushed_to) through the outbox, like every push; a newer PUT of the same session
supersedes one not sent yet.
"""

from datetime import datetime
from typing import Any

from chargers.smart_charging import Profile, from_offset, profile_from_ocpi, profile_to_ocpi
from chargingprofiles.models import SessionProfile
from chargingprofiles.serializers import ActiveChargingProfileSerializer
from ocpi.routing import PartyRef
from ocpi.time import format_datetime, parse_datetime
from push.services import party_targets, push_change
from sessions.models import Session

MODULE = "chargingprofiles"


def render_profile(profile: Profile) -> dict[str, Any]:
    """The OCPI ChargingProfile as stored JSON (what the serializer renders: a DateTime as
    text, limits as Decimals). Plain code, not a serializer: every plan renders each session's
    profile to compare it with what was sent."""
    data = profile_to_ocpi(profile)
    if profile.start is not None:
        data["start_date_time"] = format_datetime(profile.start)
    return data


def stored_profile(data: dict[str, Any]) -> Profile:
    """A profile stored by render_profile, read back (it was checked when it came in)."""
    start = data.get("start_date_time")
    return profile_from_ocpi(
        {**data, "start_date_time": None if start is None else parse_datetime(start)}
    )


def render_active(calculated_at: datetime, profile: Profile) -> dict[str, Any]:
    """ActiveChargingProfile: its periods relative to `calculated_at`."""
    body = {"start_date_time": calculated_at, "charging_profile": profile_to_ocpi(profile)}
    return dict(ActiveChargingProfileSerializer(body).data)


def active_now(session: Session, profile: Profile, at: datetime) -> dict[str, Any]:
    """The session's profile as it stands at `at`: an absolute profile from its start, a
    relative one from the start of charging (the session's start)."""
    origin = profile.start or session.start_date_time
    return render_active(at, from_offset(profile, int((at - origin).total_seconds())))


def push_active(session: Session, state: SessionProfile, profile: Profile, at: datetime) -> None:
    """PUT the session's ActiveChargingProfile to the eMSP party that set a profile on it; to
    nobody when none did."""
    if not state.subscriber_country_code:
        return
    subscriber = state.subscriber_country_code, state.subscriber_party_id
    push_change(
        module=MODULE,
        method="PUT",
        owner=session.party,
        object_key=f"{MODULE}:{session.object_key}",
        path=[session.ocpi_id],
        payload=active_now(session, profile, at),
        targets=party_targets(MODULE, PartyRef.of(*subscriber)),
    )
