"""Reads of CDRs, always scoped to the eMSP parties that may see them; the tariffs of our
parties an operator may reprice a CDR with."""

from collections.abc import Sequence
from typing import Any

from cdrs.models import Cdr, CdrQuerySet
from ocpi import json
from ocpi.routing import PartyRef
from tariffs.models import Tariff, TariffQuerySet
from tariffs.selectors import with_elements
from tariffs.serializers import TariffSerializer


def cdr_list(*, owners: Sequence[PartyRef], token_parties: Sequence[PartyRef]) -> CdrQuerySet:
    """CDRs of our CPO parties `owners` whose tokens belong to the eMSP `token_parties`.

    "A CPO is allowed to return only the CDRs that are relevant for the requesting eMSP"
    (mod_cdrs, Pull model): an eMSP sees the CDRs of its own drivers, never another's.
    Oldest first (pagination orders on the primary key); every field a page renders is a
    column of the row, so a page is one query (without the operator's cost breakdown).
    """
    return (
        Cdr.objects.visible_to(owners=owners, token_parties=token_parties)
        .defer("cost_lines")
        .order_by("pk")
    )


def correction_tariffs(*, party: PartyRef, currency: str) -> TariffQuerySet:
    """Our party's tariffs a corrected CDR of `party` in `currency` may be priced under."""
    return (
        with_elements(Tariff.objects.for_party(party))
        .filter(currency=currency)
        .order_by("ocpi_id", "pk")
    )


def tariff_object(tariff: Tariff) -> dict[str, Any]:
    """The Tariff object as a CDR carries it: through JSON once, exact Decimals (as freezing)."""
    rendered: dict[str, Any] = json.loads(json.dumps(TariffSerializer(tariff).data))
    return rendered
