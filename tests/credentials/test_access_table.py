"""The access table of credentials.access, tested as one: every endpoint we serve and every
push, for a caller holding a party in each role, the party owning the objects asked for
(DE*TNM: its token, its sessions and CDRs) or another owning objects of its own (NL*BBB).

Each case asserts the HTTP status, the OCPI status code, and that no object of a party other
than the caller's own (or ours, for the catalogue) appears in the answer or in a push.
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from chargers.models import ChargePointCall
from credentials.access import CATALOGUE_ROLES, TOKEN_OWNER_ROLES
from credentials.models import LocalParty, PartnerPlatform
from push.models import Change, Delivery
from sessions.models import Session
from sessions.services import session_stop
from tests.conftest import client_for
from tests.examples import upsert_location, upsert_tariff
from tests.partners import registered_emsp
from tests.sessions.conftest import START, TARIFFS, cdr_token, location_payload, start
from tests.sessions.conftest import tariff_payload as session_tariff
from tests.tokens.conftest import cache_token, token_payload

ROLES = ["EMSP", "NSP", "OTHER", "HUB", "CPO"]
OWNER = ("DE", "TNM")  # the party the token, one session and one CDR of each kind belong to
OTHER = ("NL", "BBB")  # another eMSP party with its own session and CDR
CALLER_TOKEN = "access-table-caller"
MODULES = ("locations", "tariffs", "sessions", "cdrs")
TOKEN_PATH = "/ocpi/cpo/2.2.1/tokens/DE/TNM/TOKEN1"
RESULTS_URL = "https://caller.example.com/results/1"


@dataclass(frozen=True)
class World:
    caller: PartnerPlatform
    party: tuple[str, str]
    role: str
    active_session: Session

    @property
    def owns_tokens(self) -> bool:
        """credentials.access: tokens, sessions, CDRs are the token's eMSP's, as EMSP only."""
        return self.role == "EMSP"

    @property
    def sees_owner(self) -> bool:
        return self.owns_tokens and self.party == OWNER


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=[OWNER, OTHER], ids=["own", "foreign"])
def party(request: pytest.FixtureRequest) -> tuple[str, str]:
    return tuple(request.param)  # type: ignore[return-value]


@pytest.fixture
def world(db: None, settings: Any, role: str, party: tuple[str, str]) -> World:
    """The caller (party in `role`, Receiver endpoints for every pushed module), then our
    catalogue, tokens, sessions and CDRs of both eMSP parties, so every push has run."""
    settings.OCPI_COUNTRY_CODE, settings.OCPI_PARTY_ID = "BE", "BEC"
    LocalParty.objects.all().delete()
    LocalParty.objects.create(country_code="BE", party_id="BEC", business_name="BeCharged")
    url = "https://caller.example.com/ocpi/2.2.1/"
    caller = registered_emsp(
        "Caller",
        CALLER_TOKEN,
        party,
        endpoints=tuple((module, "RECEIVER", url + module) for module in MODULES),
        role=role,
    )
    for tariff_id, name in TARIFFS.items():
        upsert_tariff(session_tariff(tariff_id, name))
    upsert_location(location_payload())
    cache_token("TOKEN1")
    cache_token("TOKEN2", country_code="NL", party_id="BBB")
    for country, party_id in (OWNER, OTHER):
        session = start("3257", "1", token=cdr_token("0001", country, party_id))
        session_stop(session=session, at=START + timedelta(hours=1))
    active = start("3256", "1", token=cdr_token("0002", *OWNER))
    return World(caller=caller, party=party, role=role, active_session=active)


def headers(world: World) -> dict[str, str]:
    return {
        "OCPI-from-country-code": world.party[0],
        "OCPI-from-party-id": world.party[1],
        "OCPI-to-country-code": "BE",
        "OCPI-to-party-id": "BEC",
    }


def parties_in(data: Any) -> set[tuple[str, str]]:
    """Every (country_code, party_id) an answer or payload names, at any depth: the owners
    of the objects in it (a session names our party and, in its cdr_token, the eMSP's)."""
    if isinstance(data, list):
        return set().union(*(parties_in(item) for item in data))
    if not isinstance(data, dict):
        return set()
    own = {(data["country_code"], data["party_id"])} if "party_id" in data else set()
    return own.union(*(parties_in(value) for value in data.values()))


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any = None
    functional: bool = True


def call_of(endpoint: str, world: World) -> Call:
    session_id = world.active_session.ocpi_id
    return {
        "versions": Call("GET", "/ocpi/versions", functional=False),
        "version details": Call("GET", "/ocpi/2.2.1", functional=False),
        "credentials": Call("GET", "/ocpi/2.2.1/credentials", functional=False),
        "locations list": Call("GET", "/ocpi/cpo/2.2.1/locations"),
        "location": Call("GET", "/ocpi/cpo/2.2.1/locations/LOC1"),
        "evse": Call("GET", "/ocpi/cpo/2.2.1/locations/LOC1/3256"),
        "connector": Call("GET", "/ocpi/cpo/2.2.1/locations/LOC1/3256/1"),
        "tariffs": Call("GET", "/ocpi/cpo/2.2.1/tariffs"),
        "token GET": Call("GET", TOKEN_PATH),
        "token PUT": Call("PUT", TOKEN_PATH, token_payload("TOKEN1", valid=False)),
        "token PATCH": Call(
            "PATCH", TOKEN_PATH, {"valid": False, "last_updated": "2099-01-01T00:00:00Z"}
        ),
        "sessions": Call("GET", "/ocpi/cpo/2.2.1/sessions?date_from=2000-01-01T00:00:00Z"),
        "charging preferences": Call(
            "PUT",
            f"/ocpi/cpo/2.2.1/sessions/{session_id}/charging_preferences",
            {"profile_type": "FAST"},
        ),
        "cdrs": Call("GET", "/ocpi/cpo/2.2.1/cdrs"),
        "STOP_SESSION command": Call(
            "POST",
            "/ocpi/cpo/2.2.1/commands/STOP_SESSION",
            {"response_url": RESULTS_URL, "session_id": session_id},
        ),
        "charging profile GET": Call(
            "GET",
            f"/ocpi/cpo/2.2.1/chargingprofiles/{session_id}?duration=60&response_url={RESULTS_URL}",
        ),
    }[endpoint]


OURS = {("BE", "BEC")}


def expected(endpoint: str, world: World) -> tuple[int, int, set[tuple[str, str]], str | None]:
    """HTTP status, OCPI status code, the parties named in the answer and (commands, charging
    profiles) the response's result, by the table. The active session is the owner's and runs
    on no charge point of ours: its eMSP reaches it (NOT_SUPPORTED), nobody else does."""
    mine = OURS | {world.party} if world.owns_tokens else set()
    owner_only = (200, 1000) if world.sees_owner else (404, 2000)
    session_result = "NOT_SUPPORTED" if world.sees_owner else "UNKNOWN_SESSION"
    if endpoint == "STOP_SESSION command":
        if not world.owns_tokens:  # commands come from an eMSP party only
            return (200, 2001, set(), None)
        return (200, 1000, set(), session_result)
    if endpoint == "charging profile GET":
        return (200, 1000, set(), session_result)
    answer: tuple[int, int, set[tuple[str, str]]] = {
        "versions": (200, 1000, set()),
        "version details": (200, 1000, set()),
        "credentials": (200, 1000, OURS),
        "locations list": (200, 1000, OURS),
        "location": (200, 1000, OURS),
        "evse": (200, 1000, set()),
        "connector": (200, 1000, set()),
        "tariffs": (200, 1000, OURS),
        "token GET": (*owner_only, {OWNER} if world.sees_owner else set()),
        "token PUT": (*owner_only, set()),
        "token PATCH": (*owner_only, set()),
        "sessions": (200, 1000, mine),
        "charging preferences": (*owner_only, set()),
        "cdrs": (200, 1000, mine),
    }[endpoint]
    return (*answer, None)


ENDPOINTS = [
    "versions",
    "version details",
    "credentials",
    "locations list",
    "location",
    "evse",
    "connector",
    "tariffs",
    "token GET",
    "token PUT",
    "token PATCH",
    "sessions",
    "charging preferences",
    "cdrs",
    "STOP_SESSION command",
    "charging profile GET",
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_access_table(endpoint: str, world: World) -> None:
    call = call_of(endpoint, world)
    client: APIClient = client_for(CALLER_TOKEN)

    response = client.generic(
        call.method,
        call.path,
        json.dumps(call.body) if call.body is not None else "",
        content_type="application/json",
        headers=headers(world) if call.functional else {},
    )

    body = response.json()
    data = body.get("data")
    result = data.get("result") if isinstance(data, dict) else None
    answer = (response.status_code, body["status_code"], parties_in(data), result)
    assert answer == expected(endpoint, world)
    # Nothing reached a charge point, nor was a result queued for the caller.
    assert not ChargePointCall.objects.exists()
    assert not Change.objects.filter(url=RESULTS_URL).exists()


def pushed(world: World, module: str) -> set[tuple[str, str, str]]:
    """(method, party addressed, parties the payload names) of every push to the caller."""
    return {
        (
            d.change.method,
            f"{d.to_country_code}*{d.to_party_id}",
            repr(sorted(parties_in(d.change.payload))),
        )
        for d in Delivery.objects.filter(
            partner=world.caller, change__module=module
        ).select_related("change")
    }


def expected_pushes(world: World, module: str) -> set[tuple[str, str, str]]:
    to = f"{world.party[0]}*{world.party[1]}"
    catalogue = world.role in CATALOGUE_ROLES
    token_owner = world.role in TOKEN_OWNER_ROLES
    named = repr(sorted(OURS | {world.party}))
    return {
        "locations": {("PUT", to, repr(sorted(OURS)))} if catalogue else set(),
        "tariffs": {("PUT", to, repr(sorted(OURS)))} if catalogue else set(),
        "sessions": {("PUT", to, named), ("PATCH", to, "[]")} if token_owner else set(),
        "cdrs": {("POST", to, named)} if token_owner else set(),
    }[module]


@pytest.mark.parametrize("module", MODULES)
def test_the_pushes_of_the_access_table(module: str, world: World) -> None:
    assert pushed(world, module) == expected_pushes(world, module)
