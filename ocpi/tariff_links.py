"""Connectors name tariffs by id (Connector.tariff_ids, a JSON list of Tariff.id CiStrings).

Two sibling apps need that link and may not import each other (import-linter layers):
locations (its connector form offers the tariffs of the location's party; its EVSE list
filters by tariff) and tariffs (which connectors use a tariff: its list's "used by" column,
the refusal to delete a tariff in use). So the link lives here, below both, once:

- `connectors_naming()` reads connectors by app label (django.apps), which needs no import of
  locations and finds nothing when that app is not installed;
- tariff choices come from a provider the tariffs app registers in its AppConfig.ready()
  (`provide_tariff_choices`), as it registers its endpoints (ocpi.endpoints): locations asks
  for "the tariffs of party X, labelled" without knowing how tariffs are stored or summarised.
"""

from collections.abc import Callable, Iterable
from typing import NamedTuple

from django.apps import apps
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from ocpi import json
from ocpi.querysets import owned_by
from ocpi.routing import PartyRef

TariffKey = tuple[PartyRef, str]  # (owner, Tariff.id upper-cased: ids are CiStrings)
TariffChoices = Callable[[PartyRef], list[tuple[str, str]]]


class ConnectorUse(NamedTuple):
    connector_pk: int
    evse_pk: int
    location_id: str
    evse_uid: str
    connector_id: str
    time_zone: str


def tariff_key(party: PartyRef, tariff_id: str) -> TariffKey:
    return party, tariff_id.upper()


def connectors_naming(wanted: Iterable[TariffKey]) -> dict[TariffKey, list[ConnectorUse]]:
    """Per tariff, the connectors of its owner's locations whose tariff_ids name it: one query.

    Connectors of REMOVED EVSEs no longer charge, so they do not count. The database narrows
    the rows to connectors whose JSON text mentions one of the ids (its JSON string, quotes
    included, case-insensitively: no portable JSON lookup compares list items that way); the
    exact, case-insensitive comparison of each list item is then made here.
    """
    found: dict[TariffKey, list[ConnectorUse]] = {key: [] for key in wanted}
    if not found:
        return found
    try:
        connector = apps.get_model("locations", "Connector")
    except LookupError:
        return found
    mentions = Q(pk__in=[])
    for _, tariff_id in found:
        mentions |= Q(tariff_ids_text__icontains=json.dumps(tariff_id))
    parties = sorted({party for party, _ in found}, key=str)
    rows = (
        connector.objects.filter(
            owned_by(parties, "evse__location__country_code", "evse__location__party_id")
        )
        .exclude(evse__status="REMOVED")
        .annotate(tariff_ids_text=Cast("tariff_ids", TextField()))
        .filter(mentions)
        .order_by("pk")
        .values_list(
            "tariff_ids",
            "evse__location__country_code",
            "evse__location__party_id",
            "pk",
            "evse_id",
            "evse__location__ocpi_id",
            "evse__uid",
            "ocpi_id",
            "evse__location__time_zone",
        )
    )
    for tariff_ids, country_code, party_id, pk, evse_pk, location_id, uid, ocpi_id, zone in rows:
        party = PartyRef.of(country_code, party_id)
        use = ConnectorUse(pk, evse_pk, location_id, uid, ocpi_id, zone)
        for tariff_id in {str(item).upper() for item in tariff_ids or []}:
            uses = found.get((party, tariff_id))
            if uses is not None:
                uses.append(use)
    return found


_choices: list[TariffChoices] = []


def provide_tariff_choices(provider: TariffChoices) -> None:
    """Called once by the tariffs app: `provider(party)` lists (Tariff.id, label) pairs."""
    if provider not in _choices:
        _choices.append(provider)


def tariff_choices(party: PartyRef) -> list[tuple[str, str]]:
    """The tariffs `party` owns, as (id, readable label); none without the tariffs app."""
    return [choice for provider in _choices for choice in provider(party)]
