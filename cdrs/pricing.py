"""What a completed session costs as its CDR states it: the session's own price, by construction.

sessions.pricing.price() priced the session while it ran and set its final total_cost; the CDR
takes the very same call, so the two totals cannot differ. Two sessions it cannot price still
get a CDR, which always has a total_cost and at least one charging period:

- no tariff applies (session.tariff_id empty: the connector has none): the periods are laid
  out by the engine under a tariff that prices nothing, and the CDR costs 0 with no tariff and
  periods without tariff_id ("If not provided, no Tariff is relevant during this period");
- no charging period was ever recorded: all that is known is the session's kwh over its
  time, so that is its one period.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from cdrs.models import PRICE_FIELDS
from ocpi.time import format_datetime
from sessions.models import Session
from sessions.pricing import engine_periods, price, pricing_tariff, stored_periods
from sessions.serializers import plain
from tariffs.engine import (
    CostLine,
    PriceComponent,
    SessionCost,
    Tariff,
    TariffDimension,
    TariffElement,
    Timeline,
    price_session,
    tariff_from_ocpi,
)


@dataclass(frozen=True)
class PricedSession:
    tariff: dict[str, Any] | None  # the Tariff object that priced it; None: no tariff applied
    cost: SessionCost


def _free(currency: str) -> Tariff:
    """Prices nothing, but lays the periods out like any tariff."""
    free = PriceComponent(type=TariffDimension.FLAT, price=Decimal(0), vat=None, step_size=0)
    return Tariff(id="-", currency=currency, elements=(TariffElement(price_components=(free,)),))


def price_for_cdr(session: Session) -> PricedSession:
    """The ended session priced for its CDR (see the module's docstring)."""
    assert session.end_date_time is not None
    tariff = pricing_tariff(session)
    periods = stored_periods(session)
    if tariff is not None and periods:
        cost = price(session, periods=periods)
        assert cost is not None  # a tariff, periods and an end: price() prices
        return PricedSession(tariff, cost)
    return price_under(session, tariff, periods)


def price_under(
    session: Session,
    tariff: dict[str, Any] | None,
    periods: list[dict[str, Any]] | None = None,
) -> PricedSession:
    """The ended session priced under `tariff` (None: free of charge) from its periods.

    `periods` defaults to the stored ones; a corrected CDR (cdrs.services.cdr_correct) reprices
    them under the tariff the operator chose. Raise tariffs.engine.TariffError for a tariff the
    engine cannot read.
    """
    assert session.end_date_time is not None
    if periods is None:
        periods = stored_periods(session)
    if not periods:
        periods = [
            {
                "start_date_time": session.start_date_time,
                "dimensions": [{"type": "ENERGY", "volume": session.kwh}],
            }
        ]
    timeline = Timeline(periods=engine_periods(periods), end=session.end_date_time)
    engine_tariff = _free(session.currency) if tariff is None else tariff_from_ocpi(tariff)
    return PricedSession(
        tariff, price_session(engine_tariff, timeline, ZoneInfo(session.time_zone))
    )


def priced_fields(priced: PricedSession) -> dict[str, Any]:
    """The Cdr fields pricing decides: tariffs, charging periods, cost lines and totals.

    Periods are the engine's, split where a price component changes; without a tariff they
    carry no tariff_id ("If not provided, no Tariff is relevant during this period").
    """
    cost = priced.cost
    fields: dict[str, Any] = {
        "tariffs": [] if priced.tariff is None else [priced.tariff],
        "charging_periods": [
            {
                "start_date_time": format_datetime(period.start_date_time),
                "dimensions": [
                    {"type": dimension.type.value, "volume": plain(Decimal(dimension.volume))}
                    for dimension in period.dimensions
                ],
                **({"tariff_id": period.tariff_id} if priced.tariff is not None else {}),
            }
            for period in cost.charging_periods
        ],
        "cost_lines": [] if priced.tariff is None else [_cost_line(line) for line in cost.lines],
        "total_energy": cost.total_energy,
        "total_time": cost.total_time,
        "total_parking_time": cost.total_parking_time,
    }
    for name in PRICE_FIELDS:
        total = getattr(cost, name)
        fields[f"{name}_excl_vat"] = total.excl_vat
        fields[f"{name}_incl_vat"] = total.incl_vat
    return fields


def _cost_line(line: CostLine) -> dict[str, Any]:
    return {
        "category": line.category.value,
        "element": line.element,
        "component": line.component,
        "type": line.type.value,
        "unit_price": line.unit_price,
        "vat": line.vat,
        "quantity": line.quantity,
        "excl_vat": line.cost.excl_vat,
        "incl_vat": line.cost.incl_vat,
    }
