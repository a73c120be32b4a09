"""Smart charging on a simulated charge point: the TxProfile of each EVSE's transaction, the
limit it puts on the EVSE's meter (so the energy follows it), and the composite schedule.

Self-contained: the versions' links take the handlers as a mixin (SmartCharging16 in v16.py,
SmartCharging201 in v201.py), and the meter only learns a limit in W (Meter.limit_w).

What a simulated charge point does (OCPP 1.6 §5.16/§7.12, 2.0.1 K01/K08/K10, simplified):
- SetChargingProfile: a TxProfile for the transaction running on the EVSE (its transactionId,
  when given, must be that one's) is Accepted and replaces the EVSE's; any other purpose, or
  an EVSE without a transaction, is Rejected. A profile in A means A per phase on the EVSE's
  phases (numberPhases when given), P = U × I × phases at 230 V (DC: 400 V, one "phase").
- A Relative profile counts from when it is set (the simulator keeps no transaction start);
  an Absolute one from its startSchedule. The meter is given each period's limit as it starts.
- ClearChargingProfile: by id or by EVSE: Accepted when one was cleared, else Unknown.
- GetCompositeSchedule: the EVSE's profile from now for `duration` seconds, in the unit asked
  (its own by default), or the EVSE's maximum power when none is set; Rejected for an EVSE it
  does not have.
- A TxProfile ends with its transaction (the meter forgets its limit when the car unplugs).
"""

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocpp.routing import on
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from chargers.simulator.meter import DC_VOLTS, VOLTS

if TYPE_CHECKING:
    from chargers.simulator.station import Evse, Station, Transaction
    from chargers.simulator.v16 import Station16
    from chargers.simulator.v201 import Station201

TX_PROFILE = "TxProfile"


@dataclass
class TxLimit:
    profile_id: int
    transaction: "Transaction"
    unit: str
    periods: list[tuple[int, float, int | None]]  # (start, limit, numberPhases)
    begins: float  # time.time() of its start
    duration: int | None

    def at(self, moment: float) -> tuple[float, int | None] | None:
        """(limit, phases) in effect at `moment` (time.time()); None outside the profile."""
        offset = moment - self.begins
        if offset < 0 or (self.duration is not None and offset >= self.duration):
            return None
        current = None
        for start, limit, phases in self.periods:
            if start > offset:
                break
            current = (limit, phases)
        return current

    def boundaries(self) -> list[float]:
        """When its limit changes, as time.time() moments."""
        moments = [self.begins + start for start, _, _ in self.periods]
        if self.duration is not None:
            moments.append(self.begins + self.duration)
        return moments


def _volts(phases: int) -> int:
    return VOLTS if phases else DC_VOLTS


def to_watts(limit: float, unit: str, evse_phases: int, phases: int | None) -> float:
    if unit == "W":
        return limit
    lines = phases or evse_phases or 1
    return limit * _volts(evse_phases) * lines


def from_watts(watts: float, unit: str, evse_phases: int) -> float:
    if unit == "W":
        return round(watts, 1)
    return int(watts / (_volts(evse_phases) * (evse_phases or 1)) * 10) / 10  # rounded down


