"""Location fixtures: our CPO parties of the spec's examples, eMSP partners, the payloads."""

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from credentials.models import (
    LocalParty,
    PartnerPlatform,
)
from locations.models import Location
from locations.serializers import LocationSerializer
from locations.services import location_upsert
from ocpi import json
from tests.conftest import client_for
from tests.partners import registered_emsp

# Verbatim copies of the spec's examples (see examples/NOTICE.md for licence and defects).
EXAMPLES = Path(__file__).resolve().parent / "examples"
# The examples that are complete Location objects.
LOCATION_EXAMPLES = sorted(path.name for path in EXAMPLES.glob("location_example*.json"))
PARTNER_TOKEN = "emsp-token-for-locations"
BASE = "https://cpo.example.com"
URL = "/ocpi/cpo/2.2.1/locations"


def example(name: str) -> dict[str, Any]:
    """An example payload as a partner would send it: numbers read as exact Decimals."""
    loaded: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return loaded


def location_payload(location_id: str = "LOC1", *, evses: int = 1, **overrides: Any) -> Any:
    """A valid Location of BE*BEC (from location_example.json) with `evses` EVSEs."""
    payload = copy.deepcopy(example("location_example.json"))
    template = payload["evses"][0]
    payload["evses"] = [
        {
            **copy.deepcopy(template),
            "uid": f"{location_id}-E{n}",
            "evse_id": f"BE*BEC*E{location_id}{n}",
        }
        for n in range(evses)
    ]
    payload["id"] = location_id
    payload.update(overrides)
    return payload


def validated(payload: dict[str, Any]) -> dict[str, Any]:
    serializer = LocationSerializer(data=payload)
    assert serializer.is_valid(), serializer.errors
    return dict(serializer.validated_data)


def upsert(payload: dict[str, Any], **kwargs: Any) -> Location:
    return location_upsert(data=validated(payload), **kwargs)


@pytest.fixture(autouse=True)
def _public_base_url(settings: Any) -> None:
    settings.OCPI_BASE_URL = BASE


@pytest.fixture
def our_parties(db: None) -> list[LocalParty]:
    """Exactly the CPO parties of the spec's location examples, whatever the data migration
    made (BE*BEC owns location_example.json)."""
    LocalParty.objects.all().delete()
    return [
        LocalParty.objects.create(
            country_code=country, party_id=party, role="CPO", business_name=f"{party} CPO"
        )
        for country, party in [("BE", "BEC"), ("SE", "EVC"), ("NL", "ALF"), ("NL", "ALL")]
    ]


def make_partner(name: str, token: str, *parties: tuple[str, str]) -> PartnerPlatform:
    """A registered eMSP platform with a locations Receiver endpoint, calling us with `token`."""
    url = f"https://{name.lower()}.example.com/ocpi/emsp/2.2.1/locations"
    return registered_emsp(name, token, *parties, endpoints=(("locations", "RECEIVER", url),))


@pytest.fixture
def partner(our_parties: list[LocalParty]) -> PartnerPlatform:
    return make_partner("Emsp", PARTNER_TOKEN, ("DE", "MSP"))


@pytest.fixture
def partner_client(partner: PartnerPlatform) -> APIClient:
    return client_for(PARTNER_TOKEN)


@pytest.fixture
def make_location(our_parties: list[LocalParty]) -> Callable[..., Location]:
    def make(location_id: str = "LOC1", *, evses: int = 1, **overrides: Any) -> Location:
        return upsert(location_payload(location_id, evses=evses, **overrides))

    return make
