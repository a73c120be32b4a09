"""Reads of CDRs, always scoped to the eMSP parties that may see them."""

from collections.abc import Sequence

from cdrs.models import Cdr, CdrQuerySet
from ocpi.routing import PartyRef


def cdr_list(*, owners: Sequence[PartyRef], token_parties: Sequence[PartyRef]) -> CdrQuerySet:
    """CDRs of our CPO parties `owners` whose tokens belong to the eMSP `token_parties`.

    "A CPO is allowed to return only the CDRs that are relevant for the requesting eMSP"
    (mod_cdrs, Pull model): an eMSP sees the CDRs of its own drivers, never another's.
    Oldest first (pagination orders on the primary key); every field a page renders is a
    column of the row, so a page is one query (without the operator's cost breakdown).
    """
    return (
        Cdr.objects.for_parties(list(owners))
        .for_token_parties(list(token_parties))
        .defer("cost_lines")
        .order_by("pk")
    )
