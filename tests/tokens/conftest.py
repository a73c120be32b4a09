"""Token fixtures: our CPO party, two eMSP platforms, the spec's token examples, a fake eMSP.

eMSP A hosts DE*TNM and NL*TNM (the parties of the spec's examples); eMSP B hosts DE*BBB.
"""

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from credentials.models import (
    LocalParty,
    PartnerPlatform,
)
from ocpi import json
from tests.conftest import client_for
from tests.partners import only_local_party, registered_emsp
from tests.tokens.fake_emsp import FakeEmsp, running_emsp
from tokens.models import Token
from tokens.serializers import TokenSerializer
from tokens.services import token_put

# Verbatim copies of the spec's examples (see examples/NOTICE.md for licence and defects).
EXAMPLES = Path(__file__).resolve().parent / "examples"
URL = "/ocpi/cpo/2.2.1/tokens"
TOKEN_A = "emsp-a-token"
TOKEN_B = "emsp-b-token"


def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return loaded


def token_payload(uid: str = "TOKEN1", **overrides: Any) -> dict[str, Any]:
    """A complete RFID Token of DE*TNM (token_example_2_full_rfid.json) with `uid`."""
    payload = copy.deepcopy(example("token_example_2_full_rfid.json"))
    payload["uid"] = uid
    payload.update(overrides)
    return payload


def validated(payload: dict[str, Any]) -> dict[str, Any]:
    serializer = TokenSerializer(data=payload)
    assert serializer.is_valid(), serializer.errors
    return dict(serializer.validated_data)


def cache_token(uid: str = "TOKEN1", **overrides: Any) -> Token:
    """A token in our cache, as if the eMSP had PUT it."""
    token, _ = token_put(data=validated(token_payload(uid, **overrides)))
    return token


def make_partner(
    name: str, token: str, *parties: tuple[str, str], tokens_url: str | None = None
) -> PartnerPlatform:
    """A registered eMSP platform calling us with `token`; its tokens Sender at `tokens_url`."""
    endpoints = (("tokens", "SENDER", tokens_url),) if tokens_url is not None else ()
    return registered_emsp(name, token, *parties, endpoints=endpoints)


@pytest.fixture
def our_party(db: None, settings: Any) -> LocalParty:
    """Our one CPO party, BE*BEC, also the platform's default party."""
    settings.OCPI_COUNTRY_CODE, settings.OCPI_PARTY_ID = "BE", "BEC"
    return only_local_party()


@pytest.fixture
def partner_a(our_party: LocalParty) -> PartnerPlatform:
    return make_partner("EmspA", TOKEN_A, ("DE", "TNM"), ("NL", "TNM"))


@pytest.fixture
def partner_b(our_party: LocalParty) -> PartnerPlatform:
    return make_partner("EmspB", TOKEN_B, ("DE", "BBB"))


@pytest.fixture
def client_a(partner_a: PartnerPlatform) -> APIClient:
    return client_for(TOKEN_A)


@pytest.fixture
def client_b(partner_b: PartnerPlatform) -> APIClient:
    return client_for(TOKEN_B)


@pytest.fixture
def emsp() -> Iterator[FakeEmsp]:
    with running_emsp() as running:
        yield running


@pytest.fixture
def emsp_partner(our_party: LocalParty, emsp: FakeEmsp) -> PartnerPlatform:
    """eMSP A (DE*TNM, NL*TNM) with its tokens Sender on the fake eMSP."""
    return make_partner("EmspA", TOKEN_A, ("DE", "TNM"), ("NL", "TNM"), tokens_url=emsp.tokens_url)
