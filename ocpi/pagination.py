"""Paginated list responses (transport_and_format.asciidoc, Pagination).

offset/limit with the server's cap, date_from inclusive and date_to exclusive on
`last_updated`, a stable order (oldest first by creation: the primary key), and the headers
`Link: <…>; rel="next"` (only when more follows, carrying every filter), `X-Total-Count` and
`X-Limit` (the cap).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Model, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from ocpi.exceptions import InvalidParameters
from ocpi.responses import ocpi_response
from ocpi.time import parse_datetime


@dataclass(frozen=True)
class PageParams:
    offset: int
    limit: int
    date_from: datetime | None
    date_to: datetime | None


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidParameters(f"{name} must be a non-negative integer") from exc
    if value < 0:
        raise InvalidParameters(f"{name} must be a non-negative integer")
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
    limit = _int_param(request, "limit", cap)
    params = PageParams(
        offset=_int_param(request, "offset", 0),
        limit=min(limit, cap) if limit > 0 else cap,
        date_from=_date_param(request, "date_from"),
        date_to=_date_param(request, "date_to"),
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
    request: Request, params: PageParams, total: int, cap: int, count: int
) -> dict[str, str]:
    headers = {"X-Total-Count": str(total), "X-Limit": str(cap)}
    next_offset = params.offset + count
    if count and next_offset < total:
        query = {k: v for k, v in request.query_params.items() if k not in {"offset", "limit"}}
        query.update({"offset": str(next_offset), "limit": str(params.limit)})
        # The public base URL, not the Host header: behind a proxy the two differ.
        url = settings.OCPI_BASE_URL + request.path + "?" + urlencode(query)
        headers["Link"] = f'<{url}>; rel="next"'
    return headers


def paginated_response(
    request: Request,
    queryset: QuerySet[Any],
    render: Callable[[Sequence[Model]], list[Any]],
    *,
    max_limit: int | None = None,
    date_from_required: bool = False,
) -> Response:
    """Answer a Sender list GET: filter, count, slice in primary-key order, render, headers."""
    cap = max_limit or settings.OCPI_PAGE_LIMIT
    params = page_params(request, max_limit=cap, date_from_required=date_from_required)
    filtered = filter_updated(queryset, params).order_by("pk")
    total = filtered.count()
    objects = list(filtered[params.offset : params.offset + params.limit])
    return ocpi_response(
        render(objects), headers=page_headers(request, params, total, cap, len(objects))
    )