class Profiles:
    """The TxProfiles of one station's EVSEs."""

    def __init__(self, station: "Station") -> None:
        self.station = station
        self.limits: dict[int, TxLimit] = {}
        self._timers: dict[int, asyncio.Task[None]] = {}

    def current(self, evse: "Evse") -> TxLimit | None:
        """The EVSE's profile while its transaction runs."""
        found = self.limits.get(evse.ocpp_id)
        if found is None or evse.transaction is not found.transaction:
            return None
        return found

    def set(self, evse_id: int, profile: dict[str, Any], schedule: dict[str, Any]) -> str:
        """Set a TxProfile (the library's snake_case dicts); the OCPP status."""
        evse = self.station.evses.get(evse_id)
        if evse is None or evse.transaction is None:
            return "Rejected"
        if profile.get("charging_profile_purpose") != TX_PROFILE:
            return "Rejected"
        wanted = profile.get("transaction_id")
        tx = evse.transaction
        if wanted is not None and wanted not in (tx.ocpp_id, tx.local_id):
            return "Rejected"
        start = schedule.get("start_schedule")
        begins = time.time()
        if start:
            begins = datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp()
        self.limits[evse_id] = TxLimit(
            profile_id=int(profile.get("charging_profile_id", profile.get("id", 0))),
            transaction=tx,
            unit=schedule["charging_rate_unit"],
            periods=sorted(
                (int(p["start_period"]), float(p["limit"]), p.get("number_phases"))
                for p in schedule["charging_schedule_period"]
            ),
            begins=begins,
            duration=schedule.get("duration"),
        )
        self.station.report(f"EVSE {evse_id}: TxProfile {self.limits[evse_id].periods}")
        self._apply(evse)
        return "Accepted"

    def clear(self, profile_id: int | None = None, evse_id: int | None = None) -> str:
        cleared = [
            n
            for n, limit in self.limits.items()
            if (profile_id is None or limit.profile_id == profile_id)
            and (evse_id in (None, 0) or n == evse_id)
        ]
        for n in cleared:
            del self.limits[n]
            self._apply(self.station.evses[n])
        return "Accepted" if cleared else "Unknown"

    def composite(self, evse_id: int, duration: int, unit: str | None) -> dict[str, Any] | None:
        """The schedule from now for `duration` s (snake_case, as the library sends it)."""
        evse = self.station.evses.get(evse_id)
        if evse is None:
            return None
        phases = evse.meter.phases
        now = time.time()
        limit = self.current(evse)
        unit = unit or (limit.unit if limit is not None else ("W" if phases == 0 else "A"))
        maximum = float(evse.meter.max_power_w)
        periods: list[dict[str, Any]] = []
        later = limit.boundaries() if limit is not None else []
        moments = [now, *sorted(m for m in later if now < m < now + duration)]
        for moment in moments:
            watts = maximum
            found = limit.at(moment) if limit is not None else None
            if limit is not None and found is not None:
                watts = min(maximum, to_watts(found[0], limit.unit, phases, found[1]))
            value = from_watts(watts, unit, phases)
            if not periods or periods[-1]["limit"] != value:
                periods.append({"start_period": int(moment - now), "limit": value})
        start = datetime.fromtimestamp(now, UTC).replace(microsecond=0)
        return {
            "schedule_start": start.isoformat().replace("+00:00", "Z"),
            "duration": duration,
            "charging_rate_unit": unit,
            "charging_schedule_period": periods,
        }

    def _apply(self, evse: "Evse") -> None:
        """Give the meter the limit of the moment, and again where it changes next."""
        timer = self._timers.pop(evse.ocpp_id, None)
        if timer is not None:
            timer.cancel()
        limit = self.current(evse)
        now = time.time()
        found = limit.at(now) if limit is not None else None
        evse.meter.limit_w = (
            None
            if found is None or limit is None
            else to_watts(found[0], limit.unit, evse.meter.phases, found[1])
        )
        later = [m for m in (limit.boundaries() if limit else []) if m > now]
        if later:
            self._timers[evse.ocpp_id] = self.station.spawn(self._at(evse, min(later)))

    async def _at(self, evse: "Evse", moment: float) -> None:
        await asyncio.sleep(max(0.0, moment - time.time()))
        self._timers.pop(evse.ocpp_id, None)
        self._apply(evse)


def profiles_of(station: "Station") -> Profiles:
    """The station's profiles, made on first use (stations know nothing of them)."""
    found: Profiles | None = getattr(station, "_profiles", None)
    if found is None:
        found = Profiles(station)
        station._profiles = found  # type: ignore[attr-defined]
    return found


class SmartCharging16:
    """The 1.6 link's smart charging handlers (Link16 takes them as a mixin)."""

    station: "Station16"

    @on(Action16.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> Any:
        status = profiles_of(self.station).set(
            connector_id, cs_charging_profiles, cs_charging_profiles["charging_schedule"]
        )
        self.station.report(f"SetChargingProfile on connector {connector_id}: {status}")
        return result16.SetChargingProfile(status=status)

    @on(Action16.clear_charging_profile)
    def on_clear_charging_profile(
        self, id: int | None = None, connector_id: int | None = None, **_: Any
    ) -> Any:
        status = profiles_of(self.station).clear(id, connector_id)
        self.station.report(f"ClearChargingProfile {id or ''}: {status}")
        return result16.ClearChargingProfile(status=status)

    @on(Action16.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        schedule = profiles_of(self.station).composite(connector_id, duration, charging_rate_unit)
        if schedule is None:
            return result16.GetCompositeSchedule(status="Rejected")
        start = schedule.pop("schedule_start")
        return result16.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=start,
            charging_schedule=schedule,
        )


class SmartCharging201:
    """The 2.0.1 link's smart charging handlers (Link201 takes them as a mixin)."""

    station: "Station201"

    @on(Action201.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> Any:
        schedules = charging_profile.get("charging_schedule") or [{}]
        status = profiles_of(self.station).set(evse_id, charging_profile, schedules[0])
        self.station.report(f"SetChargingProfile on EVSE {evse_id}: {status}")
        return result201.SetChargingProfile(status=status)

    @on(Action201.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        evse_id = (charging_profile_criteria or {}).get("evse_id")
        status = profiles_of(self.station).clear(charging_profile_id, evse_id)
        self.station.report(f"ClearChargingProfile {charging_profile_id or ''}: {status}")
        return result201.ClearChargingProfile(status=status)

    @on(Action201.get_composite_schedule)
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        schedule = profiles_of(self.station).composite(evse_id, duration, charging_rate_unit)
        if schedule is None:
            return result201.GetCompositeSchedule(status="Rejected")
        return result201.GetCompositeSchedule(
            status="Accepted", schedule={"evse_id": evse_id, **schedule}
        )
