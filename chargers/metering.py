"""OCPP meter values → readings of a transaction, and the rules that keep its energy honest.

A MeterValue (1.6 and 2.0.1 alike: a timestamp and sampledValues) becomes one Sample:

- Energy.Active.Import.Register in Wh, Power.Active.Import in kW, Current.Import in A,
  SoC in percent. Units are normalised (Wh/kWh, W/kW, the 2.0.1 multiplier 10^n); a 1.6
  value without a unit is in Wh (its schema's default), a power in W, a current in A.
- Per-phase values: the value without a phase is the total; without one, the sum of
  L1, L2, L3 (or L1-N, L2-N, L3-N). N (the neutral) and the line-to-line phases are not
  added. OCPI's currents are sums over the phases too (mod_cdrs, CdrDimensionType).
- A value measured at the Outlet (the default location) is preferred; else the first
  location given (SoC is measured at the EV). Signed values (1.6 format SignedData) and
  values that are not numbers are skipped.

The register of a transaction (Register) counts energy from a baseline: the 1.6 meterStart,
else the first register reading. A reading that jumps further than the EVSE's power allows
in the time elapsed (OCPP_METER_POWER_MARGIN) is explained before it is believed:
- labelled kWh but really Wh (a known vendor bug): read as Wh when that is plausible, and
  every kWh-labelled value of the transaction with it (the baseline included);
- a baseline of 0 while the register shows the meter's whole life (CitrineOS #1060: an
  offline Transaction.Begin of 0 Wh billed a 910 kWh odometer): the reading becomes the
  baseline, and the energy before it is lost rather than billed;
otherwise it is kept and counted as suspect (an operator sees it); a register that goes
backwards is ignored. Each of these is logged as a warning.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from chargers.clock import charge_point_time, record_offset
from chargers.models import ChargePoint
from locations.models import Connector, PowerType

logger = logging.getLogger(__name__)

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
CURRENT = "Current.Import"
SOC = "SoC"
OUTLET = "Outlet"
TOTAL_PHASES = ("L1", "L2", "L3", "L1-N", "L2-N", "L3-N")
SAMPLE_PERIODIC = "Sample.Periodic"
KILO = Decimal(1000)

# For an EVSE whose power we do not know: more than any charger sold today.
UNKNOWN_MAX_POWER_KW = Decimal(400)
# A reading may exceed the EVSE's power over the elapsed time by this factor, plus a minute
# of clock granularity and one kWh of register resolution (registers in whole kWh exist).
POWER_MARGIN = Decimal("1.5")
CLOCK_SLACK = timedelta(seconds=60)
RESOLUTION_WH = Decimal(1000)
PHASES: dict[str, int] = {PowerType.AC_3_PHASE: 3, PowerType.AC_2_PHASE: 2}


@dataclass(frozen=True)
class Sample:
    """One MeterValue: what the meter said at `at` (each None when not measured)."""

    at: datetime
    context: str
    register_wh: Decimal | None = None  # as labelled: a kWh value times 1000
    labelled_kwh: bool = False
    power_kw: Decimal | None = None
    current_a: Decimal | None = None
    soc: Decimal | None = None


# --- sampled values -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    measurand: str
    phase: str
    location: str
    unit: str
    number: Decimal
    context: str


def _number(raw: object) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _values(sampled: Iterable[Mapping[str, Any]], default_context: str) -> list[_Value]:
    values = []
    for item in sampled:
        if item.get("format") == "SignedData":
            continue
        number = _number(item.get("value"))
        if number is None:
            logger.warning("Meter value %r is not a number: skipped", item.get("value"))
            continue
        unit_of_measure = item.get("unitOfMeasure") or {}
        unit = item.get("unit") or unit_of_measure.get("unit") or ""
        multiplier = unit_of_measure.get("multiplier") or 0
        values.append(
            _Value(
                measurand=item.get("measurand") or ENERGY,
                phase=item.get("phase") or "",
                location=item.get("location") or OUTLET,
                unit=unit,
                number=number.scaleb(multiplier),
                context=item.get("context") or default_context,
            )
        )
    return values


def _total(values: list[_Value]) -> _Value | None:
    """The one value of a measurand: at the Outlet if measured there; the total, else the
    sum of the phases (their unit: the first one's)."""
    if not values:
        return None
    where = OUTLET if any(v.location == OUTLET for v in values) else values[0].location
    here = [v for v in values if v.location == where]
    whole = next((v for v in here if not v.phase), None)
    if whole is not None:
        return whole
    phases = {v.phase: v for v in here if v.phase in TOTAL_PHASES and v.unit == here[0].unit}
    if not phases:
        return None
    first = next(iter(phases.values()))
    return replace(first, phase="", number=sum((v.number for v in phases.values()), Decimal(0)))


_ENERGY_UNITS = {"": Decimal(1), "Wh": Decimal(1), "kWh": KILO}
_POWER_UNITS = {"": 1 / KILO, "W": 1 / KILO, "kW": Decimal(1)}


def _scaled(value: _Value | None, units: Mapping[str, Decimal]) -> Decimal | None:
    if value is None:
        return None
    if value.unit not in units:
        logger.warning("%s in %r: a unit we do not read; skipped", value.measurand, value.unit)
        return None
    return value.number * units[value.unit]


def moment(charge_point: ChargePoint, value: object, received_at: datetime) -> datetime:
    """The charge point's time `value`, or ours when its clock is impossible: then its offset
    is recorded for the operator to see (chargers.clock)."""
    at, believed = charge_point_time(charge_point, value, received_at)
    if not believed:
        record_offset(charge_point, value, received_at)
    return at


def sample_of(
    charge_point: ChargePoint,
    meter_value: Mapping[str, Any],
    received_at: datetime,
    default_context: str = SAMPLE_PERIODIC,
) -> Sample:
    """A MeterValue as a Sample, at the charge point's time (ours if its clock is impossible)."""
    at = moment(charge_point, meter_value.get("timestamp"), received_at)
    values = _values(meter_value.get("sampledValue") or [], default_context)
    by_measurand: dict[str, list[_Value]] = {}
    for value in values:
        by_measurand.setdefault(value.measurand, []).append(value)
    energy = _total(by_measurand.get(ENERGY, []))
    current = _total([v for v in by_measurand.get(CURRENT, []) if v.unit in ("", "A")])
    soc = _total(by_measurand.get(SOC, []))
    return Sample(
        at=at,
        context=energy.context if energy else (values[0].context if values else default_context),
        register_wh=_scaled(energy, _ENERGY_UNITS),
        labelled_kwh=energy is not None and energy.unit == "kWh",
        power_kw=_scaled(_total(by_measurand.get(POWER, [])), _POWER_UNITS),
        current_a=current.number if current else None,
        soc=soc.number if soc and soc.unit in ("", "Percent") else None,
    )


def samples_of(
    charge_point: ChargePoint,
    meter_values: Iterable[Mapping[str, Any]],
    received_at: datetime,
    default_context: str = SAMPLE_PERIODIC,
) -> list[Sample]:
    """The MeterValues of a message, in time order."""
    samples = [sample_of(charge_point, mv, received_at, default_context) for mv in meter_values]
    return sorted(samples, key=lambda sample: sample.at)


# --- the register of a transaction ----------------------------------------------------------


def max_power_kw(connector: Connector | None) -> Decimal:
    """What the connector can deliver at most (mod_locations: max_electric_power, else
    voltage × amperage × phases; the voltage of a 3-phase connector is line to neutral)."""
    if connector is None:
        return UNKNOWN_MAX_POWER_KW
    if connector.max_electric_power:
        return Decimal(connector.max_electric_power) / KILO
    phases = PHASES.get(connector.power_type, 1)
    watts = Decimal(connector.max_voltage) * connector.max_amperage * phases
    return watts / KILO if watts else UNKNOWN_MAX_POWER_KW


def plausible(energy_wh: Decimal, start: datetime, end: datetime, power_kw: Decimal) -> bool:
    """Whether `energy_wh` could have been delivered in [start, end] at `power_kw` at most."""
    hours = Decimal(abs((end - start) + CLOCK_SLACK).total_seconds()) / 3600
    return Decimal(0) <= energy_wh <= power_kw * KILO * hours * POWER_MARGIN + RESOLUTION_WH


@dataclass
class Register:
    """A transaction's energy register, in Wh as we read it (see the module's docstring)."""

    baseline_wh: Decimal | None = None
    baseline_at: datetime | None = None
    baseline_given: bool = False  # 1.6 meterStart: the charge point's own start value
    baseline_labelled_kwh: bool = False
    last_wh: Decimal | None = None
    last_at: datetime | None = None
    last_labelled_kwh: bool = False
    kwh_means_wh: bool = False
    suspect: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def energy_wh(self) -> Decimal:
        """Energy since the baseline, by the latest reading."""
        if self.baseline_wh is None or self.last_wh is None:
            return Decimal(0)
        return max(self.last_wh - self.baseline_wh, Decimal(0))

    def start(self, wh: Decimal, at: datetime) -> None:
        """The charge point's own start value (1.6 meterStart, always Wh)."""
        self.baseline_wh, self.baseline_at, self.baseline_given = wh, at, True
        self.baseline_labelled_kwh = False
        if self.last_at is None or at > self.last_at:
            self.last_wh, self.last_at, self.last_labelled_kwh = wh, at, False

    def read(self, sample: Sample, power_kw: Decimal) -> tuple[Decimal, datetime] | None:
        """Fold a register reading in. When it is the new latest one: the one before it
        (Wh, moment: read as this reading made us read it), else None."""
        if sample.register_wh is None:
            return None
        labelled = sample.labelled_kwh
        wh = sample.register_wh / KILO if labelled and self.kwh_means_wh else sample.register_wh
        if self.baseline_wh is None or self.baseline_at is None:
            self.baseline_wh, self.baseline_at, self.baseline_labelled_kwh = wh, sample.at, labelled
            self.last_wh, self.last_at, self.last_labelled_kwh = wh, sample.at, labelled
            return wh, sample.at
        last_wh, last_at = self.last_wh, self.last_at
        assert last_wh is not None
        assert last_at is not None
        if sample.at < last_at:
            self._late(wh, sample, labelled)
            return None
        if not plausible(wh - last_wh, last_at, sample.at, power_kw):
            explained = self._explain(wh, sample, power_kw)
            if explained is None:
                return None
            wh = explained
        before = self.last_wh  # as _explain may have read it anew
        assert before is not None
        self.last_wh, self.last_at, self.last_labelled_kwh = wh, sample.at, labelled
        return before, last_at

    def _late(self, wh: Decimal, sample: Sample, labelled: bool) -> None:
        """A reading older than the latest: the later register already counts its energy; an
        older one than the baseline we chose (not given) is the better baseline."""
        baseline_wh, baseline_at = self.baseline_wh, self.baseline_at
        assert baseline_wh is not None
        assert baseline_at is not None
        if sample.at < baseline_at and not self.baseline_given and wh <= baseline_wh:
            self.baseline_wh, self.baseline_at, self.baseline_labelled_kwh = wh, sample.at, labelled

    def _explain(self, wh: Decimal, sample: Sample, power_kw: Decimal) -> Decimal | None:
        """The reading as it must be meant, or None to ignore it (the meter went backwards)."""
        last_wh, last_at, baseline_wh = self.last_wh, self.last_at, self.baseline_wh
        assert last_wh is not None
        assert last_at is not None
        assert baseline_wh is not None
        if sample.labelled_kwh and not self.kwh_means_wh:
            as_wh = wh / KILO
            last = last_wh / KILO if self.last_labelled_kwh else last_wh
            if plausible(as_wh - last, last_at, sample.at, power_kw):
                self._warn(f"labelled kWh but in Wh ({as_wh} at {sample.at})")
                self.kwh_means_wh = True
                self.last_wh = last
                if self.baseline_labelled_kwh:
                    self.baseline_wh = baseline_wh / KILO
                return as_wh
        if wh < last_wh:
            self._warn(f"register went backwards to {wh} Wh from {last_wh} Wh: ignored")
            return None
        if baseline_wh == 0 and last_wh == 0:
            self._warn(f"zero start value with the register at {wh} Wh: that is the baseline")
            self.baseline_wh, self.baseline_labelled_kwh = wh, sample.labelled_kwh
            return wh
        self.suspect += 1
        self._warn(f"{wh - last_wh} Wh since {last_at}: more than the EVSE can deliver")
        return wh

    def _warn(self, text: str) -> None:
        self.warnings.append(text)
