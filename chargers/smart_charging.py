"""Smart charging at our charge points: OCPI ChargingProfile ↔ OCPP charging schedules, and the
calls that set, clear and read a transaction's limit.

The conversions are pure (no database); the calls go through chargers.calls.send().

Units (OCPI mod_charging_profiles, ChargingRateUnit; OCPP 1.6 §7.12, 2.0.1 K01):
    W   the total power over all phases (handy for DC)
    A   the current per phase (handy for AC)
    P = U × I × phases, with U the connector's max_voltage (line to neutral for AC) and the
    phases its power_type says: AC_1_PHASE 1, AC_2_PHASE(_SPLIT) 2, AC_3_PHASE 3, DC 1 (P = U × I).
A converted limit is rounded down to 0.1 (OCPI: at most one decimal; OCPP 1.6: multipleOf
0.1): a limit is a ceiling, and rounding must never raise it.

Profiles (OCPI ChargingProfile ↔ OCPP ChargingSchedule, the same fields under other names):
    start_date_time        startSchedule (absent: Relative to the start of charging, OCPP
                           chargingProfileKind Relative; present: Absolute)
    duration               duration (s)
    charging_rate_unit     chargingRateUnit
    min_charging_rate      minChargingRate
    charging_profile_period[start_period, limit]   chargingSchedulePeriod[startPeriod, limit]
An AC profile in A tells OCPP how many phases it means (numberPhases: the EVSE's), so that a
1-phase EVSE is not read as the OCPP default of 3.

Each transaction has one TxProfile at our charge point, id = the ChargerTransaction's primary
key, at STACK_LEVEL: whoever sets it next (the eMSP through OCPI, or load management) replaces
it. Mixing several limits at one charge point is what OCPI warns against ("Profiles are
limits … avoid mixing topologies"), so the platform composes them before sending
(chargingprofiles.planning) and the charge point sees one.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Any

from chargers.calls import Payload, send, version_of
from chargers.models import ChargePointCall, ChargerTransaction, OcppVersion
from locations.models import Connector, PowerType

TX_PROFILE = "TxProfile"
STACK_LEVEL = 1
TENTH = Decimal("0.1")
_PHASES: dict[str, int] = {
    PowerType.AC_1_PHASE: 1,
    PowerType.AC_2_PHASE: 2,
    PowerType.AC_2_PHASE_SPLIT: 2,
    PowerType.AC_3_PHASE: 3,
}


class RateUnit(StrEnum):
    W = "W"
    A = "A"


@dataclass(frozen=True)
class Supply:
    """What P = U × I × phases needs of an EVSE: its voltage and how many phases carry power."""

    volts: Decimal
    phases: int
    direct_current: bool = False

    @property
    def watts_per_ampere(self) -> Decimal:
        return self.volts * self.phases


def supply_of(connector: Connector) -> Supply:
    """The connector's supply: max_voltage, and the phases of its power_type."""
    direct = connector.power_type == PowerType.DC
    return Supply(Decimal(connector.max_voltage), _PHASES.get(connector.power_type, 1), direct)


def floor_tenth(value: Decimal) -> Decimal:
    """Rounded down to one decimal (a limit never rises by rounding)."""
    return value.quantize(TENTH, rounding=ROUND_FLOOR)


def to_watts(limit: Decimal, unit: str, supply: Supply) -> Decimal:
    """A limit in `unit` as total watts (exact: no rounding)."""
    return limit if unit == RateUnit.W else limit * supply.watts_per_ampere


def from_watts(watts: Decimal, unit: str, supply: Supply) -> Decimal:
    """Total watts as a limit in `unit`, rounded down to 0.1."""
    if unit == RateUnit.W:
        return floor_tenth(watts)
    return floor_tenth(watts / supply.watts_per_ampere)


# --- the profile, as both protocols mean it --------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: int  # seconds from the profile's start
    limit: Decimal  # in the profile's unit


@dataclass(frozen=True)
class Profile:
    """An OCPI ChargingProfile (or an OCPP schedule): periods in order of their start."""

    unit: str
    periods: tuple[Period, ...]
    start: datetime | None = None
    duration: int | None = None
    min_rate: Decimal | None = None

    def limit_at(self, offset: float) -> Decimal | None:
        """The limit `offset` seconds after the profile's start; None before the first
        period or after its duration (no limit of this profile then)."""
        if self.duration is not None and offset >= self.duration:
            return None
        current = None
        for period in self.periods:
            if period.start > offset:
                break
            current = period.limit
        return current


def from_offset(profile: Profile, offset: int) -> Profile:
    """The rest of the profile from `offset` seconds after its start, as a profile that starts
    there (ActiveChargingProfile: "relative to" the moment it was calculated)."""
    if offset <= 0:
        return replace(profile, start=None)
    current = profile.limit_at(offset)
    later = tuple(Period(p.start - offset, p.limit) for p in profile.periods if p.start > offset)
    periods = ((Period(0, current),) if current is not None else ()) + later
    duration = None if profile.duration is None else max(profile.duration - offset, 0)
    return replace(profile, start=None, periods=periods, duration=duration)


