"""Query helpers shared by the module apps' QuerySets."""

from typing import Self, TypeVar

from django.db import models
from django.db.models import Q

from ocpi.routing import PartyRef

_M = TypeVar("_M", bound=models.Model)


class PartyOwnedQuerySet(models.QuerySet[_M]):
    """Objects owned by a party: `country_code` and `party_id` columns, compared as CiStrings."""

    def for_party(self, party: PartyRef) -> Self:
        return self.filter(country_code__iexact=party.country_code, party_id__iexact=party.party_id)

    def for_parties(self, parties: list[PartyRef]) -> Self:
        condition = Q(pk__in=[])
        for party in parties:
            condition |= Q(country_code__iexact=party.country_code, party_id__iexact=party.party_id)
        return self.filter(condition)
