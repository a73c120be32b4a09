"""A tariff's prices in one line: "0.25 EUR/kWh + 0.50 EUR/session, parking 2.00 EUR/h after 2 h".

One function for every screen that names a tariff (the tariff list, the tariff picker on a
connector), read from the engine's Tariff so that it states what the engine bills: elements in
their first-match order separated by ", ", an element's components joined by " + ", each
element's restrictions after its prices, then the tariff's min/max price. Prices are per unit
and excluding VAT (PriceComponent.price); a step size other than 1 Wh or 1 s is named ("per
15 min"), since it changes what a session costs.
"""

from collections.abc import Iterator
from datetime import time
from decimal import Decimal

from tariffs.durations import readable_duration
from tariffs.engine import (
    PriceComponent,
    PriceLimit,
    ReservationRestriction,
    Restrictions,
    Tariff,
    TariffDimension,
    TariffElement,
)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CENT = Decimal("0.01")


def money(amount: Decimal) -> str:
    """At least two decimals, at most the four an OCPI number has: 0.5 → "0.50", 0.2375."""
    return str(amount.quantize(_CENT) if amount == amount.quantize(_CENT) else amount.normalize())


def price_summary(tariff: Tariff) -> str:
    """The one-line summary (see the module's docstring); "free of charge" if nothing costs."""
    if all(c.price == 0 for e in tariff.elements for c in e.price_components) and not (
        tariff.min_price and tariff.min_price.excl_vat > 0
    ):
        return "free of charge"
    parts = [text for element in tariff.elements if (text := _element(element, tariff.currency))]
    limits = [
        f"{word} {money(limit.excl_vat)} {tariff.currency}"
        for word, limit in (("min", tariff.min_price), ("max", tariff.max_price))
        if isinstance(limit, PriceLimit)
    ]
    return ", ".join(parts) + (f" ({', '.join(limits)})" if limits else "")


def _element(element: TariffElement, currency: str) -> str:
    reserved = element.restrictions.reservation is not None
    prices = " + ".join(
        _component(component, currency, reserved)
        for component in element.price_components
        if not (component.type == TariffDimension.FLAT and component.price == 0)
    )
    if not prices:
        return ""
    conditions = " ".join(_restrictions(element.restrictions))
    return f"{prices} {conditions}" if conditions else prices


def _component(component: PriceComponent, currency: str, reserved: bool) -> str:
    """A reservation element's TIME prices reservation time and its FLAT is a reservation fee
    (a reservation element may only have these two: TariffRestrictions.reservation)."""
    kind = component.type
    if kind == TariffDimension.FLAT:
        return f"{money(component.price)} {currency}/{'reservation' if reserved else 'session'}"
    label = {
        TariffDimension.ENERGY: "",
        TariffDimension.TIME: "reservation " if reserved else "charging ",
        TariffDimension.PARKING_TIME: "parking ",
    }[kind]
    if component.price == 0:
        return f"{label or 'energy '}free"
    unit = "kWh" if kind == TariffDimension.ENERGY else "h"
    step = ""
    if kind == TariffDimension.ENERGY and component.step_size > 1:
        step = f" per {money(Decimal(component.step_size) / 1000).rstrip('0').rstrip('.')} kWh"
    elif kind != TariffDimension.ENERGY and component.step_size > 1:
        step = f" per {readable_duration(component.step_size)}"
    return f"{label}{money(component.price)} {currency}/{unit}{step}"


def _restrictions(r: Restrictions) -> Iterator[str]:
    if r.reservation == ReservationRestriction.RESERVATION_EXPIRES:
        yield "if it expires"
    if r.day_of_week:
        yield _days(r.day_of_week)
    if r.start_time is not None and r.end_time is not None:
        yield f"{_clock(r.start_time)}–{_clock(r.end_time)}"
    elif r.start_time is not None:
        yield f"from {_clock(r.start_time)}"
    elif r.end_time is not None:
        yield f"until {_clock(r.end_time)}"
    if r.start_date is not None:
        yield f"from {r.start_date.isoformat()}"
    if r.end_date is not None:
        yield f"before {r.end_date.isoformat()}"
    yield from _range(r.min_kwh, r.max_kwh, "kWh")
    yield from _range(r.min_power, r.max_power, "kW")
    yield from _range(r.min_current, r.max_current, "A")
    if r.min_duration:
        yield f"after {readable_duration(r.min_duration)}"
    if r.max_duration is not None:
        yield f"for the first {readable_duration(r.max_duration)}"


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def _range(low: Decimal | None, high: Decimal | None, unit: str) -> Iterator[str]:
    if low is not None and high is not None:
        yield f"{low.normalize():f}–{high.normalize():f} {unit}"
    elif low is not None:
        yield f"from {low.normalize():f} {unit}"
    elif high is not None:
        yield f"below {high.normalize():f} {unit}"


def _days(days: frozenset[int]) -> str:
    """Weekday numbers as "Mon–Fri", "Sat, Sun" or "Mon–Wed, Fri"."""
    ordered = sorted(days)
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        f"{_DAYS[run[0]]}–{_DAYS[run[-1]]}" if len(run) > 2 else ", ".join(_DAYS[d] for d in run)
        for run in runs
    )
