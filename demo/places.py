"""The countries and cities of the demo estate: real streets, postal codes and coordinates.

Coordinates are drawn within a box around each city centre (WGS 84), so every location
lands in the city it names. Addresses follow local custom: the house number after the
street in NL, DE and BE, before it in FR.
"""

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Country:
    alpha_2: str
    alpha_3: str  # ISO 3166-1 alpha-3, as Location.country wants it
    time_zone: str  # IANA
    language: str  # ISO 639-1, for DisplayText
    vat: Decimal  # standard VAT rate on charging, percent


NL = Country("NL", "NLD", "Europe/Amsterdam", "nl", Decimal("21"))
DE = Country("DE", "DEU", "Europe/Berlin", "de", Decimal("19"))
BE = Country("BE", "BEL", "Europe/Brussels", "fr", Decimal("21"))
FR = Country("FR", "FRA", "Europe/Paris", "fr", Decimal("20"))
COUNTRIES = (NL, DE, BE, FR)


@dataclass(frozen=True)
class City:
    name: str
    country: Country
    state: str
    latitude: float  # centre
    longitude: float
    spread: tuple[float, float]  # half the box's height and width, degrees
    weight: int  # how many of the estate's locations it gets, relatively
    streets: tuple[str, ...]
    postal_code: Callable[[random.Random], str]
    number_first: bool = False  # "12 Rue de Rivoli"

    def address(self, rng: random.Random, street: str) -> str:
        number = str(rng.randint(1, 240))
        if rng.random() < 0.15:
            number += rng.choice("ABC") if self.country is NL else rng.choice("ab")
        return f"{number} {street}" if self.number_first else f"{street} {number}"


def _dutch(low: int, high: int) -> Callable[[random.Random], str]:
    """1234 AB: four digits and two letters (never SA, SD or SS)."""

    def draw(rng: random.Random) -> str:
        letters = "SS"
        while letters in ("SA", "SD", "SS"):
            letters = "".join(rng.choices(string.ascii_uppercase, k=2))
        return f"{rng.randint(low, high)} {letters}"

    return draw


def _digits(*ranges: tuple[int, int]) -> Callable[[random.Random], str]:
    """Five digits from one of the city's delivery ranges (PO box ranges left out)."""
    return lambda rng: f"{rng.randint(*rng.choice(ranges)):05d}"


def _one_of(*codes: int) -> Callable[[random.Random], str]:
    return lambda rng: str(rng.choice(codes))


CITIES = (
    City(
        "Amsterdam",
        NL,
        "Noord-Holland",
        52.3676,
        4.9041,
        (0.035, 0.07),
        25,
        (
            "Prinsengracht",
            "Keizersgracht",
            "Herengracht",
            "Overtoom",
            "Damrak",
            "Rokin",
            "Vijzelstraat",
            "Wibautstraat",
            "Ferdinand Bolstraat",
            "Van Baerlestraat",
            "Javastraat",
            "Stadhouderskade",
            "Nassaukade",
            "Amstelveenseweg",
        ),
        _dutch(1011, 1109),
    ),
    City(
        "Utrecht",
        NL,
        "Utrecht",
        52.0907,
        5.1214,
        (0.03, 0.05),
        10,
        (
            "Oudegracht",
            "Biltstraat",
            "Amsterdamsestraatweg",
            "Vredenburg",
            "Catharijnesingel",
            "Maliesingel",
            "Nachtegaalstraat",
            "Kanaalstraat",
            "Croeselaan",
            "Weerdsingel",
        ),
        _dutch(3511, 3585),
    ),
    City(
        "Berlin",
        DE,
        "Berlin",
        52.5200,
        13.4050,
        (0.07, 0.14),
        20,
        (
            "Friedrichstraße",
            "Karl-Marx-Allee",
            "Kurfürstendamm",
            "Torstraße",
            "Schönhauser Allee",
            "Invalidenstraße",
            "Potsdamer Straße",
            "Sonnenallee",
            "Frankfurter Allee",
            "Kantstraße",
            "Hermannstraße",
            "Oranienstraße",
        ),
        _digits((10115, 10999), (12043, 12689), (13051, 13629), (14050, 14199)),
    ),
    City(
        "München",
        DE,
        "Bayern",
        48.1372,
        11.5755,
        (0.045, 0.08),
        15,
        (
            "Leopoldstraße",
            "Maximilianstraße",
            "Sendlinger Straße",
            "Landsberger Straße",
            "Rosenheimer Straße",
            "Schleißheimer Straße",
            "Dachauer Straße",
            "Lindwurmstraße",
            "Ungererstraße",
            "Prinzregentenstraße",
        ),
        _digits((80331, 81929)),
    ),
    City(
        "Bruxelles",
        BE,
        "Région de Bruxelles-Capitale",
        50.8467,
        4.3525,
        (0.03, 0.05),
        12,
        (
            "Rue de la Loi",
            "Avenue Louise",
            "Boulevard Anspach",
            "Rue Neuve",
            "Chaussée d'Ixelles",
            "Avenue de Tervueren",
            "Rue Belliard",
            "Chaussée de Waterloo",
            "Boulevard du Jardin Botanique",
            "Avenue de la Toison d'Or",
        ),
        _one_of(1000, 1020, 1030, 1040, 1050, 1060, 1070, 1080, 1090, 1180, 1190, 1200, 1210),
    ),
    City(
        "Paris",
        FR,
        "Île-de-France",
        48.8566,
        2.3522,
        (0.035, 0.07),
        18,
        (
            "Rue de Rivoli",
            "Boulevard Haussmann",
            "Avenue des Champs-Élysées",
            "Rue de la Roquette",
            "Boulevard Saint-Germain",
            "Rue de Vaugirard",
            "Avenue de la République",
            "Rue Oberkampf",
            "Boulevard Voltaire",
            "Rue du Faubourg Saint-Antoine",
        ),
        lambda rng: f"750{rng.randint(1, 20):02d}",
        number_first=True,
    ),
)


def pick_city(rng: random.Random) -> City:
    return rng.choices(CITIES, weights=[city.weight for city in CITIES])[0]


def coordinates(rng: random.Random, city: City) -> dict[str, str]:
    """A point within the city's box, written with 5 to 7 decimals (GeoLocation)."""
    places = rng.choice((5, 6, 6, 7))
    latitude = city.latitude + rng.uniform(-city.spread[0], city.spread[0])
    longitude = city.longitude + rng.uniform(-city.spread[1], city.spread[1])
    return {"latitude": f"{latitude:.{places}f}", "longitude": f"{longitude:.{places}f}"}


def nearby(rng: random.Random, point: dict[str, str]) -> dict[str, str]:
    """A point a few metres from `point` (an EVSE or an entrance of its location)."""
    latitude = float(point["latitude"]) + rng.uniform(-0.0003, 0.0003)
    longitude = float(point["longitude"]) + rng.uniform(-0.0004, 0.0004)
    return {"latitude": f"{latitude:.6f}", "longitude": f"{longitude:.6f}"}
