"""The tariff engine: what a session costs under a tariff (mod_tariffs; mod_cdrs; checklist §5).

Pure: it imports neither the database nor any app's models (an import-linter contract in
pyproject.toml holds it to that), so a session's running total_cost, its CDR, `price_cdr` and
anyone recomputing a CDR use the very same code. Decimal throughout, never a float.

    tariff = tariff_from_ocpi(tariff_json)          # or built from rows
    timeline = timeline_from_ocpi(cdr_or_session)   # or Timeline(periods, end, reservation)
    cost = price_session(tariff, timeline, ZoneInfo(location.time_zone))
    cost.total_cost, cost.totals(), cost.charging_periods, cost.lines

Where the rules live: timeline.py (how periods become charging, parking and reservation time),
cuts.py and segments.py (restrictions evaluated continuously, element chosen per dimension and
per instant), restrictions.py (each restriction's boundaries, local time and DST), pricing.py
(step_size, FLAT, VAT, min/max price and the decisions OCPI leaves open), rounding.py (the
money rounding rule: exact inside, each CDR total rounded once to 4 decimals, half up),
periods.py (charging periods split at every price-component change, for the CDR).
"""

from tariffs.engine.model import (
    SESSION_ONLY_DIMENSIONS,
    CdrDimension,
    ChargingPeriod,
    CostCategory,
    CostLine,
    Dimension,
    Price,
    PriceComponent,
    PriceLimit,
    Reservation,
    ReservationRestriction,
    Restrictions,
    SessionCost,
    Tariff,
    TariffDimension,
    TariffElement,
    TariffError,
    Timeline,
    TimelineError,
)
from tariffs.engine.parse import tariff_from_ocpi, timeline_from_ocpi
from tariffs.engine.pricing import price_session

__all__ = [
    "SESSION_ONLY_DIMENSIONS",
    "CdrDimension",
    "ChargingPeriod",
    "CostCategory",
    "CostLine",
    "Dimension",
    "Price",
    "PriceComponent",
    "PriceLimit",
    "Reservation",
    "ReservationRestriction",
    "Restrictions",
    "SessionCost",
    "Tariff",
    "TariffDimension",
    "TariffElement",
    "TariffError",
    "Timeline",
    "TimelineError",
    "price_session",
    "tariff_from_ocpi",
    "timeline_from_ocpi",
]
