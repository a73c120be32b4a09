"""Our locations, EVSEs and connectors as three CSV files (ocpi.estate_csv): the columns
and the streamed export.

Only our own parties' objects are exported (never a partner's). Ids are the OCPI keys an
import matches rows by: country_code/party_id/location_id, the EVSE uid within its
location, the connector id within its EVSE. Common fields are flat columns; nested display
data (opening times, images, directions…) is one JSON column each, in the OCPI form.
"""

from collections.abc import Iterator
from typing import Any

from django.db.models import F, QuerySet

from credentials.selectors import local_parties
from locations.models import EVSE, Connector, Location
from locations.serializers import ConnectorSerializer, EVSESerializer, LocationSerializer
from ocpi.estate_csv import Column, column
from ocpi.routing import PartyRef

LOCATIONS, EVSES, CONNECTORS = "locations", "EVSEs", "connectors"
CHUNK = 2000  # rows read per query while streaming

LOCATION_KEYS = ("country_code", "party_id", "id")
EVSE_KEYS = ("country_code", "party_id", "location_id", "uid")
CONNECTOR_KEYS = ("country_code", "party_id", "location_id", "evse_uid", "id")

LOCATION_COLUMNS: tuple[Column, ...] = (
    *(column(name) for name in LOCATION_KEYS),
    column("roaming", "boolean"),  # operator-side flag, not OCPI: offered to partners
    column("publish", "boolean"),
    column("name"),
    column("address"),
    column("city"),
    column("postal_code"),
    column("state"),
    column("country"),
    column("latitude", path="coordinates.latitude"),
    column("longitude", path="coordinates.longitude"),
    column("time_zone"),
    column("parking_type"),
    column("facilities", "list"),
    column("charging_when_closed", "boolean"),
    column("operator_name", path="operator.name"),
    column("operator_website", path="operator.website"),
    column("opening_times", "json"),
    column("publish_allowed_to", "json"),
    column("related_locations", "json"),
    column("directions", "json"),
    column("suboperator", "json"),
    column("owner", "json"),
    column("images", "json"),
    column("energy_mix", "json"),
)
EVSE_COLUMNS: tuple[Column, ...] = (
    *(column(name) for name in EVSE_KEYS),
    column("evse_id"),
    column("status"),
    column("floor_level"),
    column("latitude", path="coordinates.latitude"),
    column("longitude", path="coordinates.longitude"),
    column("physical_reference"),
    column("capabilities", "list"),
    column("parking_restrictions", "list"),
    column("directions", "json"),
    column("images", "json"),
    column("status_schedule", "json"),
)
CONNECTOR_COLUMNS: tuple[Column, ...] = (
    *(column(name) for name in CONNECTOR_KEYS),
    column("standard"),
    column("format"),
    column("power_type"),
    column("max_voltage", "integer"),
    column("max_amperage", "integer"),
    column("max_electric_power", "integer"),
    column("tariff_ids", "list"),
    column("terms_and_conditions"),
)


def our_parties() -> set[PartyRef]:
    return {PartyRef.of(p.country_code, p.party_id) for p in local_parties()}


def our_locations() -> QuerySet[Location]:
    return Location.objects.for_parties(sorted(our_parties(), key=str))


def _without(serializer: Any, nested: str) -> Any:
    """One serializer for every row, its nested list left out (a file of its own)."""
    serializer.fields.pop(nested)
    return serializer


def location_rows(locations: QuerySet[Location]) -> Iterator[dict[str, Any]]:
    """Our `locations` rendered (without EVSEs) with their roaming flag, read in chunks."""
    serializer = _without(LocationSerializer(), "evses")
    chosen = locations.filter(pk__in=our_locations().values("pk")).order_by("pk")
    for location in chosen.iterator(chunk_size=CHUNK):
        yield {**serializer.to_representation(location), "roaming": location.roaming}


def _keys(prefix: str) -> dict[str, F]:
    """The owning location's key, read in the same row (no Location objects built)."""
    return {
        "key_country_code": F(f"{prefix}country_code"),
        "key_party_id": F(f"{prefix}party_id"),
        "key_location_id": F(f"{prefix}ocpi_id"),
    }


def _key_columns(obj: Any) -> dict[str, str]:
    return {
        "country_code": obj.key_country_code,
        "party_id": obj.key_party_id,
        "location_id": obj.key_location_id,
    }


def evse_rows(evses: QuerySet[EVSE]) -> Iterator[dict[str, Any]]:
    """Our `evses` rendered (without connectors) with their location's key."""
    serializer = _without(EVSESerializer(), "connectors")
    chosen = (
        EVSE.objects.filter(pk__in=evses.values("pk"), location__in=our_locations().values("pk"))
        .annotate(**_keys("location__"))
        .order_by("pk")
    )
    for evse in chosen.iterator(chunk_size=CHUNK):
        yield {**serializer.to_representation(evse), **_key_columns(evse)}


def connector_rows(evses: QuerySet[EVSE]) -> Iterator[dict[str, Any]]:
    """The connectors of our `evses`, rendered with their EVSE's and location's keys."""
    serializer = ConnectorSerializer()
    chosen = (
        Connector.objects.filter(
            evse__in=evses.values("pk"), evse__location__in=our_locations().values("pk")
        )
        .annotate(**_keys("evse__location__"), key_evse_uid=F("evse__uid"))
        .order_by("pk")
    )
    for connector in chosen.iterator(chunk_size=CHUNK):
        yield {
            **serializer.to_representation(connector),
            **_key_columns(connector),
            "evse_uid": connector.key_evse_uid,
        }
