"""The demo estate: Location payloads, each a function of (seed, index) only.

Location `index` is `DEMO-<index+1>` whatever the number asked for, and its content comes
from its own random stream, so seeding more locations later leaves the first ones as
they were, and the same seed always gives the same estate (mod_locations, Location).
"""

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from demo import price_list
from demo.hardware import Model
from demo.places import City, coordinates, nearby, pick_city
from demo.sites import IMAGES, Plan, plan

MAX_LOCATIONS = 99_999  # five digits in location and EVSE ids
STATUSES = {
    "AVAILABLE": 70,
    "CHARGING": 18,
    "OUTOFORDER": 4,
    "INOPERATIVE": 2,
    "BLOCKED": 2,
    "UNKNOWN": 2,
}
OPENING_DAY = "2027-03-01T07:00:00Z"  # when PLANNED EVSEs of sites under construction open

# Grid mixes by country, for locations that do not buy green energy (EnergyMix).
GRID_MIX: dict[str, dict[str, Any]] = {
    "NL": {"GAS": 45, "WIND": 30, "SOLAR": 14, "COAL": 8, "NUCLEAR": 3, "co2": 280},
    "DE": {
        "WIND": 33,
        "COAL": 22,
        "GAS": 14,
        "SOLAR": 14,
        "GENERAL_GREEN": 12,
        "GENERAL_FOSSIL": 5,
        "co2": 380,
    },
    "BE": {"NUCLEAR": 41, "GAS": 26, "WIND": 20, "SOLAR": 9, "GENERAL_FOSSIL": 4, "co2": 150},
    "FR": {"NUCLEAR": 68, "WATER": 11, "WIND": 9, "GAS": 7, "SOLAR": 5, "co2": 32},
}


def location_id(index: int) -> str:
    return f"DEMO-{index + 1:05d}"


def location(
    *,
    country_code: str,
    party_id: str,
    operator: Mapping[str, Any],
    seed: int,
    index: int,
    stamp: str,
) -> dict[str, Any]:
    """Location `index` of the estate as an OCPI payload (LocationSerializer input).

    `stamp` is the last_updated of everything new; an unchanged location keeps its own.
    """
    rng = random.Random(f"demo:{seed}:location:{index}")  # noqa: S311 (demo data, not secrets)
    city = pick_city(rng)
    site, address = plan(rng, city)
    point = coordinates(rng, city)
    ocpi_id = location_id(index)
    payload: dict[str, Any] = {
        "country_code": country_code,
        "party_id": party_id,
        "id": ocpi_id,
        "publish": not site.publish_allowed_to,
        "publish_allowed_to": site.publish_allowed_to,
        "name": site.name,
        "address": address,
        "city": city.name,
        "postal_code": city.postal_code(rng),
        "state": city.state,
        "country": city.country.alpha_3,
        "coordinates": point,
        "related_locations": _entrances(rng, site, point),
        "parking_type": site.parking_type,
        "directions": site.directions,
        "operator": dict(operator),
        "suboperator": site.suboperator,
        "owner": site.owner,
        "facilities": site.facilities,
        "time_zone": city.country.time_zone,
        "opening_times": site.opening_times,
        "charging_when_closed": site.charging_when_closed,
        "images": _location_images(ocpi_id, site),
        "energy_mix": _energy_mix(rng, city),
        "last_updated": stamp,
    }
    evse_prefix = f"{country_code}*{party_id}*E{index + 1:05d}".upper()
    payload["evses"] = [
        _evse(rng, site, city, point, ocpi_id, f"{evse_prefix}{number:02d}", number, model, stamp)
        for number, model in enumerate(site.models, start=1)
    ]
    return {key: value for key, value in payload.items() if value not in (None, [])}


