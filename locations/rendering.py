"""Locations as partners receive them: JSON from the cache (ocpi.jsoncache), misses rendered
by LocationSerializer (mod_locations.asciidoc, Location object)."""

from collections.abc import Sequence
from functools import cache
from typing import Any

from locations import fields as location_fields
from locations import serializers as location_serializers
from locations.selectors import locations_by_pk
from locations.serializers import LocationSerializer
from ocpi import fields as ocpi_fields
from ocpi import json as ocpi_json
from ocpi import serializers as ocpi_serializers
from ocpi.jsoncache import cached_json, code_version
from ocpi.routing import PartyRef


@cache
def json_namespace() -> str:
    """Everything that shapes a Location's JSON: a deployment that changes any of it starts
    afresh. Computed on first use (reading the modules' source), not when views import."""
    return "locations:" + code_version(
        location_serializers, location_fields, ocpi_serializers, ocpi_fields, ocpi_json
    )


def location_version(location: Any) -> str:
    """A row's or a loaded location's version, read with it (locations.selectors)."""
    return str(location.version)


def render_locations(
    rows: Sequence[Any], parties: Sequence[PartyRef], *, keep: bool = False
) -> list[Any]:
    """The JSON of the locations of `rows` still visible to `parties` (a row read before a
    location left roaming renders as nothing). `keep`: also in this process's memory (a
    location asked for by itself)."""
    return cached_json(
        rows,
        namespace=json_namespace(),
        version=location_version,
        load=lambda pks: locations_by_pk(parties=parties, pks=pks),
        render=lambda locations: list(LocationSerializer(locations, many=True).data),
        keep=keep,
    )
