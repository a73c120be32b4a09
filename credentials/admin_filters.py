"""List filters by party (COUNTRY*PARTY), for every operator list of what parties own.

The choices come from the few rows that know the parties (our local parties, the partners'
roles), never from the sessions or CDRs themselves: a DISTINCT over those scans the whole
table on every page of the list. A model filtered here names the party in two fields,
compared case-insensitively (CiStrings).
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from credentials.selectors import our_party_keys, partner_party_keys
from ocpi.enums import Role


def with_chosen(list_filter: admin.SimpleListFilter, values: list[str]) -> list[tuple[str, str]]:
    """The choices `values`, and the value chosen if it is none of them (a party whose roles
    are gone, a link kept from before): Django drops a filter without choices, and with it
    the filtering, so such a link would list everything."""
    chosen = list_filter.value()
    if chosen and chosen.upper() not in {value.upper() for value in values}:  # CiStrings
        values = [*values, chosen]
    return [(value, value) for value in values]


class _PartyFilter(admin.SimpleListFilter):
    """By a party among `parties()`, on the model's `country_field` and `party_field`."""

    country_field: str
    party_field: str

    def parties(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return with_chosen(self, [f"{c}*{p}" for c, p in self.parties()])

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or "*" not in value:
            return queryset
        country, party = value.split("*", 1)
        return queryset.filter(
            **{f"{self.country_field}__ci": country, f"{self.party_field}__ci": party}
        )


class EmspFilter(_PartyFilter):
    """By the token's owner: the eMSP party the session or CDR is reported to."""

    title = "eMSP (token owner)"
    parameter_name = "emsp"
    country_field, party_field = "token_country_code", "token_party_id"

    def parties(self) -> list[tuple[str, str]]:
        return partner_party_keys(Role.EMSP)


class CpoFilter(_PartyFilter):
    """By our CPO party that owns the session or CDR."""

    title = "CPO party"
    parameter_name = "cpo"
    country_field, party_field = "country_code", "party_id"

    def parties(self) -> list[tuple[str, str]]:
        return our_party_keys(Role.CPO)
