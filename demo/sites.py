"""Kinds of charging site: what each kind of location looks like and how it is priced.

A kind decides the parking, the charger models, the opening hours, the facilities, the
parking restrictions and the tariffs; demo/estate.py turns a plan into a Location.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from django.utils.text import slugify

from demo import hardware
from demo import price_list as kinds
from demo.hardware import Model
from demo.places import DE, NL, City
from ocpi.time import format_datetime

# Every demo city keeps Central European Time (UTC+1) in winter, and every exceptional
# period below falls in winter, so no time zone database is needed to write them in UTC.
CET = timezone(timedelta(hours=1))
IMAGES = "https://images.example.com/demo"

WORDS = {
    "nl": {
        "garage": "Parkeergarage",
        "hub": "Snellaadplein",
        "shop": "Supermarkt",
        "depot": "Wagenparkdepot",
        "level": "Laadpunten op niveau {level}, volg de groene borden.",
        "legal": "B.V.",
    },
    "de": {
        "garage": "Parkhaus",
        "hub": "Schnellladepark",
        "shop": "Supermarkt",
        "depot": "Flottendepot",
        "level": "Ladepunkte auf Ebene {level}, folgen Sie den grünen Schildern.",
        "legal": "GmbH",
    },
    "fr": {
        "garage": "Parking",
        "hub": "Station de recharge rapide",
        "shop": "Supermarché",
        "depot": "Dépôt de flotte",
        "level": "Bornes au niveau {level}, suivez les panneaux verts.",
        "legal": "SAS",
    },
}
HOTELS = ("Aurora", "Belvédère", "Continental", "Metropole", "Panorama", "Terminus", "Central")


def _period(begin: datetime, end: datetime) -> dict[str, str]:
    return {
        "period_begin": format_datetime(begin.astimezone(UTC)),
        "period_end": format_datetime(end.astimezone(UTC)),
    }


CHRISTMAS = _period(datetime(2026, 12, 25, tzinfo=CET), datetime(2026, 12, 27, tzinfo=CET))
NEW_YEAR = _period(datetime(2027, 1, 1, tzinfo=CET), datetime(2027, 1, 2, tzinfo=CET))
# A shopping Sunday: open in the afternoon although Sundays are otherwise closed (DE).
SHOPPING_SUNDAY = _period(
    datetime(2026, 12, 6, 13, tzinfo=CET), datetime(2026, 12, 6, 18, tzinfo=CET)
)


def _maintenance(rng: random.Random) -> dict[str, str]:
    """A night in February when the site is closed for maintenance."""
    start = datetime(2027, 2, rng.randint(1, 26), 1, tzinfo=CET)
    return _period(start, start + timedelta(hours=4))


def _hours(*days: tuple[range, str, str]) -> list[dict[str, Any]]:
    return [
        {"weekday": weekday, "period_begin": begin, "period_end": end}
        for weekdays, begin, end in days
        for weekday in weekdays
    ]


MON_SAT, SUNDAY = range(1, 7), range(7, 8)


@dataclass
class Plan:
    name: str
    parking_type: str
    models: list[Model]
    opening_times: dict[str, Any]
    facilities: list[str]
    restrictions: list[str]
    ac_tariff: str
    dc_tariff: str = kinds.DC_PEAK
    green_tariff: bool = False  # AC connectors also offer the PROFILE_GREEN tariff
    reservable: float = 0.0  # share of EVSEs that take reservations
    floors: tuple[str, ...] = ()
    charging_when_closed: bool | None = None
    owner: dict[str, Any] | None = None
    suboperator: dict[str, Any] | None = None
    directions: list[dict[str, str]] = field(default_factory=list)
    entrances: int = 0  # related_locations
    publish_allowed_to: list[dict[str, str]] = field(default_factory=list)
    planned: bool = False  # under construction: EVSEs PLANNED, opening on a scheduled date


def _business(name: str, kind: str) -> dict[str, Any]:
    # ASCII for URLs: "Parkhaus Kantstraße GmbH" → parkhaus-kantstrasse-gmbh
    slug = slugify(name.replace("ß", "ss"))
    return {
        "name": name,
        "website": f"https://www.example.com/demo/{kind}/{slug}",
        "logo": {
            "url": f"{IMAGES}/logos/{slug}.png",
            "category": "OWNER" if kind == "owners" else "OPERATOR",
            "type": "png",
            "width": 512,
            "height": 512,
        },
    }


def _some(rng: random.Random, choices: tuple[str, ...], low: int, high: int) -> list[str]:
    return rng.sample(choices, rng.randint(low, high))


def street(rng: random.Random, city: City, road: str) -> Plan:
    return Plan(
        name=f"{city.name} {road}",
        parking_type="ON_STREET",
        models=[rng.choice((hardware.AC11, hardware.AC22))] * rng.randint(1, 2),
        opening_times={"twentyfourseven": True},
        facilities=_some(rng, ("BUS_STOP", "TRAM_STOP", "BIKE_SHARING", "CAFE"), 0, 2),
        restrictions=rng.choice((["EV_ONLY"], ["EV_ONLY", "PLUGGED"])),
        ac_tariff=rng.choice((kinds.AC_STANDARD, kinds.AC_ENERGY_TIME, kinds.AC_IDLE)),
    )


def garage(rng: random.Random, city: City, road: str) -> Plan:
    words = WORDS[city.country.language]
    level = rng.choice(("-1", "-2", "1"))
    name = f"{words['garage']} {road}"
    return Plan(
        name=name,
        parking_type=rng.choice(("PARKING_GARAGE", "UNDERGROUND_GARAGE")),
        models=[hardware.AC22] * rng.randint(3, 8) + [hardware.AC22_CABLE],
        opening_times={
            "twentyfourseven": False,
            "regular_hours": _hours((MON_SAT, "07:00", "23:00"), (SUNDAY, "09:00", "21:00")),
            "exceptional_closings": [CHRISTMAS],
        },
        facilities=_some(rng, ("MALL", "MUSEUM", "RESTAURANT", "METRO_STATION"), 1, 2),
        restrictions=["EV_ONLY"],
        ac_tariff=rng.choice((kinds.AC_WEEKEND, kinds.AC_IDLE)),
        reservable=0.3,
        floors=(level,),
        charging_when_closed=True,
        owner=_business(f"{name} {words['legal']}", "owners"),
        directions=[
            {"language": "en", "text": f"Chargers on level {level}, follow the green signs."},
            {"language": city.country.language, "text": words["level"].format(level=level)},
        ],
        entrances=2,
    )


def _shop_hours(city: City) -> dict[str, Any]:
    if city.country is DE:  # shops close on Sundays, bar the odd shopping Sunday
        return {
            "twentyfourseven": False,
            "regular_hours": _hours((MON_SAT, "07:00", "22:00")),
            "exceptional_openings": [SHOPPING_SUNDAY],
            "exceptional_closings": [CHRISTMAS, NEW_YEAR],
        }
    sunday = ("10:00", "20:00") if city.country is NL else ("09:00", "13:00")
    return {
        "twentyfourseven": False,
        "regular_hours": _hours((MON_SAT, "08:00", "21:30"), (SUNDAY, *sunday)),
        "exceptional_closings": [CHRISTMAS, NEW_YEAR],
    }


def supermarket(rng: random.Random, city: City, road: str) -> Plan:
    words = WORDS[city.country.language]
    name = f"{words['shop']} {road}"
    return Plan(
        name=name,
        parking_type="PARKING_LOT",
        models=[hardware.AC22] * rng.randint(2, 4) + [hardware.DC50] * rng.randint(0, 1),
        opening_times=_shop_hours(city),
        facilities=["SUPERMARKET", *_some(rng, ("CAFE", "PARKING_LOT"), 0, 1)],
        restrictions=["CUSTOMERS", "EV_ONLY"],
        ac_tariff=kinds.AC_STANDARD,
        dc_tariff=kinds.DC_FLEX,
        green_tariff=True,
        charging_when_closed=False,
        owner=_business(f"{name} {words['legal']}", "owners"),
    )


def hub(rng: random.Random, city: City, road: str) -> Plan:
    words = WORDS[city.country.language]
    fast = rng.choice((hardware.DC150, hardware.DC300))
    # High-power chargers have their own price; 150 kW ones are priced by time of day or power.
    dc_tariff = (
        kinds.DC_HPC if fast is hardware.DC300 else rng.choice((kinds.DC_PEAK, kinds.DC_FLEX))
    )
    opening: dict[str, Any] = {"twentyfourseven": True}
    if rng.random() < 0.3:
        opening["exceptional_closings"] = [_maintenance(rng)]
    return Plan(
        name=f"{words['hub']} {city.name} {road}",
        parking_type="PARKING_LOT",
        models=[fast] * rng.randint(2, 6) + [hardware.DC50] * rng.randint(0, 2),
        opening_times=opening,
        facilities=_some(rng, ("FUEL_STATION", "CAFE", "RESTAURANT", "WIFI"), 1, 3),
        restrictions=["EV_ONLY", "PLUGGED"],
        ac_tariff=kinds.AC_STANDARD,
        dc_tariff=dc_tariff,
        suboperator=(
            _business("Demo Fast Charging Services", "operators") if rng.random() < 0.5 else None
        ),
        planned=rng.random() < 0.2,
    )


def hotel(rng: random.Random, city: City, road: str) -> Plan:
    name = f"Hotel {rng.choice(HOTELS)} {city.name}"
    return Plan(
        name=name,
        parking_type="PARKING_LOT",
        models=[hardware.AC7_SCHUKO] * rng.randint(1, 3),
        opening_times={"twentyfourseven": True},
        facilities=["HOTEL", *_some(rng, ("RESTAURANT", "WIFI"), 1, 2)],
        restrictions=["CUSTOMERS"],
        ac_tariff=kinds.FREE,
        owner=_business(name, "owners"),
    )


def depot(rng: random.Random, city: City, road: str) -> Plan:
    """A fleet depot: not published; shown only to the fleet's drivers (publish_allowed_to)."""
    words = WORDS[city.country.language]
    return Plan(
        name=f"{words['depot']} {city.name}",
        parking_type="PARKING_LOT",
        models=[hardware.AC22_CABLE] * rng.randint(4, 6),
        opening_times={"twentyfourseven": True},
        facilities=[],
        restrictions=["EV_ONLY"],
        ac_tariff=kinds.AC_STANDARD,
        publish_allowed_to=[
            {"group_id": f"DEMO-FLEET-{city.country.alpha_2}"},
            {"visual_number": "DEMO-FLEET-CARD", "issuer": "Demo Fleet Services"},
        ],
    )


Builder = Callable[[random.Random, City, str], Plan]
KINDS: tuple[tuple[Builder, int], ...] = (
    (street, 35),
    (garage, 18),
    (supermarket, 15),
    (hub, 17),
    (hotel, 10),
    (depot, 5),
)


def plan(rng: random.Random, city: City) -> tuple[Plan, str]:
    """A site in `city` and its address."""
    road = rng.choice(city.streets)
    build = rng.choices([kind for kind, _ in KINDS], weights=[w for _, w in KINDS])[0]
    return build(rng, city, road), city.address(rng, road)
