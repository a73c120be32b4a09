"""Reads of CDRs, always scoped to the eMSP parties that may see them; the tariffs of our
parties an operator may reprice a CDR with; and the operator's revenue figures, over all CDRs."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction

from cdrs.models import Cdr, CdrQuerySet
from ocpi import json
from ocpi.routing import PartyRef
from sessions.models import MONEY_PLACES
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


class Revenue(NamedTuple):
    """CDR totals excluding VAT in one currency (total_cost_excl_vat is always stated; the
    amount including VAT may be absent). Net, as CdrQuerySet.report's revenue: credit CDRs
    carry negated totals, so a credited CDR nets to nothing."""

    currency: str
    today: Decimal
    month: Decimal


class RevenueDay(NamedTuple):
    day: date
    currency: str
    amount: Decimal


class Figures(NamedTuple):
    """What one site's or eMSP party's CDRs add up to; revenue per currency, never summed
    across currencies."""

    key: str
    label: str
    sessions: int
    kwh: Decimal
    revenue: dict[str, Decimal]


# The sites' candidates for a ranking (cdr_top_sites), chosen from CdrQuerySet.report's rows
# (its SQL as `site_rows`, so which CDRs count keeps its one home): a site is kept when it is
# among the first `top` by kWh or by sessions, or by revenue in one of its currencies (RANK:
# sites tied at the last place stay, so the caller picks among ties as it would among all).
_TOP_SITES = """
WITH site_rows AS ({report}),
sites AS (
    SELECT site_country_code, site_party_id, site_id,
           SUM(sessions) AS sessions, SUM(energy_kwh) AS kwh
    FROM site_rows GROUP BY site_country_code, site_party_id, site_id
),
ranked AS (
    SELECT site_country_code, site_party_id, site_id,
           CASE WHEN kwh > 0 THEN RANK() OVER (ORDER BY kwh DESC) END AS by_kwh,
           CASE WHEN sessions > 0 THEN RANK() OVER (ORDER BY sessions DESC) END AS by_sessions
    FROM sites
),
picked AS (
    SELECT site_country_code, site_party_id, site_id FROM ranked
    WHERE by_kwh <= %s OR by_sessions <= %s
    UNION
    SELECT site_country_code, site_party_id, site_id FROM (
        SELECT site_country_code, site_party_id, site_id, revenue_excl_vat,
               RANK() OVER (PARTITION BY currency_code ORDER BY revenue_excl_vat DESC) AS place
        FROM site_rows WHERE revenue_excl_vat > 0
    ) by_revenue WHERE place <= %s
)
SELECT site_rows.site_country_code, site_rows.site_party_id, site_rows.site_id,
       site_rows.site_name, site_rows.currency_code, site_rows.sessions,
       site_rows.energy_kwh, site_rows.revenue_excl_vat
FROM site_rows JOIN picked ON picked.site_country_code = site_rows.site_country_code
    AND picked.site_party_id = site_rows.site_party_id AND picked.site_id = site_rows.site_id
"""
_TOP_SITE_COLUMNS = (
    "site_country_code",
    "site_party_id",
    "site_id",
    "site_name",
    "currency_code",
    "sessions",
    "energy_kwh",
    "revenue_excl_vat",
)
# Enough memory to group the sites' rows by hashing (20,000 sites: ~10 MB) rather than by
# sorting every CDR of the period on disk, PostgreSQL's choice at its default 4 MB (twice the
# time at 1,000,000 CDRs: bench/RESULTS.md). SET LOCAL: until this transaction ends (the
# view's own, unless a caller holds one open around it).
_SITES_WORK_MEM = "32MB"


def _site_row(values: Sequence[Any]) -> dict[str, Any]:
    """A row of _TOP_SITES as the ORM would give it: SQLite sums decimals as floats, which
    the ORM's converters quantize to the field's places (every sum here has MONEY_PLACES)."""
    row = dict(zip(_TOP_SITE_COLUMNS, values, strict=True))
    for name in ("energy_kwh", "revenue_excl_vat"):
        if row[name] is not None and not isinstance(row[name], Decimal):
            row[name] = Decimal(repr(row[name])).quantize(Decimal(1).scaleb(-MONEY_PLACES))
    return row


def cdr_top_sites(*, since: datetime, top: int) -> list[Figures]:
    """Sessions, kWh and revenue excl. VAT per site of the CDRs of sessions that ended since
    `since` (CdrQuerySet.report's rules), for the sites a ranking of the first `top` by kWh, by
    sessions or by revenue in a currency can show (each with all its figures), chosen in the
    database: one query, whatever the number of sites."""
    report = Cdr.objects.ended_in(since, None).report(by=["site"]).order_by()
    sql, params = report.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{_SITES_WORK_MEM}'")
        cursor.execute(_TOP_SITES.format(report=sql), [*params, top, top, top])
        rows = [_site_row(row) for row in cursor.fetchall()]
    rows.sort(key=lambda row: (row["site_country_code"], row["site_party_id"], row["site_id"]))
    return figures_of(rows, "site")


def figures_of(rows: Iterable[dict[str, Any]], dimension: str) -> list[Figures]:
    """Report `rows` (CdrQuerySet.report's keys) by `dimension` added up per site or party,
    in the rows' order."""
    figures: dict[str, Figures] = {}
    for row in rows:
        if dimension == "site":
            key = f"{row['site_country_code']}*{row['site_party_id']}*{row['site_id']}"
            label = row["site_name"] or row["site_id"] or "?"
        else:
            key = label = f"{row['emsp_country_code']}*{row['emsp_party_id']}"
        known = figures.get(key) or Figures(key, label, 0, Decimal(0), {})
        revenue = dict(known.revenue)
        revenue[row["currency_code"]] = revenue.get(row["currency_code"], Decimal(0)) + (
            row["revenue_excl_vat"] or Decimal(0)
        )
        figures[key] = known._replace(
            sessions=known.sessions + (row["sessions"] or 0),
            kwh=known.kwh + (row["energy_kwh"] or Decimal(0)),
            revenue=revenue,
        )
    return list(figures.values())
