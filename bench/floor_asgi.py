"""The floor of a full pull: pre-rendered pages served by a bare ASGI app under uvicorn.

It answers `GET /pages?offset=N` with the bytes the platform answered for that page in the
same run (body, X-Total-Count, X-Limit, a Link to the next page), doing nothing else: the
cheapest server that could hand out the same pages the same way.

BENCH_FLOOR_PAGES names a file of JSON lines, one page each: {"offset", "body", "total"}.
"""

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _load() -> tuple[dict[int, tuple[bytes, list[tuple[bytes, bytes]]]], int]:
    pages: dict[int, tuple[bytes, list[tuple[bytes, bytes]]]] = {}
    with open(os.environ["BENCH_FLOOR_PAGES"], encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    limit = max(len(json.loads(row["body"])["data"]) for row in rows)
    offsets = [row["offset"] for row in rows]
    for row, following in zip(rows, [*offsets[1:], None], strict=True):
        body = row["body"].encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-total-count", str(row["total"]).encode()),
            (b"x-limit", str(limit).encode()),
        ]
        if following is not None:
            link = f'</pages?offset={following}&limit={limit}>; rel="next"'
            headers.append((b"link", link.encode()))
        pages[row["offset"]] = (body, headers)
    return pages, limit


PAGES, LIMIT = _load()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    query = parse_qs(scope["query_string"].decode())
    offset = int(query.get("offset", ["0"])[0])
    body, headers = PAGES.get(offset, (b'{"data":[]}', [(b"content-type", b"application/json")]))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
