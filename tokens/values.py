"""Validated TokenSerializer data → Token model fields: one mapping for every write of the cache.

The receiver writes (tokens.services) and the pull sync (tokens.sync) store the same fields
the same way, so a token reads the same whichever way the eMSP told us about it.
"""

from collections.abc import Mapping
from typing import Any

from tokens.models import Token
from tokens.serializers import EnergyContractSerializer

IDENTITY = ("country_code", "party_id", "uid", "type")
_REQUIRED = ("contract_id", "issuer", "valid", "whitelist", "last_updated")
_OPTIONAL_TEXT = ("visual_number", "group_id", "language", "default_profile_type")
SYNC_FIELDS = [*IDENTITY, *_REQUIRED, *_OPTIONAL_TEXT, "energy_contract", "missing_since"]


def _energy_contract(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Stored as rendered: no nulls, no empty strings."""
    return None if value is None else dict(EnergyContractSerializer().to_representation(value))


def field_value(name: str, data: Mapping[str, Any]) -> Any:
    if name in _OPTIONAL_TEXT:
        return data.get(name) or ""
    if name == "energy_contract":
        return _energy_contract(data.get(name))
    return data[name]


def put_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """A full Token: absent optional fields revert to their default (transport_and_format, PUT)."""
    names = (*IDENTITY, *_REQUIRED, *_OPTIONAL_TEXT, "energy_contract")
    return {name: field_value(name, data) for name in names}


def apply_values(token: Token, values: Mapping[str, Any]) -> list[str]:
    """Set `values` on `token`; return the names of the fields that changed."""
    changed = []
    for name, value in values.items():
        if getattr(token, name) != value:
            setattr(token, name, value)
            changed.append(name)
    return changed
