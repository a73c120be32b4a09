"""The demo tariffs: every kind of OCPI tariff, per country (mod_tariffs.asciidoc, Examples).

Each country gets the same kinds with its own VAT rate, so a connector always points at a
tariff priced for where it stands. Prices vary a little with the seed. Prices in
price_components exclude VAT (PriceComponent.price); min_price and max_price carry both.
"""

import random
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from demo.places import COUNTRIES, Country

CURRENCY = "EUR"
CENT = Decimal("0.01")
WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
WEEKEND = ["SATURDAY", "SUNDAY"]
TARIFF_PAGE = "https://www.example.com/demo/tariffs"

# Kinds of tariff; a connector refers to them through tariff_id(country, kind).
AC_STANDARD = "AC-STANDARD"
AC_ENERGY_TIME = "AC-ENERGY-TIME"
AC_WEEKEND = "AC-WEEKEND"
AC_IDLE = "AC-IDLE"
AC_RESERVE = "AC-RESERVE"
AC_GREEN = "AC-GREEN"
DC_PEAK = "DC-PEAK"
DC_FLEX = "DC-FLEX"
DC_HPC = "DC-HPC"
FREE = "FREE"
AD_HOC = "AD-HOC"


def tariff_id(country: Country, kind: str) -> str:
    return f"DEMO-{country.alpha_2}-{kind}"


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class _Prices:
    """Component builders of one country and seed: a base price nudged by up to ±10 %."""

    def __init__(self, rng: random.Random, country: Country) -> None:
        self.rng = rng
        self.vat = country.vat

    def _price(self, base: str) -> Decimal:
        return _money(Decimal(base) * Decimal(self.rng.randint(90, 110)) / 100)

    def energy(self, base: str) -> dict[str, Any]:
        """Per kWh, billed per Wh (step_size 1)."""
        return {"type": "ENERGY", "price": self._price(base), "vat": self.vat, "step_size": 1}

    def time(self, base: str, step: int = 60) -> dict[str, Any]:
        """Per hour charging, billed per `step` seconds."""
        return {"type": "TIME", "price": self._price(base), "vat": self.vat, "step_size": step}

    def parking(self, base: str, step: int = 300) -> dict[str, Any]:
        """Per hour connected without charging (after the battery is full)."""
        return {
            "type": "PARKING_TIME",
            "price": self._price(base),
            "vat": self.vat,
            "step_size": step,
        }

    def flat(self, base: str) -> dict[str, Any]:
        return {"type": "FLAT", "price": self._price(base), "vat": self.vat, "step_size": 1}

    def price(self, excl_vat: str) -> dict[str, Decimal]:
        excl = Decimal(excl_vat)
        return {"excl_vat": excl, "incl_vat": _money(excl * (100 + self.vat) / 100)}


def _text(country: Country, english: str, local: str) -> list[dict[str, str]]:
    texts = [{"language": "en", "text": english}]
    if country.language != "en":
        texts.append({"language": country.language, "text": local})
    return texts


Builder = Callable[[_Prices, Country], dict[str, Any]]


def _ac_standard(p: _Prices, c: Country) -> dict[str, Any]:
    return {
        "type": "REGULAR",
        "tariff_alt_text": _text(c, "Pay per kWh charged.", _LOCAL[c.language]["per_kwh"]),
        "elements": [{"price_components": [p.energy("0.35")]}],
    }


def _ac_energy_time(p: _Prices, c: Country) -> dict[str, Any]:
    return {
        "type": "REGULAR",
        "elements": [{"price_components": [p.energy("0.28"), p.time("0.60")]}],
    }


def _ac_weekend(p: _Prices, c: Country) -> dict[str, Any]:
    """Day of week: cheaper energy on Saturday and Sunday."""
    return {
        "type": "REGULAR",
        "elements": [
            {"price_components": [p.energy("0.39")], "restrictions": {"day_of_week": WEEKDAYS}},
            {"price_components": [p.energy("0.29")], "restrictions": {"day_of_week": WEEKEND}},
        ],
    }


def _ac_idle(p: _Prices, c: Country) -> dict[str, Any]:
    """A start fee, energy, and parking time once charging has stopped, in the daytime only
    (spec example "€ 0.25 per kWh + parking fee + start fee")."""
    return {
        "type": "REGULAR",
        "elements": [
            {"price_components": [p.flat("0.35"), p.energy("0.33")]},
            {
                "price_components": [p.parking("3.00", step=900)],
                "restrictions": {"start_time": "08:00", "end_time": "20:00"},
            },
        ],
    }


def _ac_reserve(p: _Prices, c: Country) -> dict[str, Any]:
    """Reservation time, a fee when the reservation expires unused, then charging
    (spec example "reservation price and expire fee"): FLAT and TIME only while reserved."""
    return {
        "type": "REGULAR",
        "elements": [
            {
                "price_components": [p.flat("4.00")],
                "restrictions": {"reservation": "RESERVATION_EXPIRES"},
            },
            {
                "price_components": [p.time("2.00", step=600)],
                "restrictions": {"reservation": "RESERVATION"},
            },
            {"price_components": [p.flat("0.50"), p.energy("0.35")]},
        ],
    }


