"""Bounded input: what a request may carry before any work is done on it (issue 10, Build 4).

The ASGI entry point (ocpi/asgi.py) applies the limits on what it reads from the server:
headers (OCPI_MAX_HEADER_BYTES), the body (OCPI_MAX_BODY_BYTES: refused on Content-Length
before a byte is read, and a streamed body as soon as it passes the limit). The JSON parser
(ocpi/json.py) refuses nesting deeper than OCPI_MAX_JSON_DEPTH before it recurses, and
applies the body limit again for the WSGI path (tests, `manage.py runserver`).

A request refused here never reaches a view: the ASGI handler marks the Django request with
its Refusal and OcpiMiddleware answers it, under /ocpi/ with the envelope (status_codes:
these never reached the OCPI layer, so HTTP error statuses with OCPI 2000).
"""

import re
from dataclasses import dataclass

from ocpi.status import OcpiStatus

# The attribute of a Django request that carries its Refusal (set by ocpi.asgi).
REFUSAL_ATTRIBUTE = "ocpi_refusal"
# Query integers are stored in and compared with 64-bit columns: nothing beyond is an offset,
# a page size or a primary key.
MAX_QUERY_INTEGER = 2**63 - 1

_NOT_QUOTE_OR_BRACKET = bytes(byte for byte in range(256) if byte not in b'"[]{}')
# Innermost pairs, both kinds in one pass: one level a pass, whatever the nesting alternates.
_INNERMOST_PAIR = re.compile(rb"\[\]|\{\}")


@dataclass(frozen=True)
class Refusal:
    http_status: int
    message: str
    status_code: int = OcpiStatus.CLIENT_ERROR


def body_too_large(limit: int) -> Refusal:
    # RFC 9110 §15.5.14, 413 Content Too Large.
    return Refusal(413, f"Request body is larger than {limit} bytes")


def headers_too_large(limit: int) -> Refusal:
    # RFC 6585 §5, 431 Request Header Fields Too Large.
    return Refusal(431, f"Request headers are larger than {limit} bytes")


def json_depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether JSON text `raw` nests arrays and objects deeper than `limit` levels.

    Without recursion or a loop over the bytes in Python: a body with no more brackets than
    `limit` cannot be deeper (one count, the common case of small bodies). Otherwise escapes
    (\\\\ then \\") and every byte but quotes and brackets are deleted, strings (now quote
    pairs) cut out, and innermost bracket pairs removed `limit` times. What is left then is
    deeper than `limit` or not JSON at all (unbalanced), which is refused as well.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Quotes now pair up: every other piece between them is inside a string.
    brackets = b"".join(raw.translate(None, _NOT_QUOTE_OR_BRACKET).split(b'"')[::2])
    for _ in range(limit):
        if not brackets:
            return False
        inner_removed = _INNERMOST_PAIR.sub(b"", brackets)
        if inner_removed == brackets:
            return True  # unbalanced: no innermost pair left to remove
        brackets = inner_removed
    return bool(brackets)


def parse_query_integer(raw: str) -> int | None:
    """A query parameter's non-negative integer up to MAX_QUERY_INTEGER, or None.

    Plain ASCII digits only: int() would also take signs, spaces, underscores and other
    scripts' digits, and spend quadratic time on thousands of digits.
    """
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_QUERY_INTEGER)):
        return None
    value = int(raw)
    return value if value <= MAX_QUERY_INTEGER else None
