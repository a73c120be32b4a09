"""The spec's example payloads (tests/<module>/examples) and storing them through our services.

Examples are read as a partner sends them: numbers as exact Decimals. Tariff examples belong to
DE*ALL; the module test packages use them as tariffs of our party BE*BEC, the CPO of the spec's
location and CDR examples.
"""

from pathlib import Path
from typing import Any

from locations.models import Location
from locations.serializers import LocationSerializer
from locations.services import location_upsert
from ocpi import json
from tariffs.models import Tariff
from tariffs.serializers import TariffSerializer
from tariffs.services import tariff_upsert

TESTS = Path(__file__).resolve().parent


def load(path: Path) -> dict[str, Any]:
    """A JSON example, numbers read as exact Decimals."""
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def example(module: str, name: str) -> dict[str, Any]:
    """The example `name` of tests/<module>/examples."""
    return load(TESTS / module / "examples" / name)


def tariff_example(name: str, **overrides: Any) -> dict[str, Any]:
    """A spec tariff, owned by our party BE*BEC instead of DE*ALL."""
    return {**example("tariffs", name), "country_code": "BE", "party_id": "BEC", **overrides}


def upsert_tariff(payload: dict[str, Any]) -> Tariff:
    """Store a Tariff payload as a PUT from our own systems would."""
    serializer = TariffSerializer(data=payload)
    assert serializer.is_valid(), serializer.errors
    return tariff_upsert(data=serializer.validated_data)


def upsert_location(payload: dict[str, Any], **kwargs: Any) -> Location:
    """Store a Location payload as a PUT from our own systems would."""
    serializer = LocationSerializer(data=payload)
    assert serializer.is_valid(), serializer.errors
    return location_upsert(data=serializer.validated_data, **kwargs)
