"""The energy meter of a simulated EVSE and the car charging on it.

The register counts Wh for the life of the meter and starts far from zero, as real ones do:
a central system that takes the register for the energy of a transaction (instead of the
difference from its start) bills the whole odometer and shows at once. It is where it would be
had the EVSE charged at full power since ODOMETER_SINCE, so a later run of the same charge point
never reads less than an earlier run left it at: a meter never runs backwards.
"""

import random
import time
from dataclasses import dataclass

VOLTS = 230  # line to neutral (AC); DC current is computed at DC_VOLTS
DC_VOLTS = 400
CAR_AC_WATTS = 11_040  # a car's on-board charger: 3 x 16 A
CAR_DC_WATTS = 100_000
CAR_BATTERY_WH = 60_000
TAPER_FROM_SOC = 80.0  # above this the car takes less and less, down to a tenth at 100 %
ODOMETER_SINCE = 1_767_225_600  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class Reading:
    energy_wh: float  # the register
    power_w: float
    current_a: float
    soc: float  # percent; the car's, as it reports it


class Meter:
    def __init__(self, *, max_power_w: int, phases: int, rng: random.Random) -> None:
        """`phases` 1 or 3 for AC, 0 for DC."""
        self.max_power_w = max_power_w
        self.phases = phases
        self._rng = rng
        since = max(0.0, time.time() - ODOMETER_SINCE)
        self.register_wh = round(rng.uniform(1_000_000, 9_000_000) + since * self._full() / 3600, 1)
        self._soc = 0.0
        self._power_w = 0.0
        # The charging profile's limit of the moment (chargers.simulator.profiles), in W.
        self.limit_w: float | None = None

    def plug_in(self) -> Reading:
        """A car arrives, half empty."""
        self._soc = round(self._rng.uniform(15, 50), 1)
        self._power_w = 0.0
        return self.reading()

    def unplug(self) -> None:
        self._power_w = 0.0
        self.limit_w = None  # a TxProfile ends with its transaction

    def advance(self, seconds: float) -> Reading:
        """Charge for `seconds` at the car's power, and read the meter."""
        self._power_w = self._car_power()
        energy = self._power_w * seconds / 3600
        self.register_wh = round(self.register_wh + energy, 3)
        self._soc = min(100.0, self._soc + energy / CAR_BATTERY_WH * 100)
        return self.reading()

    def reading(self) -> Reading:
        volts = self.phases * VOLTS if self.phases else DC_VOLTS
        return Reading(
            energy_wh=round(self.register_wh, 1),
            power_w=round(self._power_w),
            current_a=round(self._power_w / volts, 1),
            soc=round(self._soc, 1),
        )

    def _full(self) -> int:
        """The most a car takes here."""
        return min(self.max_power_w, CAR_DC_WATTS if self.phases == 0 else CAR_AC_WATTS)

    def _car_power(self) -> float:
        power = self._full() * self._rng.uniform(0.97, 1.0)
        if self._soc > TAPER_FROM_SOC:
            power *= max(0.1, (100 - self._soc) / (100 - TAPER_FROM_SOC))
        if self.limit_w is not None:
            power = min(power, self.limit_w)
        return power
