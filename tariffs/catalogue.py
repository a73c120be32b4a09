"""Stored tariffs as the operator's screens name them: priced by the engine, summarised in one
line, offered to connectors, and the connectors that use them."""

from collections.abc import Sequence
from typing import Any

from ocpi import json
from ocpi.routing import PartyRef
from ocpi.tariff_links import ConnectorUse, connectors_naming, tariff_key
from tariffs import engine
from tariffs.models import Tariff
from tariffs.selectors import with_elements
from tariffs.serializers import TariffSerializer
from tariffs.summary import price_summary


def engine_tariff(tariff: Tariff) -> engine.Tariff:
    """The saved tariff as the engine reads it: rendered and read through JSON once, exactly
    as a session freezes it (sessions.freeze) before the engine prices the session and CDR.
    `tariff` should come with its elements prefetched (tariffs.selectors.with_elements)."""
    rendered: dict[str, Any] = json.loads(json.dumps(TariffSerializer(tariff).data))
    return engine.tariff_from_ocpi(rendered)


def summary_of(tariff: Tariff) -> str:
    try:
        return price_summary(engine_tariff(tariff))
    except engine.TariffError as exc:  # stored tariffs are validated; say so rather than fail
        return f"cannot be priced: {exc}"


def choice_label(tariff: Tariff) -> str:
    return f"{tariff.ocpi_id} · {tariff.currency} · {summary_of(tariff)}"


def party_tariff_choices(party: PartyRef) -> list[tuple[str, str]]:
    """The tariff picker's options for a connector of `party` (ocpi.tariff_links)."""
    tariffs = with_elements(Tariff.objects.for_party(party)).order_by("ocpi_id", "pk")
    return [(tariff.ocpi_id, choice_label(tariff)) for tariff in tariffs]


def tariff_uses(tariffs: Sequence[Tariff]) -> dict[int, list[ConnectorUse]]:
    """Per tariff pk, the connectors naming it (REMOVED EVSEs left out), in one query."""
    uses = connectors_naming(tariff_key(t.party, t.ocpi_id) for t in tariffs)
    return {t.pk: uses[tariff_key(t.party, t.ocpi_id)] for t in tariffs}
