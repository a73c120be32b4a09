"""Query helpers shared by the module apps' QuerySets.

CiString ids compare one way: `field__ci=value` (ocpi.lookups), UPPER(column) = UPPER(value),
the terms the unique indexes hold, with the value reaching the SQL untransformed, as a
compiled query (ocpi.compiled) requires.
"""

from collections.abc import Sequence
from typing import Self, TypeVar

from django.db import models
from django.db.models import Q

from ocpi.routing import PartyRef

_M = TypeVar("_M", bound=models.Model)


def owned_by(parties: Sequence[PartyRef], country_field: str, party_field: str) -> Q:
    """Owned by any of `parties` (none: nothing at all), one index term per party."""
    condition = Q(pk__in=[])
    for party in parties:
        condition |= Q(
            **{f"{country_field}__ci": party.country_code, f"{party_field}__ci": party.party_id}
        )
    return condition


class PartyOwnedQuerySet(models.QuerySet[_M]):
    """Objects owned by a party: `country_code` and `party_id` columns, compared as CiStrings."""

    def for_party(self, party: PartyRef) -> Self:
        return self.filter(owned_by([party], "country_code", "party_id"))

    def for_parties(self, parties: Sequence[PartyRef]) -> Self:
        return self.filter(owned_by(parties, "country_code", "party_id"))


class TokenOwnedQuerySet(PartyOwnedQuerySet[_M]):
    """Objects reported to the eMSP that owns their token (sessions, CDRs): `token_country_code`
    and `token_party_id` columns (the CdrToken's), compared as CiStrings."""

    def for_token_parties(self, parties: Sequence[PartyRef]) -> Self:
        """Objects of tokens owned by any of the eMSP `parties` (none: nothing at all)."""
        return self.filter(owned_by(parties, "token_country_code", "token_party_id"))

    def visible_to(self, *, owners: Sequence[PartyRef], token_parties: Sequence[PartyRef]) -> Self:
        """What an eMSP may see (credentials.access): objects of our parties `owners` for
        tokens of its `token_parties` (credentials.routing.Route.emsp_parties())."""
        return self.for_parties(owners).for_token_parties(token_parties)
