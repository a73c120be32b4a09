"""Serializer fields the locations classes need beyond ocpi.fields.

DRF's BooleanField and IntegerField accept strings ("true", "16") and its CharField accepts
numbers; OCPI payloads are typed JSON, and a tolerant reader here would store a number where
the spec says string (the "add EVSE" example's `physical_reference: 3`) without noticing.
"""

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean: true or false, nothing that merely looks like one."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (a number without a fraction); never a string or a boolean."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StoredJsonField(serializers.Field):  # type: ignore[type-arg]
    """Nested display data kept as JSON: validated by its OCPI serializer on the way in.

    Input is validated by `serializer_class` (many or not) and kept in the canonical form the
    serializer renders (absent optional fields omitted, DateTimes with Z, exact Decimals).
    The stored value is that form, so rendering returns it as it is: no re-serialization of
    opening hours or images for every location of every page.
    """

    def __init__(
        self,
        serializer_class: type[serializers.Serializer],  # type: ignore[type-arg]
        *,
        many: bool = False,
        **kwargs: Any,
    ) -> None:
        self.serializer_class = serializer_class
        self.many = many
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if self.many and not isinstance(data, list):
            raise ValidationError(f"Expected a list of {self._class_name()} objects.")
        serializer = self.serializer_class(data=data, many=self.many)
        if not serializer.is_valid():
            raise ValidationError(serializer.errors)
        if self.many:
            return [dict(item) for item in serializer.data]
        return dict(serializer.data)

    def to_representation(self, value: Any) -> Any:
        return value

    def _class_name(self) -> str:
        return self.serializer_class.__name__.removesuffix("Serializer")
