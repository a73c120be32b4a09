"""The simulated EVSE's meter: an odometer far from zero that never runs backwards, whatever
the run, and a car whose power follows its acceptance (11 kW AC, tapering above 80 % SoC)."""

import random
import time

import pytest

from chargers.simulator import meter
from chargers.simulator.meter import Meter

AC_11 = {"max_power_w": 22_080, "phases": 3}  # a 22 kW socket: the car takes 11 kW


def rng(seed: str | int) -> random.Random:
    return random.Random(seed)  # noqa: S311 (the simulation's own randomness, seeded)


def test_the_register_starts_far_from_zero_and_counts_the_energy() -> None:
    m = Meter(**AC_11, rng=rng("SIM-0001"))
    start = m.plug_in()

    reading = m.advance(3600)

    assert start.energy_wh > 1_000_000
    assert 10_700 <= reading.energy_wh - start.energy_wh <= 11_040
    assert 10_700 <= reading.power_w <= 11_040
    assert reading.current_a == pytest.approx(reading.power_w / 690, abs=0.1)
    assert reading.soc == pytest.approx(
        start.soc + (reading.energy_wh - start.energy_wh) / 600, abs=0.2
    )


def test_a_later_run_never_reads_less_than_an_earlier_one_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(time, "time", lambda: meter.ODOMETER_SINCE + 86_400)
    first = Meter(**AC_11, rng=rng("SIM-0001"))
    first.plug_in()
    left_at = first.advance(600).energy_wh  # charged at full power for ten minutes

    monkeypatch.setattr(time, "time", lambda: meter.ODOMETER_SINCE + 86_400 + 601)
    again = Meter(**AC_11, rng=rng("SIM-0001"))

    assert again.register_wh >= left_at


def test_the_car_takes_less_above_80_percent() -> None:
    m = Meter(**AC_11, rng=rng(1))
    m.plug_in()
    full = m.advance(4 * 3600)  # long enough to fill the battery

    assert full.soc == 100.0
    assert m.advance(1).power_w <= 11_040 / 2


def test_dc_current_is_at_400_volts_and_the_car_caps_the_power() -> None:
    m = Meter(max_power_w=300_000, phases=0, rng=rng(2))
    m.plug_in()

    reading = m.advance(1)

    assert 97_000 <= reading.power_w <= 100_000
    assert reading.current_a == pytest.approx(reading.power_w / 400, abs=0.1)
