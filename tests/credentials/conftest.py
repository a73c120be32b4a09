"""Fixtures of the credentials tests: our parties, a fake partner platform, OCPI calls."""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
import requests
from django.core.management import call_command
from pytest_django.live_server_helper import LiveServer
from rest_framework.test import APIClient

from credentials.models import Invitation, LocalParty, PartnerPlatform
from tests.conftest import authorization
from tests.credentials.fake_partner import FakePartner, running_partner
from tests.live import LivePlatform
from tests.partners import only_local_party

OUR_BASE_URL = "https://cpo.test"
CREDENTIALS_PATH = "/ocpi/2.2.1/credentials"
VERSIONS_PATH = "/ocpi/versions"
OUR_ROLE = {
    "role": "CPO",
    "business_details": {"name": "Test CPO"},
    "party_id": "CPO",
    "country_code": "NL",
}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Add the logs of live instances (tests/live.py) to the report of a failed test."""
    report = yield
    if report.failed:
        for platform in LivePlatform.running:
            report.sections.append((f"live {platform.name} logs", platform.logs()))
    return report


@dataclass(frozen=True)
class Answer:
    http_status: int
    body: dict[str, Any]

    @property
    def status_code(self) -> int:
        return int(self.body["status_code"])

    @property
    def data(self) -> Any:
        return self.body.get("data")


OcpiCall = Callable[..., Answer]


def calls_us(base_url: str, token: str) -> int:
    """HTTP status of a versions GET on our platform, over real HTTP, with `token`."""
    response = requests.get(
        base_url + VERSIONS_PATH, headers={"Authorization": authorization(token)}, timeout=10
    )
    return response.status_code


@pytest.fixture(autouse=True)
def _our_base_url(settings: Any) -> None:
    settings.OCPI_BASE_URL = OUR_BASE_URL


@pytest.fixture
def our_party(db: None) -> LocalParty:
    """Exactly one local party, whatever the environment made the data migration create."""
    return only_local_party("NL", "CPO", "Test CPO")


@pytest.fixture
def partner() -> Iterator[FakePartner]:
    with running_partner() as fake:
        yield fake


@pytest.fixture
def ocpi_call(api_client: APIClient) -> OcpiCall:
    """Call one of our OCPI endpoints with a credentials token (credentials by default)."""

    def call(
        method: str, token: str | None, body: Any = None, path: str = CREDENTIALS_PATH
    ) -> Answer:
        headers = {"Authorization": authorization(token)} if token else {}
        data = json.dumps(body) if body is not None else ""
        response = api_client.generic(
            method, path, data, content_type="application/json", headers=headers
        )
        return Answer(response.status_code, response.json())

    return call


@dataclass(frozen=True)
class Registration:
    """A partner that registered with us: the token we call it with and the one it uses."""

    partner: PartnerPlatform
    token_b: str
    token_c: str


@pytest.fixture
def registered(
    partner: FakePartner,
    invitation: tuple[Invitation, str],
    our_party: LocalParty,
    ocpi_call: OcpiCall,
) -> Registration:
    """The fake partner registered with us through the real handshake (it is the Sender)."""
    _, token_a = invitation
    answer = ocpi_call("POST", token_a, partner.credentials("token-b"))
    assert answer.status_code == 1000
    partner.calls.clear()
    return Registration(
        PartnerPlatform.objects.get(), token_b="token-b", token_c=answer.data["token"]
    )


@pytest.fixture
def live_platform(live_server: LiveServer, settings: Any, our_party: LocalParty) -> str:
    """Our platform over real HTTP (for partners that call us back); return its base URL."""
    settings.OCPI_BASE_URL = live_server.url
    return str(live_server.url)


@pytest.fixture
def registered_with_partner(partner: FakePartner, live_platform: str) -> PartnerPlatform:
    """We registered with the fake partner (we are the Sender), over real HTTP both ways."""
    token_a = partner.invite()
    call_command(
        "ocpi_register", partner.versions_url, token_a, name="Fake eMSP", stdout=StringIO()
    )
    partner.calls.clear()
    return PartnerPlatform.objects.get()