def _ac_green(p: _Prices, c: Country) -> dict[str, Any]:
    return {
        "type": "PROFILE_GREEN",
        "tariff_alt_text": _text(c, "100 % renewable energy.", _LOCAL[c.language]["green"]),
        "elements": [{"price_components": [p.energy("0.42")]}],
        "energy_mix": {
            "is_green_energy": True,
            "energy_sources": [
                {"source": "WIND", "percentage": Decimal("65")},
                {"source": "SOLAR", "percentage": Decimal("35")},
            ],
            "supplier_name": "Demo Groen Energie",
            "energy_product_name": "Wind & Sun 100",
        },
    }


def _dc_peak(p: _Prices, c: Country) -> dict[str, Any]:
    """Time of day: peak 07:00-23:00, off-peak 23:00-07:00 (a period past midnight)."""
    return {
        "type": "REGULAR",
        "elements": [
            {
                "price_components": [p.energy("0.69")],
                "restrictions": {"start_time": "07:00", "end_time": "23:00"},
            },
            {
                "price_components": [p.energy("0.49")],
                "restrictions": {"start_time": "23:00", "end_time": "07:00"},
            },
        ],
    }


def _dc_flex(p: _Prices, c: Country) -> dict[str, Any]:
    """Cheaper up to 50 kW, with a minimum and a maximum price per session."""
    return {
        "type": "REGULAR",
        "min_price": p.price("2.00"),
        "max_price": p.price("60.00"),
        "elements": [
            {"price_components": [p.energy("0.49")], "restrictions": {"max_power": Decimal(50)}},
            {"price_components": [p.energy("0.62")]},
        ],
    }


def _dc_hpc(p: _Prices, c: Country) -> dict[str, Any]:
    """High power: energy, plus charging time after 45 minutes to keep the bays moving."""
    return {
        "type": "REGULAR",
        "elements": [
            {"price_components": [p.energy("0.79")], "restrictions": {"max_duration": 2700}},
            {"price_components": [p.energy("0.79"), p.time("6.00")]},
        ],
    }


def _free(p: _Prices, c: Country) -> dict[str, Any]:
    """Free of charge (spec example): one FLAT component of 0, no VAT, valid for all."""
    return {
        "tariff_alt_text": _text(c, "Free charging for guests.", _LOCAL[c.language]["free"]),
        "elements": [{"price_components": [{"type": "FLAT", "price": Decimal(0), "step_size": 0}]}],
    }


def _ad_hoc(p: _Prices, c: Country) -> dict[str, Any]:
    """Paying at the charger by card, without a contract."""
    return {
        "type": "AD_HOC_PAYMENT",
        "tariff_alt_url": f"{TARIFF_PAGE}/ad-hoc-{c.alpha_2.lower()}",
        "tariff_alt_text": _text(
            c, "Pay by debit or credit card at the charger.", _LOCAL[c.language]["ad_hoc"]
        ),
        "elements": [{"price_components": [p.flat("0.50"), p.energy("0.79")]}],
    }


_LOCAL = {
    "nl": {
        "per_kwh": "Betaal per geladen kWh.",
        "green": "100 % hernieuwbare energie.",
        "free": "Gratis laden voor gasten.",
        "ad_hoc": "Betaal met pinpas of creditcard bij de laadpaal.",
    },
    "de": {
        "per_kwh": "Bezahlen pro geladener kWh.",
        "green": "100 % erneuerbare Energie.",
        "free": "Kostenloses Laden für Gäste.",
        "ad_hoc": "Bezahlen mit Debit- oder Kreditkarte an der Ladesäule.",
    },
    "fr": {
        "per_kwh": "Payez par kWh chargé.",
        "green": "Énergie 100 % renouvelable.",
        "free": "Recharge gratuite pour les clients.",
        "ad_hoc": "Payez par carte bancaire à la borne.",
    },
}

KINDS: dict[str, Builder] = {
    AC_STANDARD: _ac_standard,
    AC_ENERGY_TIME: _ac_energy_time,
    AC_WEEKEND: _ac_weekend,
    AC_IDLE: _ac_idle,
    AC_RESERVE: _ac_reserve,
    AC_GREEN: _ac_green,
    DC_PEAK: _dc_peak,
    DC_FLEX: _dc_flex,
    DC_HPC: _dc_hpc,
    FREE: _free,
    AD_HOC: _ad_hoc,
}


def tariffs(*, country_code: str, party_id: str, seed: int, stamp: str) -> list[dict[str, Any]]:
    """Every demo Tariff of the party as OCPI payloads (TariffSerializer input), in id order.

    `stamp` fills the required last_updated; the tariff services set their own.
    """
    payloads = []
    for country in COUNTRIES:
        for kind, build in KINDS.items():
            rng = random.Random(f"demo:{seed}:tariff:{country.alpha_2}:{kind}")  # noqa: S311 (demo data)
            payloads.append(
                {
                    "country_code": country_code,
                    "party_id": party_id,
                    "id": tariff_id(country, kind),
                    "currency": CURRENCY,
                    **build(_Prices(rng, country), country),
                    "last_updated": stamp,
                }
            )
    return payloads
