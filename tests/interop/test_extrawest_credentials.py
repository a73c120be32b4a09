"""Credentials handshake, rotation and unregistration against extrawest-ocpi as the eMSP.

Our platform runs in `live_server` (real HTTP on loopback, threaded: the peer calls our
versions endpoint back while our own request to it is still open); the third-party peer runs
in its own process (tests/interop/peer.py). Both sides are checked: our database rows, and
what the peer stored, received and sent (its /_control/state). credentials.asciidoc.

The peer never starts a handshake itself, so where it is the handshake's Sender the test plays
that part: it makes a token valid on the peer (`accept_token`) and POSTs / PUTs it to us.
What we tolerate from the peer is listed in extrawest_peer/README.md ("Deviations seen from
our platform").
"""

import base64
import io
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django.live_server_helper import LiveServer

from credentials.models import (
    Invitation,
    PartnerEndpoint,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
)
from ocpi import endpoints
from tests.interop.peer import ExtrawestPeer, ocpi_token_header
from tests.partners import only_local_party

pytestmark = [pytest.mark.interop, pytest.mark.django_db(transaction=True)]

TIMEOUT = 15
PEER_NAME = "extrawest"
PEER_CREDENTIALS_PATH = "/ocpi/emsp/2.2.1/credentials/"
# What the peer says about itself (app.py own_credentials, as the library serialises it).
PEER_ROLE_ANSWERED = {
    "role": "EMSP",
    "business_details": {"name": "Extrawest test eMSP", "website": None, "logo": None},
    "party_id": "XWE",
    "country_code": "DE",
}
# What the test sends on the peer's behalf when it plays the peer's Sender side.
PEER_ROLE_SENT = {
    "role": "EMSP",
    "business_details": {"name": "Extrawest test eMSP"},
    "party_id": "XWE",
    "country_code": "DE",
}
OUR_BUSINESS_DETAILS = {"name": "Interop CPO", "website": "https://cpo.example.com"}
OUR_ROLE = {
    "role": "CPO",
    "business_details": OUR_BUSINESS_DETAILS,
    "party_id": "TNM",
    "country_code": "NL",
}
# The peer keeps what it parsed: unset optional fields become null.
OUR_ROLE_AS_PEER_STORES = {
    **OUR_ROLE,
    "business_details": {**OUR_BUSINESS_DETAILS, "logo": None},
}


