"""Reads of locations for the Sender interface and the services that render pushes.

Always scoped to our parties and to roaming locations (an operator-side flag: private or
home chargers are never offered), always prefetched so rendering a page costs the same
few queries whatever the number of locations, EVSEs and connectors on it.
"""

from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, Prefetch, QuerySet, TextField
from django.db.models.expressions import RawSQL

from locations.models import EVSE, Connector, Location, LocationQuerySet, Status
from ocpi import sql
from ocpi.compiled import CompiledQuery
from ocpi.routing import PartyRef


def connectors_prefetch() -> Prefetch:  # type: ignore[type-arg]
    return Prefetch("connectors", queryset=Connector.objects.order_by("pk"))


def evses_prefetch() -> Prefetch:  # type: ignore[type-arg]
    return Prefetch(
        "evses", queryset=EVSE.objects.order_by("pk").prefetch_related(connectors_prefetch())
    )


def with_evses(queryset: LocationQuerySet) -> LocationQuerySet:
    """Locations with their EVSEs and connectors in creation order: three queries in all."""
    return queryset.prefetch_related(evses_prefetch())


def location_list(*, parties: Sequence[PartyRef]) -> LocationQuerySet:
    """The Sender list of our `parties`: what a partner may see (LocationQuerySet.visible_to),
    oldest first (the pager's order).

    A location whose EVSEs are all REMOVED is still listed: it changed, and a full pull is
    the partner's new truth, so leaving it out would hide the removal (mod_locations, Flow).
    """
    return with_evses(Location.objects.visible_to(parties).order_by("pk"))


def evse_get(*, parties: Sequence[PartyRef], location_id: str, evse_uid: str) -> EVSE | None:
    return (
        EVSE.objects.filter(
            uid__ci=evse_uid,
            location__in=Location.objects.visible_to(parties).identified(location_id),
        )
        .select_related("location")
        .prefetch_related(connectors_prefetch())
        .first()
    )


def connector_get(
    *, parties: Sequence[PartyRef], location_id: str, evse_uid: str, connector_id: str
) -> Connector | None:
    return (
        Connector.objects.filter(
            ocpi_id__ci=connector_id,
            evse__uid__ci=evse_uid,
            evse__location__in=Location.objects.visible_to(parties).identified(location_id),
        )
        .select_related("evse__location")
        .first()
    )


def location_by_key(*, country_code: str, party_id: str, location_id: str) -> Location | None:
    """Any location (roaming or not) by its OCPI key: the services' and admin's lookup."""
    party = PartyRef.of(country_code, party_id)
    return Location.objects.for_party(party).identified(location_id).first()


def location_for_render(location_pk: int) -> Location:
    """A location freshly read with everything its Location object needs."""
    return with_evses(Location.objects.filter(pk=location_pk)).get()


def evse_id_taken(*, evse_id: str, other_than: EVSE | None = None) -> bool:
    """Whether an EVSE that is not REMOVED, other than `other_than`, has this evse_id."""
    if not evse_id:
        return False
    # `__ci`: the terms of the partial unique index, so that it is used (ocpi.lookups).
    others = (
        EVSE.objects.exclude(status=Status.REMOVED).exclude(evse_id="").filter(evse_id__ci=evse_id)
    )
    if other_than is not None and other_than.pk is not None:
        others = others.exclude(pk=other_than.pk)
    return others.exists()


def evses_of(location: Location) -> QuerySet[EVSE]:
    return location.evses.order_by("pk").prefetch_related(connectors_prefetch())


@cache
def version_sql(using: str = DEFAULT_DB_ALIAS) -> str:
    """SQL of a location's version (what keys its cached JSON, locations.rendering), as text:
    created_at (tells apart two rows that had the same primary key) and last_updated (moves
    with every write of the location or anything in it: locations.services makes it only
    grow). Computed by the database, the same text wherever it is read: reading the two
    datetimes instead costs more than the rest of a page's rows."""
    table = sql.table(Location, using)

    col = sql.qualifier(Location, table, using)

    return f"CAST({col('created_at')} AS text) || '|' || CAST({col('last_updated')} AS text)"


def _version() -> RawSQL:
    # No input in it: column names from _meta.
    return RawSQL(version_sql(), [], output_field=TextField())  # type: ignore[no-untyped-call]  # noqa: S611


def location_rows(*, parties: Sequence[PartyRef]) -> "QuerySet[Any]":
    """The Sender list as rows (pk, version), so a page is one indexed read before the
    cache is asked for each location's JSON. Built with every value an argument: the pager
    compiles it once per process (ocpi.pagination.paginated_rows)."""
    return (
        Location.objects.visible_to(parties)
        .order_by("pk")
        .annotate(version=_version())
        .values_list("pk", "version", named=True)
    )


def _one_row(*, parties: Sequence[PartyRef], location_id: str) -> "QuerySet[Any]":
    return location_rows(parties=parties).filter(ocpi_id__ci=location_id)[:1]


# A GET of one location: through the ORM, building this lookup costs more than the rest.
_LOCATION_ROW = CompiledQuery(_one_row)


class LocationRow(NamedTuple):
    """A row of location_rows()."""

    pk: int
    version: str


def location_row(*, parties: Sequence[PartyRef], location_id: str) -> LocationRow | None:
    """The location a partner GETs by id (a CiString), as a row of location_rows(), or None."""
    rows = _LOCATION_ROW.rows(parties=list(parties), location_id=location_id)
    return LocationRow(*rows[0]) if rows else None


def locations_by_pk(*, parties: Sequence[PartyRef], pks: Sequence[int]) -> LocationQuerySet:
    """Roaming locations of `parties` among `pks`, prefetched for rendering, each with its
    `version` as read in the same statement (location_rows())."""
    return location_list(parties=parties).annotate(version=_version()).filter(pk__in=pks)


def evse_status_counts() -> dict[str, int]:
    """How many EVSEs are in each Status (REMOVED ones included): one GROUP BY query."""
    # COUNT(*), not of a column: the status index alone answers (an index-only scan).
    rows = EVSE.objects.order_by().values_list("status").annotate(count=Count("*"))
    return dict(rows)
