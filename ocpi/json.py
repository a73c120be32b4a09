"""JSON in and out with exact decimals.

Money and energy are Decimal end to end: simplejson writes a Decimal's own digits as a JSON
number (never a float, never a string) and reads JSON numbers with a fraction back as Decimal.
"""

import json as stdlib_json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import simplejson
from django.conf import settings
from django.db import models
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

from ocpi.exceptions import BodyTooLarge, JsonTooDeep
from ocpi.limits import body_too_large, json_depth_exceeds
from ocpi.time import format_datetime


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return format_datetime(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: object) -> str:
    return simplejson.dumps(
        value, use_decimal=True, default=_default, ensure_ascii=False, separators=(",", ":")
    )


def loads(text: str | bytes) -> Any:
    return simplejson.loads(text, use_decimal=True)


class OcpiJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition (RFC 8259); no charset parameter.

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return dumps(data).encode("utf-8")


class OcpiJSONParser(BaseParser):
    """Parse request bodies; anything that is not JSON becomes HTTP 400 (status_codes §).

    Bounded before parsing (ocpi.limits): larger than OCPI_MAX_BODY_BYTES is HTTP 413, nested
    deeper than OCPI_MAX_JSON_DEPTH HTTP 400 with 2001 (the parser would recurse into a
    RecursionError).
    """

    media_type = "*/*"  # Partners send JSON with and without a Content-Type header.

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if stream is None:
            return None
        limit = settings.OCPI_MAX_BODY_BYTES
        raw = stream.read(limit + 1)  # the ASGI handler refused larger ones; WSGI did not
        if len(raw) > limit:
            raise BodyTooLarge(body_too_large(limit).message)
        if not raw.strip():
            return None
        depth = settings.OCPI_MAX_JSON_DEPTH
        if json_depth_exceeds(raw, depth):
            raise JsonTooDeep(f"Request body is nested deeper than {depth} levels")
        try:
            return loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"Request body is not valid JSON: {exc}") from exc


class DecimalJSONEncoder(stdlib_json.JSONEncoder):
    """For models.JSONField(encoder=…): numbers stay exact (Decimal digits, not floats)."""

    def encode(self, o: Any) -> str:
        return dumps(o)


class DecimalJSONDecoder(stdlib_json.JSONDecoder):
    """For models.JSONField(decoder=…): JSON numbers with a fraction come back as Decimal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["parse_float"] = Decimal
        super().__init__(*args, **kwargs)


def exact_json_field(**kwargs: Any) -> "models.JSONField[Any, Any]":
    """A JSON column whose numbers stay exact Decimals in and out (volumes, prices, percentages)."""
    return models.JSONField(encoder=DecimalJSONEncoder, decoder=DecimalJSONDecoder, **kwargs)
