"""Tariff fixtures: our CPO party of the spec's examples, eMSP partners, the example payloads."""

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from credentials.models import (
    LocalParty,
    PartnerEndpoint,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
)
from ocpi import json
from push.models import Change
from tariffs.models import Tariff
from tariffs.serializers import TariffSerializer
from tariffs.services import tariff_upsert

# Verbatim copies of the spec's examples (see examples/NOTICE.md for licence and defects).
EXAMPLES = Path(__file__).resolve().parent / "examples"
# Every tariff example of the spec that is a complete Tariff object.
TARIFF_EXAMPLES = sorted(
    path.name for path in EXAMPLES.glob("tariff*.json") if path.name != "tariff_put_example.json"
)


def example(name: str) -> dict[str, Any]:
    """An example payload as a partner would send it: numbers read as exact Decimals."""
    loaded: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return loaded


def simple_tariff(tariff_id: str = "T1", **overrides: Any) -> dict[str, Any]:
    """A minimal valid Tariff of DE*ALL: one element, one ENERGY component."""
    tariff = copy.deepcopy(example("tariff_8_simple_025kwh.json"))
    tariff["id"] = tariff_id
    tariff.update(overrides)
    return tariff


def validated(payload: dict[str, Any]) -> dict[str, Any]:
    serializer = TariffSerializer(data=payload)
    assert serializer.is_valid(), serializer.errors
    return dict(serializer.validated_data)


@pytest.fixture
def cpo_party(db: None) -> LocalParty:
    """DE*ALL, the owner in the spec's tariff examples, as one of our parties."""
    return LocalParty.objects.create(country_code="DE", party_id="ALL", business_name="All CPO")


@pytest.fixture
def upsert(cpo_party: LocalParty) -> Callable[[dict[str, Any]], Tariff]:
    def run(payload: dict[str, Any]) -> Tariff:
        return tariff_upsert(data=validated(payload))

    return run


@pytest.fixture
def make_emsp(db: None) -> Callable[..., PartnerPlatform]:
    """A registered eMSP platform with the given parties and Receiver endpoints."""

    def make(
        token: str,
        *parties: str,
        receivers: tuple[str, ...] = ("tariffs",),
        url: str = "http://127.0.0.1:9/ocpi/emsp/2.2.1",
    ) -> PartnerPlatform:
        partner = PartnerPlatform(
            name=f"eMSP {token}",
            status=PartnerStatus.REGISTERED,
            versions_url=f"{url}/versions",
        )
        partner.set_incoming_token(token)
        partner.set_outgoing_token(f"out-{token}")
        partner.save()
        for party in parties or ("EMS",):
            PartnerRole.objects.create(
                partner=partner,
                role="EMSP",
                country_code="NL",
                party_id=party,
                business_details={"name": party},
            )
        for module in receivers:
            PartnerEndpoint.objects.create(
                partner=partner, identifier=module, role="RECEIVER", url=f"{url}/{module}"
            )
        return partner

    return make


def last_payload() -> dict[str, Any]:
    """The body of the newest queued push."""
    change = Change.objects.order_by("pk").last()
    assert change is not None
    assert change.payload is not None
    payload: dict[str, Any] = change.payload
    return payload
