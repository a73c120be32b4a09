"""Our answer to an eMSP's ChargingPreferences (mod_sessions, ChargingPreferences object).

What we decide from the session and the preferences alone; session_set_charging_preferences
(sessions.services) keeps them when ACCEPTED.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from locations.models import Capability, Connector, PowerType
from sessions import freeze
from sessions.metering import MICROS_PER_HOUR
from sessions.models import ChargingPreferencesResponse, Session
from tokens.models import ProfileType

_PHASES = {PowerType.AC_3_PHASE: 3, PowerType.AC_2_PHASE: 2, PowerType.AC_2_PHASE_SPLIT: 2}
# Profiles that move charging in time: the CPO needs to know until when, and how much.
_SCHEDULED_PROFILES = (ProfileType.CHEAP, ProfileType.GREEN)


def takes_charging_preferences(session: Session) -> bool:
    """Whether the session's EVSE has CHARGING_PREFERENCES_CAPABLE (mod_locations, Capability);
    a reservation not bound to an EVSE has none to ask."""
    evse = session.evse
    return evse is not None and Capability.CHARGING_PREFERENCES_CAPABLE in (evse.capabilities or [])


def _max_power_kw(connector: Connector) -> Decimal:
    if connector.max_electric_power:
        return Decimal(connector.max_electric_power) / 1000
    phases = _PHASES.get(PowerType(connector.power_type), 1)
    return Decimal(connector.max_voltage * connector.max_amperage * phases) / 1000


def decide(session: Session, preferences: Mapping[str, Any], moment: datetime) -> str:
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