def basic_token(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


@dataclass(frozen=True)
class Ours:
    """Our platform as the peer sees it over HTTP."""

    base_url: str

    @property
    def versions_url(self) -> str:
        return self.base_url + "/ocpi/versions"

    @property
    def details_url(self) -> str:
        return self.base_url + "/ocpi/2.2.1"

    @property
    def credentials_url(self) -> str:
        return self.base_url + "/ocpi/2.2.1/credentials"

    def details(self) -> dict[str, Any]:
        """Our version details `data`, as the versions module publishes them right now."""
        return {
            "version": "2.2.1",
            "endpoints": [
                {"identifier": e.identifier, "role": e.role.value, "url": e.url}
                for e in endpoints.registered()
            ],
        }

    def credentials(self, token: str) -> dict[str, Any]:
        return {"token": token, "url": self.versions_url, "roles": [OUR_ROLE]}

    def versions_status(self, token: str) -> int:
        """HTTP status of GET versions with `token`: 200 while the token is valid."""
        return requests.get(
            self.versions_url, headers=ocpi_token_header(token), timeout=TIMEOUT
        ).status_code

    def call_credentials(self, method: str, token: str, body: Any = None) -> requests.Response:
        return requests.request(
            method,
            self.credentials_url,
            json=body,
            headers=ocpi_token_header(token),
            timeout=TIMEOUT,
        )


@pytest.fixture
def ours(live_server: LiveServer, settings: Any) -> Ours:
    """Our platform on live_server, publishing live_server URLs, with exactly one party (not
    the interop conftest's BE*BEC: these tests are about registration, not a module)."""
    settings.OCPI_BASE_URL = live_server.url
    only_local_party("NL", "TNM", "Interop CPO", website="https://cpo.example.com")
    return Ours(str(live_server.url))


def peer_endpoints(peer: ExtrawestPeer) -> list[tuple[str, str, str]]:
    """The peer's published endpoints as we store them: (identifier, role, url), by
    identifier; its credentials endpoint is published as RECEIVER and stored as SENDER
    (the role of credentials is meaningless, credentials.asciidoc)."""
    return [
        ("cdrs", "RECEIVER", peer.endpoint_url("cdrs")),
        ("chargingprofiles", "SENDER", peer.endpoint_url("chargingprofiles")),
        ("commands", "SENDER", peer.endpoint_url("commands")),
        ("credentials", "SENDER", peer.endpoint_url("credentials")),
        ("hubclientinfo", "RECEIVER", peer.endpoint_url("hubclientinfo")),
        ("locations", "RECEIVER", peer.endpoint_url("locations")),
        ("sessions", "RECEIVER", peer.endpoint_url("sessions")),
        ("tariffs", "RECEIVER", peer.endpoint_url("tariffs")),
        ("tokens", "SENDER", peer.endpoint_url("tokens")),
    ]


def peer_versions_status(peer: ExtrawestPeer, token: str) -> int:
    """HTTP status of GET on the peer's versions with `token`: 200 while the peer accepts it."""
    return requests.get(
        peer.versions_url, headers=ocpi_token_header(token), timeout=TIMEOUT
    ).status_code


def stored_endpoints(partner: PartnerPlatform) -> list[tuple[str, str, str]]:
    return list(
        partner.endpoints.order_by("identifier", "role").values_list("identifier", "role", "url")
    )


def stored_roles(partner: PartnerPlatform) -> list[dict[str, Any]]:
    return [
        {
            "role": r.role,
            "business_details": r.business_details,
            "party_id": r.party_id,
            "country_code": r.country_code,
        }
        for r in partner.roles.all()
    ]


def log_lines(entries: list[dict[str, Any]]) -> list[tuple[str, str, str | None, int | None]]:
    """The peer's inbound request log as (method, path, decoded token, response status)."""
    return [
        (e["method"], e["path"], e["authorization"]["token_decoded"], e["response_status"])
        for e in entries
    ]


def outbound_lines(entries: list[dict[str, Any]]) -> list[tuple[str, str, str | None, int]]:
    """The peer's outbound calls as (method, url, decoded token, HTTP status)."""
    return [
        (e["method"], e["url"], e["authorization"]["token_decoded"], e["status_code"])
        for e in entries
    ]


def invite(name: str = PEER_NAME) -> dict[str, str]:
    out = io.StringIO()
    call_command("ocpi_invite", name, "--json", stdout=out)
    return dict(json.loads(out.getvalue()))


@dataclass(frozen=True)
class PeerWithUs:
    """The peer registered with us (we were the Receiver)."""

    token_a: str  # ours, used up
    token_b: str  # the peer's: we call it with this
    token_c: str  # ours: it calls us with this
    answer: requests.Response


def discover_our_credentials_url(versions_url: str, token_a: str) -> str:
    """What a Sender does first: our versions, then our 2.2.1 details, with token A."""
    auth = ocpi_token_header(token_a)
    versions = requests.get(versions_url, headers=auth, timeout=TIMEOUT).json()["data"]
    (details_url,) = [v["url"] for v in versions if v["version"] == "2.2.1"]
    details = requests.get(details_url, headers=auth, timeout=TIMEOUT).json()["data"]
    (url,) = [e["url"] for e in details["endpoints"] if e["identifier"] == "credentials"]
    return str(url)


def peer_registers_with_us(peer: ExtrawestPeer, ours: Ours) -> PeerWithUs:
    """Play the peer's Sender side: token B made valid on the peer, POSTed to us with token A."""
    invitation = invite()
    token_a = invitation["token"]
    credentials_url = discover_our_credentials_url(invitation["versions_url"], token_a)
    assert credentials_url == ours.credentials_url
    token_b = f"xw-token-b-{uuid.uuid4()}"
    peer.accept_token(token_b)
    answer = requests.post(
        credentials_url,
        json={"token": token_b, "url": peer.versions_url, "roles": [PEER_ROLE_SENT]},
        headers={**ocpi_token_header(token_a), "X-Correlation-ID": "corr-register-1"},
        timeout=TIMEOUT,
    )
    return PeerWithUs(token_a, token_b, answer.json()["data"]["token"], answer)


def we_register_with_peer(peer: ExtrawestPeer, token_a: str | None = None) -> str:
    out = io.StringIO()
    call_command(
        "ocpi_register",
        peer.versions_url,
        token_a or peer.issue_token_a(),
        name=PEER_NAME,
        stdout=out,
    )
    return out.getvalue()


def partner_command(action: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("ocpi_partner", action, PEER_NAME, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- 1. the peer registers with us ------------------------------------------------------------


def test_peer_registers_with_us(peer: ExtrawestPeer, ours: Ours) -> None:
    registration = peer_registers_with_us(peer, ours)

    answer = registration.answer
    token_c = registration.token_c
    assert answer.status_code == 200
    assert answer.json() == {
        "data": {"token": token_c, "url": ours.versions_url, "roles": [OUR_ROLE]},
        "status_code": 1000,
        "timestamp": answer.json()["timestamp"],
    }
    assert token_c not in (registration.token_a, registration.token_b)
    # We fetched its versions and 2.2.1 details with token B, Base64-encoded, carrying a
    # request id each and the correlation id of the POST we were answering.
    log = peer.state()["request_log"]
    assert log_lines(log) == [
        ("GET", "/ocpi/versions", registration.token_b, 200),
        ("GET", "/ocpi/2.2.1/details", registration.token_b, 200),
    ]
    assert [e["headers"]["authorization"] for e in log] == [basic_token(registration.token_b)] * 2
    assert [e["headers"]["x-correlation-id"] for e in log] == ["corr-register-1"] * 2
    request_ids = [e["headers"]["x-request-id"] for e in log]
    assert len(set(request_ids)) == 2
    assert [str(uuid.UUID(value)) for value in request_ids] == request_ids
    assert answer.headers["X-Correlation-ID"] == "corr-register-1"
    # What we stored.
    partner = PartnerPlatform.objects.get()
    assert partner.name == PEER_NAME
    assert partner.status == PartnerStatus.REGISTERED
    assert partner.versions_url == peer.versions_url
    assert partner.version == "2.2.1"
    assert partner.plain_tokens is False
    assert partner.incoming_token == token_c
    assert partner.outgoing_token == registration.token_b
    assert partner.next_incoming_token_digest is None
    assert stored_endpoints(partner) == peer_endpoints(peer)
    assert stored_roles(partner) == [PEER_ROLE_SENT]
    invitation = Invitation.objects.get()
    assert invitation.state == "used"
    assert invitation.partner == partner
    # Token A is dead; token C works; a second POST with C is the "already registered" 405.
    assert ours.versions_status(registration.token_a) == 401
    assert ours.versions_status(token_c) == 200
    again = ours.call_credentials(
        "POST",
        token_c,
        {"token": registration.token_b, "url": peer.versions_url, "roles": [PEER_ROLE_SENT]},
    )
    assert again.status_code == 405
    assert again.json() == {
        "status_code": 2000,
        "status_message": "Already registered: use PUT to update or DELETE to end",
        "timestamp": again.json()["timestamp"],
    }
    assert PartnerPlatform.objects.count() == 1
    assert PartnerEndpoint.objects.count() == 9
    assert PartnerRole.objects.count() == 1


def test_token_a_is_refused_once_used(peer: ExtrawestPeer, ours: Ours) -> None:
    registration = peer_registers_with_us(peer, ours)

    reused = ours.call_credentials(
        "POST",
        registration.token_a,
        {"token": "another-token-b", "url": peer.versions_url, "roles": [PEER_ROLE_SENT]},
    )

    assert reused.status_code == 401
    assert reused.json() == {
        "status_code": 2000,
        "status_message": "Unknown or malformed credentials token.",
        "timestamp": reused.json()["timestamp"],
    }
    assert reused.headers["WWW-Authenticate"] == "Token"
    assert PartnerPlatform.objects.count() == 1
    assert len(peer.state()["request_log"]) == 2  # no new fetch from the peer


def test_peer_registers_with_us_through_the_harness(peer: ExtrawestPeer, ours: Ours) -> None:
    """The harness's Sender (/_control/register) on the peer's side, end to end: it finds
    our credentials endpoint with token A and we call it back with the token it offers."""
    token_a = invite()["token"]

    result = peer.register(token_a, ours.versions_url)

    assert result["ok"] is True
    partner = PartnerPlatform.objects.get()
    their_token = result["token_c"]  # the token the peer offered us (token B in our terms)
    assert outbound_lines(peer.state()["outbound_log"]) == [
        ("GET", ours.versions_url, token_a, 200),
        ("GET", ours.details_url, token_a, 200),
        ("POST", ours.credentials_url, token_a, 200),
    ]
    assert log_lines(peer.state()["request_log"]) == [
        ("GET", "/ocpi/versions", their_token, 200),
        ("GET", "/ocpi/2.2.1/details", their_token, 200),
    ]
    assert result["client"]["client_token"] == partner.incoming_token
    assert result["client"]["client_roles"] == [OUR_ROLE]
    assert partner.status == PartnerStatus.REGISTERED
    assert partner.outgoing_token == their_token
    assert stored_endpoints(partner) == peer_endpoints(peer)
    assert stored_roles(partner) == [PEER_ROLE_SENT]
    assert peer.call("GET", module="credentials")["status_code"] == 200


# --- 2. we register with the peer -------------------------------------------------------------


def test_we_register_with_peer(peer: ExtrawestPeer, ours: Ours) -> None:
    token_a = peer.issue_token_a()

    output = we_register_with_peer(peer, token_a)

    partner = PartnerPlatform.objects.get()
    assert output == f"Registered with {PEER_NAME} (id {partner.pk}): DE*XWE EMSP\n"
    state = peer.state()
    (client,) = state["clients"]
    token_b = partner.incoming_token
    token_c = client["token_c"]
    # The peer: our token B, our versions URL and endpoints, our roles; token A used up.
    assert client["origin"] == "credentials POST"
    assert client["client_token"] == token_b
    assert client["client_versions_url"] == ours.versions_url
    assert client["client_endpoints"] == ours.details()
    assert client["client_roles"] == [OUR_ROLE_AS_PEER_STORES]
    assert client["token_a_used"] == token_a
    assert state["token_a"] == {}
    assert [t["token"] for t in state["revoked_tokens"]] == [token_a]
    # Our three calls with token A, each with its own request id and a correlation id.
    log = state["request_log"]
    assert log_lines(log) == [
        ("GET", "/ocpi/versions", token_a, 200),
        ("GET", "/ocpi/2.2.1/details", token_a, 200),
        ("POST", PEER_CREDENTIALS_PATH, token_a, 200),
    ]
    assert log[2]["body"] == ours.credentials(token_b)
    assert log[2]["headers"]["content-type"] == "application/json"
    assert len({e["headers"]["x-request-id"] for e in log}) == 3
    assert all(e["headers"]["x-correlation-id"] for e in log)
    # It fetched our versions and details with token B while our POST was open.
    assert outbound_lines(state["outbound_log"]) == [
        ("GET", ours.versions_url, token_b, 200),
        ("GET", ours.details_url, token_b, 200),
    ]
    # Us: its token C, its roles and endpoints.
    assert partner.name == PEER_NAME
    assert partner.status == PartnerStatus.REGISTERED
    assert partner.versions_url == peer.versions_url
    assert partner.version == "2.2.1"
    assert partner.plain_tokens is False
    assert partner.outgoing_token == token_c
    assert partner.next_incoming_token_digest is None
    assert stored_endpoints(partner) == peer_endpoints(peer)
    assert stored_roles(partner) == [PEER_ROLE_ANSWERED]


def test_after_registration_both_sides_call_each_other(peer: ExtrawestPeer, ours: Ours) -> None:
    we_register_with_peer(peer)
    partner = PartnerPlatform.objects.get()
    token_c = partner.outgoing_token

    theirs = peer.call("GET", module="credentials")
    output, errors = partner_command("refresh")

    assert theirs["url"] == ours.credentials_url
    assert theirs["status_code"] == 200
    assert theirs["body"] == {
        "data": ours.credentials(partner.incoming_token),
        "status_code": 1000,
        "timestamp": theirs["body"]["timestamp"],
    }
    assert errors == ""
    assert output.splitlines()[0] == f"{PEER_NAME} (id {partner.pk}): REGISTERED, version 2.2.1"
    log = peer.state()["request_log"]
    assert log_lines(log[3:]) == [
        ("GET", "/ocpi/versions", token_c, 200),
        ("GET", "/ocpi/2.2.1/details", token_c, 200),
    ]
    partner.refresh_from_db()
    assert partner.last_error == ""
    assert stored_endpoints(partner) == peer_endpoints(peer)


# --- 3. rotation from our side -----------------------------------------------------------------


def test_we_rotate_credentials(peer: ExtrawestPeer, ours: Ours) -> None:
    we_register_with_peer(peer)
    partner = PartnerPlatform.objects.get()
    old_b, old_c = partner.incoming_token, partner.outgoing_token

    output, errors = partner_command("rotate")

    partner.refresh_from_db()
    new_b, new_c = partner.incoming_token, partner.outgoing_token
    assert errors == ""
    assert output.splitlines()[0] == f"{PEER_NAME} (id {partner.pk}): REGISTERED, version 2.2.1"
    assert new_b != old_b
    assert new_c != old_c
    assert partner.next_incoming_token_digest is None
    state = peer.state()
    # Our PUT carried the new token B under the old token C ...
    put = state["request_log"][-1]
    assert log_lines([put]) == [("PUT", PEER_CREDENTIALS_PATH, old_c, 200)]
    assert put["body"] == ours.credentials(new_b)
    assert put["response_body"]["data"]["token"] == new_c
    # ... and the peer fetched our versions with the new token B before it answered: those
    # GETs succeeded while B was only our "next" token, switched in after its answer.
    assert outbound_lines(state["outbound_log"][2:]) == [
        ("GET", ours.versions_url, new_b, 200),
        ("GET", ours.details_url, new_b, 200),
    ]
    (client,) = state["clients"]
    assert client["token_c"] == new_c
    assert client["client_token"] == new_b
    assert client["previous_token_c"] == old_c
    # Only the new tokens work, on both sides.
    assert ours.versions_status(old_b) == 401
    assert ours.versions_status(new_b) == 200
    assert peer_versions_status(peer, old_c) == 401
    assert peer_versions_status(peer, new_c) == 200
    partner_command("refresh")
    assert log_lines(peer.state()["request_log"][-2:]) == [
        ("GET", "/ocpi/versions", new_c, 200),
        ("GET", "/ocpi/2.2.1/details", new_c, 200),
    ]


# --- 4. rotation from the peer's side ----------------------------------------------------------


def test_peer_rotates_credentials(peer: ExtrawestPeer, ours: Ours) -> None:
    registration = peer_registers_with_us(peer, ours)
    new_b = f"xw-token-b2-{uuid.uuid4()}"
    peer.accept_token(new_b)

    answer = ours.call_credentials(
        "PUT",
        registration.token_c,
        {"token": new_b, "url": peer.versions_url, "roles": [PEER_ROLE_SENT]},
    )

    assert answer.status_code == 200
    new_c = answer.json()["data"]["token"]
    assert answer.json() == {
        "data": {"token": new_c, "url": ours.versions_url, "roles": [OUR_ROLE]},
        "status_code": 1000,
        "timestamp": answer.json()["timestamp"],
    }
    assert new_c != registration.token_c
    assert log_lines(peer.state()["request_log"][2:]) == [
        ("GET", "/ocpi/versions", new_b, 200),
        ("GET", "/ocpi/2.2.1/details", new_b, 200),
    ]
    partner = PartnerPlatform.objects.get()
    assert partner.status == PartnerStatus.REGISTERED
    assert partner.incoming_token == new_c
    assert partner.outgoing_token == new_b
    assert stored_endpoints(partner) == peer_endpoints(peer)
    assert stored_roles(partner) == [PEER_ROLE_SENT]
    assert ours.versions_status(registration.token_c) == 401
    assert ours.versions_status(new_c) == 200


# --- 5. unregistration -------------------------------------------------------------------------


def test_we_unregister(peer: ExtrawestPeer, ours: Ours) -> None:
    we_register_with_peer(peer)
    partner = PartnerPlatform.objects.get()
    token_b, token_c = partner.incoming_token, partner.outgoing_token

    output, errors = partner_command("unregister")

    assert errors == ""
    assert output.splitlines()[0] == f"{PEER_NAME} (id {partner.pk}): UNREGISTERED, version 2.2.1"
    state = peer.state()
    delete = state["request_log"][-1]
    assert log_lines([delete]) == [("DELETE", PEER_CREDENTIALS_PATH, token_c, 200)]
    assert delete["response_body"]["status_code"] == 1000
    assert state["clients"] == []
    assert state["revoked_tokens"][-1]["token"] == token_c
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.UNREGISTERED
    assert partner.unregistered_at is not None
    assert partner.incoming_token_digest is None
    assert partner.outgoing_token_sealed == ""
    assert ours.versions_status(token_b) == 401
    assert peer_versions_status(peer, token_c) == 401


def test_peer_unregisters(peer: ExtrawestPeer, ours: Ours) -> None:
    we_register_with_peer(peer)
    token_b = PartnerPlatform.objects.get().incoming_token

    deleted = peer.call("DELETE", module="credentials")

    assert deleted["url"] == ours.credentials_url
    assert deleted["status_code"] == 200
    assert deleted["body"] == {"status_code": 1000, "timestamp": deleted["body"]["timestamp"]}
    partner = PartnerPlatform.objects.get()
    assert partner.status == PartnerStatus.UNREGISTERED
    assert partner.incoming_token_digest is None
    assert partner.outgoing_token_sealed == ""
    again = peer.call("GET", module="credentials")
    assert again["status_code"] == 401
    assert again["body"]["status_code"] == 2000
    assert ours.versions_status(token_b) == 401


# --- 6. registering twice ----------------------------------------------------------------------


def test_registered_peer_posting_again_gets_405(peer: ExtrawestPeer, ours: Ours) -> None:
    we_register_with_peer(peer)
    partner = PartnerPlatform.objects.get()
    token_b = partner.incoming_token

    posted = peer.call(
        "POST",
        module="credentials",
        json={"token": "yet-another-token", "url": peer.versions_url, "roles": [PEER_ROLE_SENT]},
    )

    assert posted["status_code"] == 405
    assert posted["body"] == {
        "status_code": 2000,
        "status_message": "Already registered: use PUT to update or DELETE to end",
        "timestamp": posted["body"]["timestamp"],
    }
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.REGISTERED
    assert partner.incoming_token == token_b
    assert ours.versions_status(token_b) == 200


def test_registering_again_with_a_used_token_a_stores_nothing(
    peer: ExtrawestPeer, ours: Ours
) -> None:
    token_a = peer.issue_token_a()
    we_register_with_peer(peer, token_a)
    partner = PartnerPlatform.objects.get()
    tokens = (partner.incoming_token, partner.outgoing_token)

    with pytest.raises(CommandError) as failure:
        we_register_with_peer(peer, token_a)

    assert str(failure.value) == (
        "Reading the partner's versions and endpoints failed (OCPI 3001): "
        f"{peer.versions_url} refused our token: "
        f"GET {peer.versions_url}: HTTP 401, token refused"
    )
    assert PartnerPlatform.objects.count() == 1
    assert PartnerEndpoint.objects.count() == 9
    partner.refresh_from_db()
    assert (partner.incoming_token, partner.outgoing_token) == tokens
    state = peer.state()
    # Refused in Base64, we tried the token raw (the 2.1.1 style, transport_and_format) and
    # stopped there: no POST.
    retries = state["request_log"][3:]
    assert [(e["method"], e["path"], e["response_status"]) for e in retries] == [
        ("GET", "/ocpi/versions", 401)
    ] * 2
    assert [e["headers"]["authorization"] for e in retries] == [
        basic_token(token_a),
        f"Token {token_a}",
    ]
    assert len(state["clients"]) == 1


def test_registering_again_while_registered_is_refused_and_withdrawn(
    peer: ExtrawestPeer, ours: Ours
) -> None:
    """A second relationship would put DE*XWE behind two platforms: we refuse the peer's
    answer and DELETE the registration it has just made, so it keeps only the first."""
    we_register_with_peer(peer)
    partner = PartnerPlatform.objects.get()
    tokens = (partner.incoming_token, partner.outgoing_token)
    second_a = peer.issue_token_a()

    with pytest.raises(CommandError) as failure:
        we_register_with_peer(peer, second_a)

    assert str(failure.value) == (
        f"Registration with {PEER_NAME} failed: "
        "DE*XWE EMSP is already connected through another platform"
    )
    assert PartnerPlatform.objects.get() == partner
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.REGISTERED
    assert (partner.incoming_token, partner.outgoing_token) == tokens
    assert PartnerEndpoint.objects.count() == 9
    assert PartnerRole.objects.count() == 1
    state = peer.state()
    post, delete = state["request_log"][5:]
    withdrawn_c = post["response_body"]["data"]["token"]
    assert log_lines(state["request_log"][3:]) == [
        ("GET", "/ocpi/versions", second_a, 200),
        ("GET", "/ocpi/2.2.1/details", second_a, 200),
        ("POST", PEER_CREDENTIALS_PATH, second_a, 200),
        ("DELETE", PEER_CREDENTIALS_PATH, withdrawn_c, 200),
    ]
    assert delete["response_body"]["status_code"] == 1000
    (client,) = state["clients"]
    assert (client["token_c"], client["client_token"]) == (tokens[1], tokens[0])
    assert ours.versions_status(tokens[0]) == 200


def test_after_unregistering_a_new_token_a_makes_a_new_relationship(
    peer: ExtrawestPeer, ours: Ours
) -> None:
    we_register_with_peer(peer)
    partner_command("unregister")
    first = PartnerPlatform.objects.get()

    we_register_with_peer(peer)

    second = PartnerPlatform.objects.exclude(pk=first.pk).get()
    assert list(PartnerPlatform.objects.order_by("pk").values_list("pk", "status")) == [
        (first.pk, PartnerStatus.UNREGISTERED),
        (second.pk, PartnerStatus.REGISTERED),
    ]
    (client,) = peer.state()["clients"]
    assert client["token_c"] == second.outgoing_token
    assert client["client_token"] == second.incoming_token
    assert stored_endpoints(second) == peer_endpoints(peer)
    assert stored_roles(second) == [PEER_ROLE_ANSWERED]
    assert ours.versions_status(second.incoming_token) == 200
    # The name now means the live relationship, not the ended one.
    output, errors = partner_command("refresh")
    assert output.splitlines()[0] == f"{PEER_NAME} (id {second.pk}): REGISTERED, version 2.2.1"
    assert errors == ""
