"""Serializer fields for the OCPI data types (types.asciidoc).

OCPI payloads are typed JSON: DRF's BooleanField accepts "true" and its CharField numbers, so
the fields here refuse what merely looks like the type (a tolerant reader would store the string
"false" as a valid token, or a number where the spec says string, without noticing).
"""

import re
from datetime import datetime
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty

from ocpi.time import format_datetime, parse_datetime

# CiString: printable ASCII (U+0020–U+007E), so no CR, LF or TAB.
_CI_STRING = re.compile(r"^[\x20-\x7e]*$")
# string: printable UTF-8; control characters (C0, DEL, C1) are not printable.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def optional(field: type[serializers.Field[Any, Any, Any, Any]], *args: Any, **kwargs: Any) -> Any:
    """An optional field (`?`): absent or null mean "not set"."""
    return field(*args, required=False, allow_null=True, **kwargs)


def optional_text(field: type[serializers.CharField], **kwargs: Any) -> Any:
    """An optional string: absent, null or "" all mean "not set" (models keep "")."""
    return field(required=False, allow_null=True, allow_blank=True, **kwargs)


class CiStringField(serializers.CharField):
    """CiString(n): case-insensitive printable ASCII of at most n characters.

    The value is kept as sent; queries compare it with `field__ci=value` (ocpi.lookups).
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


class CurrencyField(StringField):
    """string(3): an ISO 4217 currency code, three capital letters."""

    default_error_messages = {
        "currency": "Must be an ISO 4217 code: three capital letters.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=3, **kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        # After the length check, so "EURO" is told it is too long, as before the code.
        value = super().run_validation(data)
        if value is not None and not _CURRENCY.match(value):
            self.fail("currency")
        return value


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean: true or false, nothing that merely looks like one ("false" is truthy)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StoredJsonField(serializers.Field[Any, Any, Any, Any]):
    """An OCPI object (or list of them) a model keeps as JSON in its OCPI form.

    Input is validated by `serializer_class` (many or not) and kept in the canonical form the
    serializer renders (unknown fields dropped, absent optional fields omitted, DateTimes with
    Z, exact Decimals). Rendering returns the stored value as it is: no re-serialization of
    nested data for every object of every page, and what was sealed is sent unchanged.
    """

    def __init__(
        self,
        serializer_class: type[serializers.Serializer[Any]],
        *,
        many: bool = False,
        allow_empty: bool = True,
        **kwargs: Any,
    ) -> None:
        self.serializer_class = serializer_class
        self.many = many
        self.allow_empty = allow_empty
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if self.many:
            if not isinstance(data, list):
                raise ValidationError(f"Expected a list of {self._class_name()} objects.")
            checked = self.serializer_class(data=data, many=True, allow_empty=self.allow_empty)
        else:
            checked = self.serializer_class(data=data)
        if not checked.is_valid():
            raise ValidationError(checked.errors)
        if self.many:
            return [dict(item) for item in checked.data]
        return dict(checked.data)

    def to_representation(self, value: Any) -> Any:
        return value

    def _class_name(self) -> str:
        return self.serializer_class.__name__.removesuffix("Serializer")