def effective(profile: Profile | None, share_w: Decimal | None, supply: Supply) -> Profile | None:
    """What a charge point is told for a session: the eMSP's profile, the grid share load
    management planned, or the eMSP's profile capped by the share (None: neither)."""
    if share_w is None:
        return profile
    if profile is None:
        return constant(share_w, unit_for(supply), supply)
    return capped(profile, share_w, supply)


def in_unit(profile: Profile, unit: str, supply: Supply) -> Profile:
    """The same profile in `unit` (W ↔ A by P = U × I × phases), each figure rounded down."""
    if profile.unit == unit:
        return profile

    def convert(value: Decimal) -> Decimal:
        return from_watts(to_watts(value, profile.unit, supply), unit, supply)

    periods = tuple(Period(p.start, convert(p.limit)) for p in profile.periods)
    minimum = None if profile.min_rate is None else convert(profile.min_rate)
    return replace(profile, unit=unit, periods=periods, min_rate=minimum)


def capped(profile: Profile, watts: Decimal, supply: Supply) -> Profile:
    """The profile with no period above `watts` (in its own unit), and a profile that is only
    that cap when there is none (`profile` without periods)."""
    ceiling = from_watts(watts, profile.unit, supply)
    periods = tuple(Period(p.start, min(p.limit, ceiling)) for p in profile.periods)
    if not periods:
        periods = (Period(0, ceiling),)
    minimum = profile.min_rate
    if minimum is not None and minimum > ceiling:
        minimum = ceiling
    return replace(profile, periods=periods, min_rate=minimum)


def constant(watts: Decimal, unit: str, supply: Supply) -> Profile:
    """A profile of one limit, from now on."""
    return Profile(unit=unit, periods=(Period(0, from_watts(watts, unit, supply)),))


def unit_for(supply: Supply) -> str:
    """The unit a charge point is best told its limit in: A for AC, W for DC (OCPI's advice)."""
    return RateUnit.W if supply.direct_current else RateUnit.A


# --- OCPI ChargingProfile ----------------------------------------------------------------------


def profile_from_ocpi(data: Mapping[str, Any]) -> Profile:
    """An OCPI ChargingProfile (serializer-validated: Decimals and aware datetimes)."""
    minimum = data.get("min_charging_rate")
    return Profile(
        unit=str(data["charging_rate_unit"]),
        periods=tuple(
            Period(int(p["start_period"]), Decimal(str(p["limit"])))
            for p in sorted(data.get("charging_profile_period") or [], key=_start_period)
        ),
        start=data.get("start_date_time"),
        duration=data.get("duration"),
        min_rate=None if minimum is None else Decimal(str(minimum)),
    )


def _start_period(period: Mapping[str, Any]) -> int:
    return int(period["start_period"])


def profile_to_ocpi(profile: Profile) -> dict[str, Any]:
    """The OCPI ChargingProfile (Decimals and datetimes: the serializer renders them)."""
    data: dict[str, Any] = {"charging_rate_unit": profile.unit}
    if profile.start is not None:
        data["start_date_time"] = profile.start
    if profile.duration is not None:
        data["duration"] = profile.duration
    if profile.min_rate is not None:
        data["min_charging_rate"] = profile.min_rate
    data["charging_profile_period"] = [
        {"start_period": p.start, "limit": p.limit} for p in profile.periods
    ]
    return data


# --- OCPP ChargingSchedule ------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def ocpp_schedule(profile: Profile, supply: Supply) -> Payload:
    """The OCPP ChargingSchedule (1.6 and 2.0.1 name the fields alike; 2.0.1 adds an id)."""
    schedule: Payload = {"chargingRateUnit": profile.unit}
    if profile.start is not None:
        schedule["startSchedule"] = _stamp(profile.start)
    if profile.duration is not None:
        schedule["duration"] = profile.duration
    phases = supply.phases if profile.unit == RateUnit.A and not supply.direct_current else None
    periods = []
    for period in profile.periods:
        item: Payload = {"startPeriod": period.start, "limit": float(period.limit)}
        if phases is not None:
            item["numberPhases"] = phases
        periods.append(item)
    schedule["chargingSchedulePeriod"] = periods
    if profile.min_rate is not None:
        schedule["minChargingRate"] = float(profile.min_rate)
    return schedule


def profile_from_ocpp(schedule: Mapping[str, Any], start: datetime | None = None) -> Profile:
    """A 1.6 ChargingSchedule or a 2.0.1 ChargingSchedule/CompositeSchedule; `start` when the
    schedule states none (1.6 GetCompositeSchedule answers scheduleStart beside it)."""
    begins = schedule.get("startSchedule") or schedule.get("scheduleStart")
    minimum = schedule.get("minChargingRate")
    return Profile(
        unit=str(schedule["chargingRateUnit"]),
        periods=tuple(
            Period(int(p["startPeriod"]), floor_tenth(Decimal(str(p["limit"]))))
            for p in sorted(schedule.get("chargingSchedulePeriod") or [], key=_start_ocpp)
        ),
        start=datetime.fromisoformat(begins) if begins else start,
        duration=schedule.get("duration"),
        min_rate=None if minimum is None else floor_tenth(Decimal(str(minimum))),
    )


