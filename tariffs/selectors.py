"""Reads of tariffs, scoped to our parties and prefetched for rendering."""

from collections.abc import Sequence

from django.db.models import Prefetch

from ocpi.routing import PartyRef
from tariffs.models import PriceComponent, Tariff, TariffElement, TariffQuerySet


def with_elements(queryset: TariffQuerySet) -> TariffQuerySet:
    """Prefetch elements and components in order: two queries per page, whatever their number."""
    return queryset.prefetch_related(
        Prefetch("elements", queryset=TariffElement.objects.order_by("position")),
        Prefetch(
            "elements__price_components", queryset=PriceComponent.objects.order_by("position")
        ),
    )


def tariff_list(*, parties: Sequence[PartyRef]) -> TariffQuerySet:
    """The tariffs owned by `parties`, oldest first (pagination orders on the primary key)."""
    return with_elements(Tariff.objects.for_parties(list(parties))).order_by("pk")


def tariff_get(*, party: PartyRef, tariff_id: str) -> Tariff | None:
    """One tariff by its OCPI id, case-insensitively (ids are CiStrings)."""
    return with_elements(Tariff.objects.for_party(party)).filter(ocpi_id__ci=tariff_id).first()


def tariff_currencies() -> list[str]:
    """The currencies our tariffs price in, sorted: those of every CDR priced by us (the
    tariffs table is small; the CDRs' is not)."""
    return sorted(set(Tariff.objects.values_list("currency", flat=True)))
