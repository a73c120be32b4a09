"""The engine's values: a tariff, a session's timeline and the priced result.

Plain frozen dataclasses, built by `tariffs.engine.parse` from OCPI JSON (or by a caller from
its own rows). Numbers are Decimal, instants are aware datetimes.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum


class TariffError(ValueError):
    """A tariff the engine cannot price (mod_tariffs, Object description)."""


class TimelineError(ValueError):
    """Charging periods the engine cannot lay out on a time line (mod_cdrs, ChargingPeriod)."""


class TariffDimension(StrEnum):
    """TariffDimensionType (mod_tariffs)."""

    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class CdrDimension(StrEnum):
    """CdrDimensionType (mod_cdrs): what a ChargingPeriod measures."""

    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


# "SHALL only be used in Sessions" (mod_cdrs, CdrDimensionType): never in a CDR's periods.
SESSION_ONLY_DIMENSIONS = frozenset(
    {
        CdrDimension.CURRENT,
        CdrDimension.ENERGY_EXPORT,
        CdrDimension.ENERGY_IMPORT,
        CdrDimension.POWER,
        CdrDimension.STATE_OF_CHARGE,
    }
)


class ReservationRestriction(StrEnum):
    """ReservationRestrictionType (mod_tariffs)."""

    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


# DayOfWeek values in the order of date.weekday(): MONDAY is 0.
DAYS_OF_WEEK = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


@dataclass(frozen=True)
class PriceComponent:
    type: TariffDimension
    price: Decimal  # per unit (kWh, hour, or once for FLAT), excluding VAT
    vat: Decimal | None  # percent; None is "no VAT applicable", which is not 0 %
    step_size: int  # Wh for ENERGY, seconds for TIME and PARKING_TIME; ignored for FLAT


@dataclass(frozen=True)
class Restrictions:
    """TariffRestrictions; None (or an empty day set) means "not restricted"."""

    start_time: time | None = None
    end_time: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    min_duration: int | None = None  # seconds since session start
    max_duration: int | None = None
    day_of_week: frozenset[int] = frozenset()  # date.weekday() numbers
    reservation: ReservationRestriction | None = None


@dataclass(frozen=True)
class TariffElement:
    price_components: tuple[PriceComponent, ...]
    restrictions: Restrictions = field(default_factory=Restrictions)


@dataclass(frozen=True)
class PriceLimit:
    """A tariff's min_price or max_price: incl_vat is optional there (types, Price)."""

    excl_vat: Decimal
    incl_vat: Decimal | None = None


@dataclass(frozen=True)
class Tariff:
    id: str
    currency: str
    elements: tuple[TariffElement, ...]
    min_price: PriceLimit | None = None
    max_price: PriceLimit | None = None


@dataclass(frozen=True)
class Dimension:
    """CdrDimension: a volume in the unit of its type (kWh, hours, kW, A, %)."""

    type: CdrDimension
    volume: Decimal


@dataclass(frozen=True)
class ChargingPeriod:
    """A ChargingPeriod: it lasts until the next one starts, the last one until the end."""

    start_date_time: datetime
    dimensions: tuple[Dimension, ...]
    tariff_id: str | None = None

    def volume(self, kind: CdrDimension) -> Decimal | None:
        for dimension in self.dimensions:
            if dimension.type == kind:
                return dimension.volume
        return None


@dataclass(frozen=True)
class Reservation:
    """A reservation phase [start, end) before the session's charging periods.

    `expired`: the reservation ran out without a charging session (RESERVATION_EXPIRES).
    A timeline can instead carry reservation time as RESERVATION_TIME in its periods.
    """

    start: datetime
    end: datetime
    expired: bool = False


@dataclass(frozen=True)
class Timeline:
    """What happened in a session: its periods, when it ended, any reservation before it."""

    periods: tuple[ChargingPeriod, ...]
    end: datetime
    reservation: Reservation | None = None


@dataclass(frozen=True)
class Price:
    """A Price (types.asciidoc) the engine computed: incl_vat is always known."""

    excl_vat: Decimal
    incl_vat: Decimal

    def as_ocpi(self) -> dict[str, Decimal]:
        return {"excl_vat": self.excl_vat, "incl_vat": self.incl_vat}


class CostCategory(StrEnum):
    """Which CDR total a cost belongs to (mod_cdrs, CDR object)."""

    FIXED = "FIXED"  # total_fixed_cost: FLAT fees other than parking and reservation ones
    ENERGY = "ENERGY"  # total_energy_cost
    TIME = "TIME"  # total_time_cost: charging time
    PARKING = "PARKING"  # total_parking_cost, its FLAT fees included
    RESERVATION = "RESERVATION"  # total_reservation_cost, its FLAT fees included


@dataclass(frozen=True)
class CostLine:
    """What one price component billed, exactly (unrounded), step rounding included.

    `quantity` is in the component's unit: kWh for ENERGY, hours for TIME and PARKING_TIME
    (and for reservation time), 1 for FLAT.
    """

    category: CostCategory
    element: int  # index in Tariff.elements
    component: int  # index in that element's price_components
    type: TariffDimension
    unit_price: Decimal
    vat: Decimal | None
    quantity: Decimal
    cost: Price


@dataclass(frozen=True)
class SessionCost:
    """The priced session with the CDR's field names; totals rounded to 4 decimals."""

    currency: str
    total_cost: Price
    total_fixed_cost: Price
    total_energy: Decimal
    total_energy_cost: Price
    total_time: Decimal
    total_time_cost: Price
    total_parking_time: Decimal
    total_parking_cost: Price
    total_reservation_cost: Price
    # The session's periods split wherever another price component became active, with CDR
    # dimensions only (session-only ones dropped) and the tariff's id: ready for a CDR.
    charging_periods: tuple[ChargingPeriod, ...]
    lines: tuple[CostLine, ...]

    def totals(self) -> dict[str, object]:
        """The CDR's total_* fields, as OCPI JSON values (Decimals, Price objects)."""
        return {
            "total_cost": self.total_cost.as_ocpi(),
            "total_fixed_cost": self.total_fixed_cost.as_ocpi(),
            "total_energy": self.total_energy,
            "total_energy_cost": self.total_energy_cost.as_ocpi(),
            "total_time": self.total_time,
            "total_time_cost": self.total_time_cost.as_ocpi(),
            "total_parking_time": self.total_parking_time,
            "total_parking_cost": self.total_parking_cost.as_ocpi(),
            "total_reservation_cost": self.total_reservation_cost.as_ocpi(),
        }