def _start_ocpp(period: Mapping[str, Any]) -> int:
    return int(period["startPeriod"])


def set_profile_payload(
    version: str, transaction: ChargerTransaction, profile: Profile, supply: Supply
) -> Payload:
    """SetChargingProfile of the transaction's TxProfile (1.6: connectorId + csChargingProfiles
    with the integer transactionId; 2.0.1: evseId + chargingProfile with its transactionId)."""
    assert transaction.ocpp_evse_id is not None
    kind = "Absolute" if profile.start is not None else "Relative"
    schedule = ocpp_schedule(profile, supply)
    if version == OcppVersion.V16:
        return {
            "connectorId": transaction.ocpp_evse_id,
            "csChargingProfiles": {
                "chargingProfileId": transaction.pk,
                "transactionId": int(transaction.transaction_id),
                "stackLevel": STACK_LEVEL,
                "chargingProfilePurpose": TX_PROFILE,
                "chargingProfileKind": kind,
                "chargingSchedule": schedule,
            },
        }
    return {
        "evseId": transaction.ocpp_evse_id,
        "chargingProfile": {
            "id": transaction.pk,
            "stackLevel": STACK_LEVEL,
            "chargingProfilePurpose": TX_PROFILE,
            "chargingProfileKind": kind,
            "transactionId": transaction.transaction_id,
            "chargingSchedule": [{"id": transaction.pk, **schedule}],
        },
    }


def sent_schedule(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ChargingSchedule a SetChargingProfile payload (either version) carries."""
    if "csChargingProfiles" in payload:
        schedule: Mapping[str, Any] = payload["csChargingProfiles"]["chargingSchedule"]
        return schedule
    first: Mapping[str, Any] = payload["chargingProfile"]["chargingSchedule"][0]
    return first


def clear_profile_payload(version: str, transaction: ChargerTransaction) -> Payload:
    """ClearChargingProfile of the transaction's TxProfile, by its id."""
    if version == OcppVersion.V16:
        return {"id": transaction.pk}
    return {"chargingProfileId": transaction.pk}


def composite_schedule_payload(
    version: str, transaction: ChargerTransaction, duration: int, unit: str
) -> Payload:
    """GetCompositeSchedule of the transaction's EVSE (1.6: connectorId) for `duration` s."""
    assert transaction.ocpp_evse_id is not None
    where = "connectorId" if version == OcppVersion.V16 else "evseId"
    return {where: transaction.ocpp_evse_id, "duration": duration, "chargingRateUnit": unit}


def composite_of(version: str, response: Mapping[str, Any] | None) -> Profile | None:
    """The schedule a GetCompositeSchedule answer carries; None when it was not Accepted or
    carries none."""
    if not response or response.get("status") != "Accepted":
        return None
    if version == OcppVersion.V16:
        schedule = response.get("chargingSchedule")
        if schedule is None:
            return None
        start = response.get("scheduleStart")
        return profile_from_ocpp(schedule, datetime.fromisoformat(start) if start else None)
    composite = response.get("schedule")
    return None if composite is None else profile_from_ocpp(composite)


def accepted(response: Mapping[str, Any] | None) -> bool:
    """Whether a SetChargingProfile / ClearChargingProfile answer says Accepted."""
    return response is not None and response.get("status") == "Accepted"


# --- the calls --------------------------------------------------------------------------------


def set_profile(
    transaction: ChargerTransaction,
    profile: Profile,
    supply: Supply,
    *,
    follow_up: str = "",
    requested_by: str = "",
    timeout: float | None = None,
) -> ChargePointCall:
    """Send the transaction's TxProfile to its charge point (chargers.calls.send: raises
    InvalidCall or ChargePointOffline before storing anything)."""
    charge_point = transaction.charge_point
    payload = set_profile_payload(version_of(charge_point), transaction, profile, supply)
    return send(
        charge_point,
        "SetChargingProfile",
        payload,
        timeout=timeout,
        requested_by=requested_by,
        follow_up=follow_up,
    )


def clear_profile(
    transaction: ChargerTransaction,
    *,
    follow_up: str = "",
    requested_by: str = "",
    timeout: float | None = None,
) -> ChargePointCall:
    charge_point = transaction.charge_point
    return send(
        charge_point,
        "ClearChargingProfile",
        clear_profile_payload(version_of(charge_point), transaction),
        timeout=timeout,
        requested_by=requested_by,
        follow_up=follow_up,
    )


def get_composite_schedule(
    transaction: ChargerTransaction,
    duration: int,
    unit: str,
    *,
    follow_up: str = "",
    requested_by: str = "",
    timeout: float | None = None,
) -> ChargePointCall:
    charge_point = transaction.charge_point
    return send(
        charge_point,
        "GetCompositeSchedule",
        composite_schedule_payload(version_of(charge_point), transaction, duration, unit),
        timeout=timeout,
        requested_by=requested_by,
        follow_up=follow_up,
    )
