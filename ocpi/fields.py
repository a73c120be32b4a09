"""Serializer fields for the OCPI data types (types.asciidoc)."""

import re
from datetime import datetime
from typing import Any

from rest_framework import serializers

from ocpi.time import format_datetime, parse_datetime

# CiString: printable ASCII (U+0020–U+007E), so no CR, LF or TAB.
_CI_STRING = re.compile(r"^[\x20-\x7e]*$")
# string: printable UTF-8; control characters (C0, DEL, C1) are not printable.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class CiStringField(serializers.CharField):
    """CiString(n): case-insensitive printable ASCII of at most n characters.

    The value is kept as sent; comparisons and lookups fold case (use `__iexact` or the
    `upper()` form stored beside it).
    """

    default_error_messages = {
        "not_ascii": "Must be printable ASCII (CiString).",
    }

    def __init__(self, max_length: int, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not _CI_STRING.match(value):
            self.fail("not_ascii")
        return value


class StringField(serializers.CharField):
    """string(n): case-sensitive printable UTF-8 of at most n characters."""

    default_error_messages = {
        "control": "Must not contain control characters.",
    }

    def __init__(self, max_length: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(max_length=max_length, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if _CONTROL.search(value):
            self.fail("control")
        return value


class UrlField(StringField):
    """URL: string(255) holding an absolute http or https URL."""

    default_error_messages = {
        "url": "Must be an absolute http(s) URL.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=255, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not re.match(r"^https?://[^\s/?#]+", value, flags=re.IGNORECASE):
            self.fail("url")
        return value


class DateTimeField(serializers.Field[datetime, str, str, Any]):
    """DateTime: UTC, rendered with `Z`; input without `Z` is UTC, offsets are refused."""

    default_error_messages = {
        "invalid": "Invalid OCPI DateTime: {error}",
    }

    def to_internal_value(self, data: Any) -> datetime:
        try:
            return parse_datetime(data)
        except ValueError as exc:
            self.fail("invalid", error=str(exc))
            raise  # unreachable: fail() raises

    def to_representation(self, value: datetime) -> str:
        return format_datetime(value)


class NumberField(serializers.DecimalField):
    """number: a JSON number read and written as Decimal (4 decimals unless stated)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", None)
        kwargs.setdefault("decimal_places", None)
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        # JSON true/false are ints to Python; a boolean is never a number.
        if isinstance(data, bool | str):
            self.fail("invalid")
        return super().to_internal_value(data)
