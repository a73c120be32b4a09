"""OCPP sampled values → Samples (units, phases, locations, both versions), and the rules of a
transaction's register: baseline, Wh labelled kWh, a zero start value, late, backwards and
implausible readings."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chargers.metering import (
    UNKNOWN_MAX_POWER_KW,
    Register,
    Sample,
    max_power_kw,
    plausible,
    sample_of,
)
from chargers.models import ChargePoint
from locations.models import Connector

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
RECEIVED = T0 + 10 * MINUTE
POWER = Decimal(22)  # kW the EVSE can deliver


def value(
    number: Any, measurand: str = "Energy.Active.Import.Register", **fields: Any
) -> dict[str, Any]:
    return {"value": number, "measurand": measurand, **fields}


def sample(*values: dict[str, Any], at: str = "2026-03-02T09:05:00Z") -> Sample:
    return sample_of(
        ChargePoint(identity="CP"), {"timestamp": at, "sampledValue": list(values)}, RECEIVED
    )


def register(wh: int | str, minutes: int, *, kwh: bool = False) -> Sample:
    return Sample(
        at=T0 + minutes * MINUTE,
        context="Sample.Periodic",
        register_wh=Decimal(wh),
        labelled_kwh=kwh,
    )


# --- sampled values -------------------------------------------------------------------------


def test_a_1_6_value_without_unit_or_measurand_is_an_energy_register_in_wh() -> None:
    read = sample({"value": "1234.5"})

    assert (read.at, read.context) == (T0 + 5 * MINUTE, "Sample.Periodic")
    assert (read.register_wh, read.labelled_kwh) == (Decimal("1234.5"), False)


def test_units_are_normalised() -> None:
    read = sample(
        value("12.5", unit="kWh"),
        value("7400", "Power.Active.Import", unit="W"),
        value("16", "Current.Import", unit="A"),
        value("80", "SoC", unit="Percent", location="EV"),
    )

    assert (read.register_wh, read.labelled_kwh) == (Decimal("12500.0"), True)
    assert (read.power_kw, read.current_a, read.soc) == (Decimal("7.4"), Decimal(16), Decimal(80))


def test_the_2_0_1_multiplier_scales_the_value() -> None:
    read = sample(value(12.5, unitOfMeasure={"unit": "Wh", "multiplier": 3}))

    assert read.register_wh == Decimal(12500)


def test_phases_are_summed_unless_the_total_is_given() -> None:
    phases = [
        value(str(a), "Current.Import", phase=p) for a, p in ((16, "L1"), (15, "L2"), (14, "L3"))
    ]
    neutral = value("3", "Current.Import", phase="N")
    powers = [value("3700", "Power.Active.Import", phase=p) for p in ("L1-N", "L2-N", "L3-N")]

    summed = sample(*phases, neutral, *powers)
    total = sample(*phases, value("44", "Current.Import"))

    assert (summed.current_a, summed.power_kw, total.current_a) == (
        Decimal(45),
        Decimal("11.1"),
        Decimal(44),
    )


def test_the_outlet_is_preferred_and_what_cannot_be_read_is_skipped() -> None:
    read = sample(
        value("900", location="Inlet"),
        value("800"),
        value("abc", "Power.Active.Import"),
        value("5", "Current.Import", unit="kW"),
        value("signed", format="SignedData"),
    )

    assert (read.register_wh, read.power_kw, read.current_a) == (Decimal(800), None, None)


@pytest.mark.django_db
def test_an_impossible_time_is_the_time_of_receipt_and_the_offset_recorded() -> None:
    point = ChargePoint.objects.create(identity="CP")
    meter_value = {"timestamp": "1970-01-01T00:00:00Z", "sampledValue": [value("1")]}

    assert sample_of(point, meter_value, RECEIVED).at == RECEIVED
    point.refresh_from_db()
    assert point.clock_offset == -RECEIVED.timestamp()


# --- the register ---------------------------------------------------------------------------


def test_the_first_reading_is_the_baseline_without_a_start_value() -> None:
    meter = Register()

    assert meter.read(register(5_000, 0), POWER) == (Decimal(5_000), T0)
    assert meter.read(register(6_000, 10), POWER) == (Decimal(5_000), T0)
    assert (meter.baseline_wh, meter.energy_wh, meter.warnings) == (
        Decimal(5_000),
        Decimal(1_000),
        [],
    )


def test_an_older_reading_lowers_a_baseline_that_was_not_given() -> None:
    meter = Register()
    meter.read(register(6_000, 10), POWER)

    assert meter.read(register(5_000, 0), POWER) is None
    assert (meter.baseline_wh, meter.baseline_at, meter.last_wh) == (
        Decimal(5_000),
        T0,
        Decimal(6_000),
    )


def test_a_given_start_value_stays_the_baseline() -> None:
    meter = Register()
    meter.start(Decimal(5_500), T0 + MINUTE)

    meter.read(register(5_000, 0), POWER)

    assert meter.baseline_wh == Decimal(5_500)


def test_wh_labelled_kwh_is_found_and_every_such_value_read_anew() -> None:
    meter = Register()
    meter.read(register(5_000_000, 0, kwh=True), POWER)  # "5000 kWh": which it may be

    previous = meter.read(register(5_200_000, 10, kwh=True), POWER)  # "5200 kWh": 200 kWh?

    assert previous == (Decimal(5_000), T0)
    assert (meter.kwh_means_wh, meter.baseline_wh, meter.last_wh) == (
        True,
        Decimal(5_000),
        Decimal(5_200),
    )
    assert "labelled kWh but in Wh" in meter.warnings[0]
    meter.read(register(5_300_000, 20, kwh=True), POWER)
    assert meter.energy_wh == Decimal(300)


def test_a_zero_start_value_with_the_odometer_moves_the_baseline() -> None:
    meter = Register()
    meter.start(Decimal(0), T0)

    meter.read(register(910_000_000, 1), POWER)
    meter.read(register(910_000_300, 2), POWER)

    assert (meter.baseline_wh, meter.energy_wh) == (Decimal(910_000_000), Decimal(300))
    assert "zero start value" in meter.warnings[0]


def test_a_register_going_backwards_is_ignored() -> None:
    meter = Register()
    meter.start(Decimal(5_000), T0)
    meter.read(register(6_000, 10), POWER)

    assert meter.read(register(5_500, 20), POWER) is None
    assert (meter.last_wh, meter.last_at) == (Decimal(6_000), T0 + 10 * MINUTE)
    assert "went backwards" in meter.warnings[0]


def test_an_unexplained_jump_is_kept_and_counted_suspect() -> None:
    meter = Register()
    meter.start(Decimal(5_000), T0)

    meter.read(register(105_000, 1), POWER)

    assert (meter.last_wh, meter.suspect) == (Decimal(105_000), 1)
    assert "more than the EVSE can deliver" in meter.warnings[0]


def test_plausible_allows_the_evse_s_power_with_a_margin() -> None:
    # 22 kW for 10 minutes: 3.67 kWh; the margin (×1.5, a minute, 1 kWh) allows up to 7.05 kWh.
    assert plausible(Decimal(7_000), T0, T0 + 10 * MINUTE, POWER)
    assert not plausible(Decimal(7_100), T0, T0 + 10 * MINUTE, POWER)
    assert not plausible(Decimal(-1), T0, T0 + 10 * MINUTE, POWER)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"max_electric_power": 22_000}, Decimal(22)),
        ({"power_type": "AC_3_PHASE", "max_voltage": 230, "max_amperage": 32}, Decimal("22.08")),
        ({"power_type": "AC_1_PHASE", "max_voltage": 230, "max_amperage": 16}, Decimal("3.68")),
        ({"power_type": "DC", "max_voltage": 0, "max_amperage": 0}, UNKNOWN_MAX_POWER_KW),
    ],
)
def test_the_power_an_evse_can_deliver(fields: dict[str, Any], expected: Decimal) -> None:
    values = {"power_type": "DC", "max_voltage": 400, "max_amperage": 100, **fields}

    assert max_power_kw(Connector(**values)) == expected
    assert max_power_kw(None) == UNKNOWN_MAX_POWER_KW
