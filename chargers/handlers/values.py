"""Reading strings of a charge point's payload into our columns.

The schemas bound their lengths, but a charge point may be let through longer ones (its vendor
relaxation, ChargePoint.relaxed_validation): such a value is cut to the column, never refused
with an InternalError that the charge point would answer by sending it again.
"""

from typing import Any

from django.db.models import CharField, Model


def clipped(value: Any, model: type[Model], name: str) -> str:
    """`value` as a string no longer than the CharField `model.name` holds ("" when absent)."""
    if value is None:
        return ""
    field = model._meta.get_field(name)
    if not isinstance(field, CharField):
        raise TypeError(f"{model.__name__}.{name} is no CharField")
    return str(value)[: field.max_length]