def _evse(
    rng: random.Random,
    site: Plan,
    city: City,
    point: dict[str, str],
    ocpi_id: str,
    evse_id: str,
    number: int,
    model: Model,
    stamp: str,
) -> dict[str, Any]:
    reservable = rng.random() < site.reservable
    status = rng.choices(list(STATUSES), weights=list(STATUSES.values()))[0]
    if reservable and rng.random() < 0.1:
        status = "RESERVED"
    restrictions = list(site.restrictions)
    if number == 1 and site.floors:
        restrictions.append("DISABLED")  # the bay nearest the lift
    evse: dict[str, Any] = {
        "uid": f"{ocpi_id}-{number}-{model.code}",
        "evse_id": evse_id,
        "status": "PLANNED" if site.planned else status,
        "capabilities": [*model.capabilities, *(["RESERVABLE"] if reservable else [])],
        "connectors": [
            {
                "id": str(connector),
                "standard": plug.standard,
                "format": plug.format,
                "power_type": plug.power_type,
                "max_voltage": plug.max_voltage,
                "max_amperage": plug.max_amperage,
                "max_electric_power": plug.max_electric_power,
                "tariff_ids": _tariff_ids(site, city, model, plug.is_dc, reservable),
                "last_updated": stamp,
            }
            for connector, plug in enumerate(model.plugs, start=1)
        ],
        "physical_reference": _physical_reference(site, number),
        "parking_restrictions": restrictions,
        "images": [
            {
                "url": f"{IMAGES}/chargers/{model.image}",
                "category": "CHARGER",
                "type": "png",
                "width": 800,
                "height": 1200,
            }
        ],
        "last_updated": stamp,
    }
    if site.floors:
        evse["floor_level"] = site.floors[0]
    if len(site.models) > 2 and rng.random() < 0.5:
        evse["coordinates"] = nearby(rng, point)
    if site.planned:
        evse["status_schedule"] = [{"period_begin": OPENING_DAY, "status": "AVAILABLE"}]
    return evse


def _tariff_ids(site: Plan, city: City, model: Model, dc: bool, reservable: bool) -> list[str]:
    """One REGULAR (or typeless) tariff, plus at most one of each other type (Connector)."""
    kinds = [site.dc_tariff if dc else site.ac_tariff]
    if reservable and kinds == [site.ac_tariff] and site.ac_tariff != price_list.FREE:
        kinds = [price_list.AC_RESERVE]
    if site.green_tariff and not dc:
        kinds.append(price_list.AC_GREEN)
    if "CREDIT_CARD_PAYABLE" in model.capabilities:
        kinds.append(price_list.AD_HOC)
    return [price_list.tariff_id(city.country, kind) for kind in kinds]


def _physical_reference(site: Plan, number: int) -> str:
    if site.floors:
        return f"P{site.floors[0]}-{number:02d}"
    return str(number)


def _entrances(rng: random.Random, site: Plan, point: dict[str, str]) -> list[dict[str, Any]]:
    names = ("Car entrance", "Pedestrian entrance")[: site.entrances]
    return [{**nearby(rng, point), "name": {"language": "en", "text": name}} for name in names]


def _location_images(ocpi_id: str, site: Plan) -> list[dict[str, Any]]:
    base = f"{IMAGES}/locations/{ocpi_id.lower()}"
    images = [
        {
            "url": f"{base}/site.jpg",
            "thumbnail": f"{base}/site-thumb.jpg",
            "category": "LOCATION",
            "type": "jpeg",
            "width": 1600,
            "height": 1200,
        }
    ]
    if site.entrances:
        images.append(
            {"url": f"{base}/entrance.jpg", "category": "ENTRANCE", "type": "jpeg"},
        )
    return images


def _energy_mix(rng: random.Random, city: City) -> dict[str, Any] | None:
    """A green contract for some, the country's grid mix for others, unknown for the rest."""
    draw = rng.random()
    if draw < 0.4:
        return {
            "is_green_energy": True,
            "energy_sources": [{"source": "GENERAL_GREEN", "percentage": Decimal(100)}],
            "supplier_name": "Demo Groen Energie",
            "energy_product_name": "Green 100",
        }
    if draw < 0.7:
        grid = GRID_MIX[city.country.alpha_2]
        sources = {key: value for key, value in grid.items() if key.isupper()}
        impact = [{"category": "CARBON_DIOXIDE", "amount": Decimal(grid["co2"])}]
        if "NUCLEAR" in sources:
            impact.append({"category": "NUCLEAR_WASTE", "amount": Decimal("0.0019")})
        return {
            "is_green_energy": False,
            "energy_sources": [
                {"source": source, "percentage": Decimal(share)}
                for source, share in sources.items()
            ],
            "environ_impact": impact,
            "supplier_name": f"Demo Grid {city.country.alpha_2}",
        }
    return None
