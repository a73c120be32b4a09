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

from sessions.models import Session
from sessions.pricing import engine_periods, price, pricing_tariff, stored_periods
from tariffs.engine import (
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
        cost = price(session)
        assert cost is not None  # a tariff, periods and an end: price() prices
        return PricedSession(tariff, cost)
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
