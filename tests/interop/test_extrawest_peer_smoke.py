"""Smoke tests for the extrawest-ocpi eMSP peer harness, on its own.

No Django, no database: a tiny http.server on a thread plays "the other
platform" (a CPO) for the credentials handshake. The observed library
behaviour asserted here is documented in extrawest_peer/README.md.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

# The repo root is on sys.path under `python -m pytest` and pytest-django
# (manage.py lives there), so import through the tests namespace package.
from tests.interop.peer import ExtrawestPeer, PeerUnavailable, ocpi_token_header

pytestmark = pytest.mark.interop

TIMEOUT = 15


def ok_envelope(data: Any) -> dict[str, Any]:
    return {
        "data": data,
        "status_code": 1000,
        "status_message": "Success",
        "timestamp": "2024-01-01T00:00:00Z",
    }


class FakeCpo:
    """Loopback HTTP server playing the other platform's versions side.

    Serves ``/ocpi/versions`` and ``/ocpi/2.2.1`` (with a credentials
    endpoint) and only accepts ``Authorization: Token base64(token_b)``.
    Every request is recorded in ``requests``.
    """

    def __init__(self, token_b: str) -> None:
        self.token_b = token_b
        self.requests: list[dict[str, str | None]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                auth = self.headers.get("Authorization")
                fake.requests.append({"method": "GET", "path": self.path, "authorization": auth})
                if auth != ocpi_token_header(fake.token_b)["Authorization"]:
                    self._send(
                        401, {"status_code": 2000, "status_message": "bad token", "data": None}
                    )
                elif self.path == "/ocpi/versions":
                    self._send(
                        200,
                        ok_envelope([{"version": "2.2.1", "url": f"{fake.base_url}/ocpi/2.2.1"}]),
                    )
                elif self.path == "/ocpi/2.2.1":
                    self._send(
                        200,
                        ok_envelope(
                            {
                                "version": "2.2.1",
                                "endpoints": [
                                    {
                                        "identifier": "credentials",
                                        "role": "RECEIVER",
                                        "url": f"{fake.base_url}/ocpi/cpo/2.2.1/credentials/",
                                    },
                                    {
                                        "identifier": "locations",
                                        "role": "SENDER",
                                        "url": f"{fake.base_url}/ocpi/cpo/2.2.1/locations/",
                                    },
                                ],
                            }
                        ),
                    )
                else:
                    self._send(
                        404, {"status_code": 2000, "status_message": "not found", "data": None}
                    )

            def _send(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.versions_url = f"{self.base_url}/ocpi/versions"
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="fake-cpo", daemon=True
        )

    def __enter__(self) -> FakeCpo:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def cpo_credentials(token_b: str, versions_url: str) -> dict[str, Any]:
    return {
        "token": token_b,
        "url": versions_url,
        "roles": [
            {
                "role": "CPO",
                "party_id": "TNM",
                "country_code": "NL",
                "business_details": {"name": "Test CPO"},
            }
        ],
    }


@pytest.fixture(scope="module")
def peer() -> Iterator[ExtrawestPeer]:
    try:
        with ExtrawestPeer() as running:
            yield running
    except PeerUnavailable as exc:  # no Python >= 3.10 on this machine
        pytest.skip(str(exc))


@pytest.fixture
def fresh_peer(peer: ExtrawestPeer) -> ExtrawestPeer:
    peer.reset()
    return peer


def test_versions_and_details_with_token_a(fresh_peer: ExtrawestPeer) -> None:
    token_a = fresh_peer.issue_token_a()

    versions = requests.get(
        fresh_peer.versions_url, headers=ocpi_token_header(token_a), timeout=TIMEOUT
    )
    assert versions.status_code == 200, versions.text
    body = versions.json()
    assert body["status_code"] == 1000
    listed = {v["version"]: v["url"] for v in body["data"]}
    assert listed.get("2.2.1") == fresh_peer.details_url

    details = requests.get(listed["2.2.1"], headers=ocpi_token_header(token_a), timeout=TIMEOUT)
    assert details.status_code == 200, details.text
    endpoints = {e["identifier"]: e for e in details.json()["data"]["endpoints"]}
    assert endpoints["credentials"]["url"] == fresh_peer.endpoint_url("credentials")
    assert endpoints["credentials"]["url"].endswith("/credentials/")
    # Modules an eMSP receives from a CPO are all there.
    for module in ("locations", "sessions", "cdrs", "tariffs", "tokens", "commands"):
        assert endpoints[module]["url"] == fresh_peer.endpoint_url(module)


def test_bad_tokens_are_rejected(fresh_peer: ExtrawestPeer) -> None:
    bad = ocpi_token_header("not-a-token-of-this-peer")
    versions = requests.get(fresh_peer.versions_url, headers=bad, timeout=TIMEOUT)
    assert versions.status_code in (401, 403)
    assert versions.status_code == 401  # versions/details: 401 (README)

    module = requests.get(
        fresh_peer.endpoint_url("locations") + "NL/TNM/LOC1", headers=bad, timeout=TIMEOUT
    )
    assert module.status_code in (401, 403)
    assert module.status_code == 403  # module endpoints: 403 (README)
    assert module.json() == {"detail": "Your authorization token is invalid."}


def test_credentials_handshake_peer_as_receiver(fresh_peer: ExtrawestPeer) -> None:
    peer = fresh_peer
    token_a = peer.issue_token_a()
    token_b = "token-b-of-the-test-cpo"
    credentials_url = peer.endpoint_url("credentials")

    with FakeCpo(token_b) as cpo:
        posted = requests.post(
            credentials_url,
            json=cpo_credentials(token_b, cpo.versions_url),
            headers=ocpi_token_header(token_a),
            timeout=TIMEOUT,
        )
        assert posted.status_code == 200, posted.text
        body = posted.json()
        assert body["status_code"] == 1000, body
        creds = body["data"]

        # The peer fetched our versions and 2.2.1 details, with token B in Base64.
        expected_auth = "Token " + base64.b64encode(token_b.encode()).decode()
        assert [(r["path"], r["authorization"]) for r in cpo.requests] == [
            ("/ocpi/versions", expected_auth),
            ("/ocpi/2.2.1", expected_auth),
        ]

    # It answered with its own credentials and a brand-new token C.
    token_c = creds["token"]
    assert token_c not in (token_a, token_b)
    assert creds["url"] == peer.versions_url
    assert creds["roles"] == [
        {
            "role": "EMSP",
            "business_details": {"name": "Extrawest test eMSP", "website": None, "logo": None},
            "party_id": "XWE",
            "country_code": "DE",
        }
    ]

    # What it stored about us.
    state = peer.state()
    (client,) = state["clients"]
    assert client["token_c"] == token_c
    assert client["client_token"] == token_b
    assert client["client_versions_url"] == cpo.versions_url
    assert {e["identifier"] for e in client["client_endpoints"]["endpoints"]} == {
        "credentials",
        "locations",
    }
    assert state["token_a"] == {}

    # Token C works on versions and on GET credentials ...
    versions = requests.get(peer.versions_url, headers=ocpi_token_header(token_c), timeout=TIMEOUT)
    assert versions.status_code == 200
    got = requests.get(credentials_url, headers=ocpi_token_header(token_c), timeout=TIMEOUT)
    assert got.status_code == 200
    assert got.json()["data"]["token"] == token_c

    # ... token A is dead: a second POST with it is 401 (not 405) ...
    again = requests.post(
        credentials_url,
        json=cpo_credentials(token_b, "http://127.0.0.1:9/ocpi/versions"),
        headers=ocpi_token_header(token_a),
        timeout=TIMEOUT,
    )
    assert again.status_code in (401, 405)
    assert again.status_code == 401
    assert again.json() == {"detail": "Unauthorized"}

    # ... and POSTing again with token C is the "already registered" 405.
    dup = requests.post(
        credentials_url,
        json=cpo_credentials(token_b, "http://127.0.0.1:9/ocpi/versions"),
        headers=ocpi_token_header(token_c),
        timeout=TIMEOUT,
    )
    assert dup.status_code == 405
    assert dup.json() == {"detail": "Client is already registered"}


def test_credentials_rotation_and_delete(fresh_peer: ExtrawestPeer) -> None:
    peer = fresh_peer
    token_a = peer.issue_token_a()
    with FakeCpo("token-b1") as cpo:
        first = requests.post(
            peer.endpoint_url("credentials"),
            json=cpo_credentials("token-b1", cpo.versions_url),
            headers=ocpi_token_header(token_a),
            timeout=TIMEOUT,
        ).json()["data"]
        # PUT: the peer re-fetches versions with the *new* token we give it.
        cpo.token_b = "token-b2"
        put = requests.put(
            peer.endpoint_url("credentials"),
            json=cpo_credentials("token-b2", cpo.versions_url),
            headers=ocpi_token_header(first["token"]),
            timeout=TIMEOUT,
        )
        assert put.status_code == 200, put.text
        second = put.json()["data"]
        assert second["token"] != first["token"]
        assert cpo.requests[-1]["authorization"] == ocpi_token_header("token-b2")["Authorization"]

    old = requests.get(
        peer.versions_url, headers=ocpi_token_header(first["token"]), timeout=TIMEOUT
    )
    assert old.status_code == 401
    (client,) = peer.state()["clients"]
    assert client["client_token"] == "token-b2"

    deleted = requests.delete(
        peer.endpoint_url("credentials"),
        headers=ocpi_token_header(second["token"]),
        timeout=TIMEOUT,
    )
    assert deleted.status_code == 200
    assert deleted.json()["status_code"] == 1000
    assert peer.state()["clients"] == []


def test_module_push_and_request_log(fresh_peer: ExtrawestPeer) -> None:
    """A token accepted through the control API can push a tariff; the
    peer stores it, answers with the object wrapped in a list, and logs the
    request with the decoded token."""
    peer = fresh_peer
    token = "token-c-for-our-platform"
    peer.accept_token(token)
    tariff = {
        "country_code": "NL",
        "party_id": "TNM",
        "id": "TARIFF-1",
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 0.25, "step_size": 1}]}],
        "last_updated": "2024-01-01T00:00:00Z",
    }
    put = requests.put(
        peer.endpoint_url("tariffs") + "NL/TNM/TARIFF-1",
        json=tariff,
        headers=ocpi_token_header(token),
        timeout=TIMEOUT,
    )
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["status_code"] == 1000
    assert isinstance(body["data"], list)
    assert body["data"][0]["id"] == "TARIFF-1"

    state = peer.state()
    assert state["objects"]["tariffs"]["NL/TNM/TARIFF-1"]["currency"] == "EUR"
    (entry,) = [e for e in state["request_log"] if e["method"] == "PUT"]
    assert entry["path"] == "/ocpi/emsp/2.2.1/tariffs/NL/TNM/TARIFF-1"
    assert entry["authorization"]["token_decoded"] == token
    assert entry["response_status"] == 200


def test_harness_register_and_call_between_two_peers(fresh_peer: ExtrawestPeer) -> None:
    """The harness-only sender features (/_control/register, /_control/call,
    accept_token with the other side's credentials), exercised against a
    second peer instance acting as the receiver."""
    with ExtrawestPeer(country_code="NL", party_id="RCV") as receiver:
        token_a = receiver.issue_token_a()
        result = fresh_peer.register(token_a, receiver.versions_url)
        assert result["ok"], result
        assert [step["status_code"] for step in result["steps"]] == [200, 200, 200]
        their_token = result["client"]["client_token"]

        # The receiver called us back with the token we offered, Base64-encoded.
        (registered,) = receiver.state()["clients"]
        assert registered["client_token"] == result["token_c"]
        assert registered["client_versions_url"] == fresh_peer.versions_url

        call = fresh_peer.call("GET", module="tokens")
        assert call["url"] == receiver.endpoint_url("tokens")
        assert call["status_code"] == 200
        assert call["body"]["status_code"] == 1000
        (logged,) = [e for e in receiver.state()["request_log"] if e["path"].endswith("/tokens/")]
        assert logged["authorization"]["token_decoded"] == their_token

        # accept_token with the other side's credentials also learns its endpoints.
        accepted = fresh_peer.accept_token(
            "another-token", client_token=their_token, client_versions_url=receiver.versions_url
        )
        assert [step["status_code"] for step in accepted["fetch_steps"]] == [200, 200]
