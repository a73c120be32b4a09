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


class TokenOwnedQuerySet(PartyOwnedQuerySet[_M]):
    """Objects reported to the eMSP that owns their token (sessions, CDRs): `token_country_code`
    and `token_party_id` columns (the CdrToken's), compared as CiStrings."""

    def for_token_parties(self, parties: list[PartyRef]) -> Self:
        """Objects of tokens owned by any of the eMSP `parties` (none: nothing at all)."""
        condition = Q(pk__in=[])
        for party in parties:
            condition |= Q(
                token_country_code__iexact=party.country_code,
                token_party_id__iexact=party.party_id,
            )
        return self.filter(condition)
