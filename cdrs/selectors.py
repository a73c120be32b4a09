"""Reads of CDRs, always scoped to the eMSP parties that may see them; the tariffs of our
parties an operator may reprice a CDR with; and the operator's revenue figures, over all CDRs."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction

from cdrs.models import REVENUE_IN, Cdr, CdrQuerySet
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
# (its SQL as `sites`, so which CDRs count keeps its one home), one row per site with its
# revenue per currency: a site is kept when it is among the first `top` by kWh, by sessions or
# by revenue in one of the currencies, ties at the last place kept (so the caller picks among
# ties as it would among all). Among the first `top` with ties is what RANK() <= top says: a
# figure at least the top-th largest (or any, with fewer sites); found by one bounded sort per
# figure, not a window sorting every site. A figure of none or nothing ranks no site.
_TOP_SITES = """
WITH sites AS ({report})
SELECT {columns} FROM sites WHERE {kept}
"""
_AMONG_FIRST = (
    "({figure} > 0 AND {figure} >= COALESCE((SELECT {figure} FROM sites WHERE {figure} > 0"
    " ORDER BY {figure} DESC LIMIT 1 OFFSET %s), 0))"
)
_SITE_COLUMNS = ("site_country_code", "site_party_id", "site_id", "site_name", "sessions")
# Enough memory to group the sites' rows by hashing (20,000 sites: ~10 MB) rather than by
# sorting every CDR of the period on disk, PostgreSQL's choice at its default 4 MB (twice the
# time at 1,000,000 CDRs: bench/RESULTS.md). SET LOCAL: until this transaction ends (the
# view's own, unless a caller holds one open around it).
_SITES_WORK_MEM = "32MB"


def _decimal(value: Any) -> Decimal | None:
    """A sum as the ORM would give it: SQLite sums decimals as floats, which the ORM's
    converters quantize to the field's places (every sum here has MONEY_PLACES)."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-MONEY_PLACES))


def cdr_top_sites(*, since: datetime, top: int, currencies: Sequence[str]) -> list[Figures]:
    """Sessions, kWh and revenue excl. VAT in `currencies` per site of the CDRs of sessions
    that ended since `since` (CdrQuerySet.report's rules), for the sites a ranking of the
    first `top` by kWh, by sessions or by revenue in a currency can show (each with all its
    figures), chosen in the database: one query, whatever the number of sites. Sessions and
    kWh count the CDRs of every currency; revenue is told in `currencies` only (the overview
    passes those of the period's kept figures)."""
    codes = sorted(set(currencies))
    report = Cdr.objects.ended_in(since, None).report(by=["site"], revenue_in=codes).order_by()
    sql, params = report.query.sql_with_params()
    quote = connection.ops.quote_name
    figures = ["energy_kwh", "sessions", *(REVENUE_IN.format(code) for code in codes)]
    query = _TOP_SITES.format(
        report=sql,
        columns=", ".join(quote(name) for name in (*_SITE_COLUMNS, *figures)),
        kept=" OR ".join(_AMONG_FIRST.format(figure=quote(name)) for name in figures),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{_SITES_WORK_MEM}'")
        cursor.execute(query, [*params, *(top - 1 for _ in figures)])
        rows = cursor.fetchall()
    sites = []
    for values in rows:
        site = dict(zip((*_SITE_COLUMNS, *figures), values, strict=True))
        amounts = {code: _decimal(site[REVENUE_IN.format(code)]) for code in codes}
        sites.append(
            Figures(
                *_named(site, "site"),
                sessions=site["sessions"] or 0,
                kwh=_decimal(site["energy_kwh"]) or Decimal(0),
                revenue={code: amount for code, amount in amounts.items() if amount is not None},
            )
        )
    return sorted(sites, key=lambda one: one.key)


def _named(row: dict[str, Any], dimension: str) -> tuple[str, str]:
    """The key and label of a report row's site ("site") or eMSP party ("partner")."""
    if dimension == "site":
        key = f"{row['site_country_code']}*{row['site_party_id']}*{row['site_id']}"
        return key, row["site_name"] or row["site_id"] or "?"
    key = f"{row['emsp_country_code']}*{row['emsp_party_id']}"
    return key, key


def figures_of(rows: Iterable[dict[str, Any]], dimension: str) -> list[Figures]:
    """Report `rows` (CdrQuerySet.report's keys) by `dimension` added up per site or party,
    in the rows' order."""
    figures: dict[str, Figures] = {}
    for row in rows:
        key, label = _named(row, dimension)
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
