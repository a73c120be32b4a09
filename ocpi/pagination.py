"""Paginated list responses (transport_and_format.asciidoc, Pagination).

offset/limit with the server's cap, date_from inclusive and date_to exclusive on
`last_updated`, a stable order (oldest first by creation: the primary key), and the headers
`Link: <…>; rel="next"` (only when more follows, carrying every filter), `X-Total-Count` and
`X-Limit` (the cap).

Keyset paging behind the offset interface: the Link we write carries, beside the new
`offset` and `limit`, a cursor `after=<primary key of the page's last object>`, and a
request with a cursor reads `pk > after ORDER BY pk LIMIT n`, an index range scan that costs
the same on the thousandth page as on the first (OFFSET reads and throws away every row
before the page). `offset` stays what the spec says it is for clients: a request without
`after` (a URL the client built) is served by OFFSET, and its Link then carries a cursor.

With a cursor, objects that join or leave the list before it no longer shift the following
pages: a client that follows the Links gets every object that stays in the list exactly once,
which is what the spec's offset semantics aim at (its advice to step back when X-Total-Count
drops only repairs the shift OFFSET causes; with a cursor a re-read is harmless). The
`offset` in our Links stays the nominal position (the previous offset plus the page size).

X-Total-Count stays exact and costs about one index lookup: see total_count().
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from ocpi import generations
from ocpi.compiled import CompiledQuery, Size
from ocpi.exceptions import InvalidParameters
from ocpi.limits import MAX_QUERY_INTEGER, parse_query_integer
from ocpi.responses import ocpi_response
from ocpi.time import parse_datetime

CURSOR = "after"
# Counts cached per process (a few per list: its scopes and filters), checked against the
# database on every use, so they need not be shared between processes.
COUNT_CACHE_SIZE = 512
_counts: OrderedDict[tuple[str, str, str], tuple[int, int]] = OrderedDict()
_counts_lock = threading.Lock()


@dataclass(frozen=True)
class PageParams:
    offset: int
    limit: int
    date_from: datetime | None
    date_to: datetime | None
    after: int | None = None  # the cursor of our Links: the primary key the page follows

    @property
    def dated(self) -> bool:
        return self.date_from is not None or self.date_to is not None


def _int_param(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = parse_query_integer(raw)
    if value is None:
        # Beyond 64 bits the database itself would fail (an offset, a primary key).
        raise InvalidParameters(f"{name} must be an integer from 0 to {MAX_QUERY_INTEGER}")
    return value


def _count_param(request: Request, name: str, default: int) -> int:
    value = _int_param(request, name, default)
    assert value is not None
    return value


def _date_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_datetime(raw)
    except ValueError as exc:
        raise InvalidParameters(f"{name}: {exc}") from exc


def page_params(
    request: Request, *, max_limit: int | None = None, date_from_required: bool = False
) -> PageParams:
    """Read and check the pagination query; invalid values answer 2001."""
    cap = max_limit or settings.OCPI_PAGE_LIMIT
    limit = _count_param(request, "limit", cap)
    params = PageParams(
        offset=_count_param(request, "offset", 0),
        limit=min(limit, cap) if limit > 0 else cap,
        date_from=_date_param(request, "date_from"),
        date_to=_date_param(request, "date_to"),
        after=_int_param(request, CURSOR, None),
    )
    if date_from_required and params.date_from is None:
        raise InvalidParameters("date_from is required")
    if params.date_from and params.date_to and params.date_to <= params.date_from:
        raise InvalidParameters("date_to must be later than date_from")
    return params


def filter_updated(
    queryset: QuerySet[Any], params: PageParams, field: str = "last_updated"
) -> QuerySet[Any]:
    if params.date_from is not None:
        queryset = queryset.filter(**{f"{field}__gte": params.date_from})
    if params.date_to is not None:
        queryset = queryset.filter(**{f"{field}__lt": params.date_to})
    return queryset


def page_headers(
    request: Request, params: PageParams, total: int, cap: int, page: Sequence[Model], more: bool
) -> dict[str, str]:
    headers = {"X-Total-Count": str(total), "X-Limit": str(cap)}
    if page and more:
        carried = {"offset", "limit", CURSOR}
        query = {k: v for k, v in request.query_params.items() if k not in carried}
        query.update(
            {
                "offset": str(params.offset + len(page)),
                "limit": str(params.limit),
                CURSOR: str(page[-1].pk),
            }
        )
        # The public base URL, not the Host header: behind a proxy the two differ.
        url = settings.OCPI_BASE_URL + request.path + "?" + urlencode(query)
        headers["Link"] = f'<{url}>; rel="next"'
    return headers


def page_of(filtered: QuerySet[Any], params: PageParams) -> tuple[list[Any], bool]:
    """The page in primary-key order, and whether more follows (one row read beyond it)."""
    ordered = filtered.order_by("pk")
    if params.after is not None:
        rows = list(ordered.filter(pk__gt=params.after)[: params.limit + 1])
    else:
        rows = list(ordered[params.offset : params.offset + params.limit + 1])
    return rows[: params.limit], len(rows) > params.limit


def paginated_response(
    request: Request,
    queryset: QuerySet[Any],
    render: Callable[[Sequence[Model]], list[Any]],
    *,
    max_limit: int | None = None,
    date_from_required: bool = False,
    count_cache: str | None = None,
) -> Response:
    """Answer a Sender list GET: filter, count, read the page by cursor or offset, render.

    `count_cache` names the list's generations (see note_list_change()); without it
    X-Total-Count is a plain COUNT(*).
    """
    cap = max_limit or settings.OCPI_PAGE_LIMIT
    params = page_params(request, max_limit=cap, date_from_required=date_from_required)
    filtered = filter_updated(queryset, params)
    if count_cache is None:
        total = filtered.count()
    else:
        total = total_count(filtered, name=count_cache, dated=params.dated)
    page, more = page_of(filtered, params)
    return ocpi_response(
        render(page), headers=page_headers(request, params, total, cap, page, more)
    )


# --- X-Total-Count: exact, and cheap -------------------------------------------------------
#
# A count is cached per list query (the SQL itself: scope, filters and all) together with the
# list's generation when it was taken, in the process's memory. Every write that can change
# the answer bumps the generation in its own transaction (note_list_change()), so a cached
# count is used only while nothing it depends on has changed. Reading the generation and,
# when it moved, counting again happen in one statement: one snapshot, so the pair is
# consistent. Two generations per list: "members" moves when objects join or leave the
# unfiltered list (created, deleted, offered or withdrawn), "updated" on every last_updated
# change as well (what date_from/date_to select). An unfiltered full pull thus keeps its
# cached count while EVSE statuses change; a dated one counts again after such a change.


def _generation_names(name: str, *, membership: bool) -> list[str]:
    return [f"{name}:members", f"{name}:updated"] if membership else [f"{name}:updated"]


def note_list_change(name: str, *, key: int, membership: bool) -> None:
    """Record, inside the writing transaction, that list `name` may now answer differently.

    Call it for every write of an object of the list: `membership` when the object joins or
    leaves the list without date filters (created, deleted, made visible or hidden), else
    for any change of its last_updated. `key` (the object's primary key) picks the shard
    (ocpi.generations: a random value per bump, one statement for both generations).
    """
    generations.bump(*_generation_names(name, membership=membership), key=key)


def total_count(queryset: QuerySet[Any], *, name: str, dated: bool) -> int:
    """COUNT(*) of `queryset`, from the cache while list `name` has not changed since.

    One query either way: the generation, and the count only when the generation is not the
    cached one (a CASE branch the database evaluates only when taken).
    """
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    return _count(queryset.db, sql, tuple(params), name=name, dated=dated)


def _count(db: str, sql: str, params: tuple[Any, ...], *, name: str, dated: bool) -> int:
    """total_count() of the list whose rows `sql` selects."""
    generation = _generation_names(name, membership=not dated)[0]
    connection = connections[db]
    key = (generation, db, sql + repr(params))
    with _counts_lock:
        cached = _counts.get(key)
    known = cached[0] if cached else None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g.generation, CASE WHEN g.generation = %s THEN NULL "  # noqa: S608 (our own SQL)
            f"ELSE (SELECT COUNT(*) FROM ({sql}) counted) END "
            f"FROM ({generations.current_sql(db)}) g",
            [known, *params, generation],
        )
        current, counted = cursor.fetchone()
    if counted is None:
        assert cached is not None
        return cached[1]
    if current != generations.NEVER:  # a state that can come back (all bumps rolled back)
        with _counts_lock:
            _counts[key] = (int(current), int(counted))
            _counts.move_to_end(key)
            if len(_counts) > COUNT_CACHE_SIZE:
                _counts.popitem(last=False)
    return int(counted)


# --- Lists read on every page of every pull: compiled once ----------------------------------
#
# Building a list's QuerySet and compiling it for the count and for the page costs more than
# the database needs to answer both. paginated_rows() compiles them once per process
# (ocpi.compiled): the list's build function with every value an argument (the caller's
# scope, the date filters, the cursor), so a compiled page holds no caller's value and
# cannot serve one partner another's page. Only cursor pages (every page of a pull after
# the first) take this path; an offset page is built as usual.


def _dated(queryset: QuerySet[Any], date_from: datetime | None, date_to: datetime | None) -> Any:
    return filter_updated(queryset, PageParams(0, 0, date_from, date_to))


@dataclass(frozen=True)
class _CompiledList:
    count: CompiledQuery
    page: CompiledQuery


_lists: dict[Callable[..., QuerySet[Any]], _CompiledList] = {}
_lists_lock = threading.Lock()


def _compiled_list(build: Callable[..., QuerySet[Any]]) -> _CompiledList:
    """The count and page queries of the list `build` makes, compiled once per process."""
    with _lists_lock:
        found = _lists.get(build)
    if found is not None:
        return found

    def count(*, date_from: datetime | None, date_to: datetime | None, **scope: Any) -> Any:
        return _dated(build(**scope), date_from, date_to).order_by().values("pk")

    def page(
        *,
        date_from: datetime | None,
        date_to: datetime | None,
        after: int,
        rows: Size,
        **scope: Any,
    ) -> Any:
        dated = _dated(build(**scope), date_from, date_to)
        return dated.order_by("pk").filter(pk__gt=after)[:rows]

    compiled = _CompiledList(CompiledQuery(count), CompiledQuery(page))  # checks `build` too
    with _lists_lock:
        return _lists.setdefault(build, compiled)


def paginated_rows(
    request: Request,
    rows: Callable[..., QuerySet[Any]],
    scope: Mapping[str, Any],
    row_type: Callable[..., Any],
    render: Callable[[Sequence[Any]], list[Any]],
    *,
    count_cache: str,
    max_limit: int | None = None,
    date_from_required: bool = False,
) -> Response:
    """paginated_response() for a list read page after page by every pull.

    `rows(**scope)` builds the list's values_list() QuerySet (primary key first), with
    every value it depends on among the `scope` arguments (ocpi.compiled checks that none
    comes in any other way). Each page's rows are `row_type(*row)`.
    """
    cap = max_limit or settings.OCPI_PAGE_LIMIT
    params = page_params(request, max_limit=cap, date_from_required=date_from_required)
    if params.after is None:
        filtered = filter_updated(rows(**scope), params)
        total = total_count(filtered, name=count_cache, dated=params.dated)
        page, more = page_of(filtered, params)
        page = [row_type(*row) for row in page]
    else:
        compiled = _compiled_list(rows)
        dates = {"date_from": params.date_from, "date_to": params.date_to}
        db = DEFAULT_DB_ALIAS
        count_sql, count_params = compiled.count.sql_with_params(db, **dates, **scope)
        total = (
            0
            if count_sql is None  # a scope that selects nothing (no party at all)
            else _count(db, count_sql, tuple(count_params), name=count_cache, dated=params.dated)
        )
        found = compiled.page.rows(
            db, **dates, after=params.after, rows=Size(params.limit + 1), **scope
        )
        page = [row_type(*row) for row in found[: params.limit]]
        more = len(found) > params.limit
    return ocpi_response(
        render(page), headers=page_headers(request, params, total, cap, page, more)
    )
