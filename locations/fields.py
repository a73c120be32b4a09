"""Serializer fields the locations classes need beyond ocpi.fields.

DRF's IntegerField accepts strings ("16"); OCPI payloads are typed JSON, and a tolerant reader
would store a string where the spec says integer without noticing.
"""

from typing import Any

from rest_framework import serializers


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (a number without a fraction); never a string or a boolean."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))
