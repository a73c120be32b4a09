"""Our tariffs as a CSV file (ocpi.estate_csv): columns, the streamed export and the import.

One row per tariff, keyed by country_code/party_id/id; prices and dates are flat columns,
the elements (restrictions and price components) one JSON column in the OCPI form. Only
our own parties' tariffs are exported or imported. The import's dry run validates every
row with TariffSerializer; confirmed, each changed tariff goes through tariff_upsert() (its
PUT to the partners; none when unchanged), all in one transaction: an import with any row
in error writes nothing, so a file is never half applied.
"""

from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import Upper

from credentials.selectors import local_parties
from ocpi import json
from ocpi.estate_csv import (
    Column,
    ImportPlan,
    apply_row,
    changed_columns,
    column,
    column_for,
    error_lines,
    keyed_rows,
    read_csv,
)
from ocpi.routing import PartyRef
from ocpi.time import format_datetime, now
from tariffs.models import Tariff
from tariffs.selectors import with_elements
from tariffs.serializers import TariffSerializer
from tariffs.services import render_tariff, tariff_upsert

TARIFFS = "tariffs"
CHUNK = 500  # tariffs read per query while streaming or looking up
KEYS = ("country_code", "party_id", "id")

TARIFF_COLUMNS: tuple[Column, ...] = (
    *(column(name) for name in KEYS),
    column("currency"),
    column("type"),
    column("min_price_excl_vat", "decimal", "min_price.excl_vat"),
    column("min_price_incl_vat", "decimal", "min_price.incl_vat"),
    column("max_price_excl_vat", "decimal", "max_price.excl_vat"),
    column("max_price_incl_vat", "decimal", "max_price.incl_vat"),
    column("start_date_time"),
    column("end_date_time"),
    column("tariff_alt_url"),
    column("tariff_alt_text", "json"),
    column("elements", "json"),
    column("energy_mix", "json"),
)


def our_parties() -> set[PartyRef]:
    return {PartyRef.of(p.country_code, p.party_id) for p in local_parties()}


def _ours(tariffs: QuerySet[Tariff]) -> QuerySet[Tariff]:
    return tariffs.filter(
        pk__in=Tariff.objects.for_parties(sorted(our_parties(), key=str)).values("pk")
    )


def _plain(tariff: Tariff) -> dict[str, Any]:
    """The tariff as a partner gets it: plain JSON values, exact decimals."""
    loaded: dict[str, Any] = json.loads(json.dumps(render_tariff(tariff)))
    return loaded


def tariff_rows(tariffs: QuerySet[Tariff]) -> Iterator[dict[str, Any]]:
    """Our `tariffs` rendered, read in chunks with their elements and components."""
    # The admin's list may have prefetched the elements already (its price summary): clear
    # that, or Django refuses the same lookup twice.
    ours = _ours(tariffs).prefetch_related(None).order_by("pk")
    chosen = with_elements(ours)  # type: ignore[arg-type]
    for tariff in chosen.iterator(chunk_size=CHUNK):
        yield _plain(tariff)


def _stored(keys: list[tuple[str, ...]]) -> dict[tuple[str, ...], Tariff]:
    found: dict[tuple[str, ...], Tariff] = {}
    for party in {PartyRef.of(key[0], key[1]) for key in keys}:
        ids = [key[2] for key in keys if PartyRef.of(key[0], key[1]) == party]
        for start in range(0, len(ids), CHUNK):
            rows = with_elements(
                Tariff.objects.for_party(party)
                .annotate(upper_id=Upper("ocpi_id"))
                .filter(upper_id__in=ids[start : start + CHUNK])
            )
            for tariff in rows:
                found[(party.country_code, party.party_id, tariff.ocpi_id.upper())] = tariff
    return found


def plan_tariff_import(texts: Mapping[str, str]) -> ImportPlan:
    """The dry run of importing a tariffs file: every row's outcome or errors; nothing is
    written (plan.write() makes the tariff_upsert() calls)."""
    plan = ImportPlan()
    if not texts.get(TARIFFS, "").strip():
        return plan
    rows, plan.file_errors = read_csv(
        texts[TARIFFS], file=TARIFFS, columns=TARIFF_COLUMNS, keys=KEYS
    )
    plan.reports = [row.report for row in rows]
    keyed = keyed_rows(rows, KEYS, our_parties(), TARIFFS)
    stored = _stored([key for key, _ in keyed])
    moment = format_datetime(now())
    for key, row in keyed:
        tariff = stored.get(key)
        if tariff is None:
            data: dict[str, Any] = {name: row.cells[name].strip() for name in KEYS}
            data["last_updated"] = moment
            row.report.outcome = "new"
        else:
            data = _plain(tariff)
            row.report.changes = changed_columns(row, data, TARIFF_COLUMNS, KEYS)
            row.report.outcome = "changed" if row.report.changes else "unchanged"
        apply_row(row, data, TARIFF_COLUMNS, KEYS)
        if row.report.errors or row.report.outcome == "unchanged":
            continue
        serializer = TariffSerializer(data=data)
        if serializer.is_valid():
            plan.writes.append(partial(tariff_upsert, data=serializer.validated_data))
            continue
        for path, message in error_lines(serializer.errors):
            row.report.error(f"{column_for(path, TARIFF_COLUMNS)}: {message}")
    return plan
