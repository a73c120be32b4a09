"""Reads of locations for the Sender interface and the services that render pushes.

Always scoped to our parties and to roaming locations (an operator-side flag: private or
home chargers are never offered), always prefetched so rendering a page costs the same
few queries whatever the number of locations, EVSEs and connectors on it.
"""

from collections.abc import Sequence

from django.db.models import Prefetch, QuerySet

from credentials.models import LocalParty
from locations.models import EVSE, Connector, Location, LocationQuerySet, Status


def _party_keys(parties: Sequence[LocalParty]) -> list[tuple[str, str]]:
    return [(party.country_code, party.party_id) for party in parties]


def connectors_prefetch() -> Prefetch:  # type: ignore[type-arg]
    return Prefetch("connectors", queryset=Connector.objects.order_by("pk"))


def evses_prefetch() -> Prefetch:  # type: ignore[type-arg]
    return Prefetch(
        "evses", queryset=EVSE.objects.order_by("pk").prefetch_related(connectors_prefetch())
    )


def with_evses(queryset: LocationQuerySet) -> LocationQuerySet:
    """Locations with their EVSEs and connectors in creation order: three queries in all."""
    return queryset.prefetch_related(evses_prefetch())


def location_list(*, parties: Sequence[LocalParty]) -> LocationQuerySet:
    """The Sender list of `parties`: roaming locations, oldest first (the pager's order).

    A location whose EVSEs are all REMOVED is still listed: it changed, and a full pull is
    the partner's new truth, so leaving it out would hide the removal (mod_locations, Flow).
    """
    return with_evses(Location.objects.for_parties(_party_keys(parties)).roaming().order_by("pk"))


def location_get(*, parties: Sequence[LocalParty], location_id: str) -> Location | None:
    """One roaming location of `parties` by its id, compared case-insensitively (CiString)."""
    return location_list(parties=parties).filter(ocpi_id__iexact=location_id).first()


def evse_get(*, parties: Sequence[LocalParty], location_id: str, evse_uid: str) -> EVSE | None:
    return (
        EVSE.objects.filter(
            location__in=Location.objects.for_parties(_party_keys(parties)).roaming(),
            location__ocpi_id__iexact=location_id,
            uid__iexact=evse_uid,
        )
        .select_related("location")
        .prefetch_related(connectors_prefetch())
        .first()
    )


def connector_get(
    *, parties: Sequence[LocalParty], location_id: str, evse_uid: str, connector_id: str
) -> Connector | None:
    return (
        Connector.objects.filter(
            evse__location__in=Location.objects.for_parties(_party_keys(parties)).roaming(),
            evse__location__ocpi_id__iexact=location_id,
            evse__uid__iexact=evse_uid,
            ocpi_id__iexact=connector_id,
        )
        .select_related("evse__location")
        .first()
    )


def location_by_key(*, country_code: str, party_id: str, location_id: str) -> Location | None:
    """Any location (roaming or not) by its OCPI key: the services' and admin's lookup."""
    return (
        Location.objects.for_party(country_code, party_id)
        .filter(ocpi_id__iexact=location_id)
        .first()
    )


def location_for_render(location_pk: int) -> Location:
    """A location freshly read with everything its Location object needs."""
    return with_evses(Location.objects.filter(pk=location_pk)).get()


def evse_id_taken(*, evse_id: str, other_than: EVSE | None = None) -> bool:
    """Whether an EVSE that is not REMOVED, other than `other_than`, has this evse_id."""
    if not evse_id:
        return False
    others = EVSE.objects.exclude(status=Status.REMOVED).filter(evse_id__iexact=evse_id)
    if other_than is not None and other_than.pk is not None:
        others = others.exclude(pk=other_than.pk)
    return others.exists()


def evses_of(location: Location) -> QuerySet[EVSE]:
    return location.evses.order_by("pk").prefetch_related(connectors_prefetch())
