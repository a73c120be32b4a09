"""A small OCPI 2.2.1 partner platform served on loopback by a real HTTP server in a thread.

It is written from the spec, independently of our code, so that it checks what we send:
the Base64 Authorization header (or the raw token, for a pre-2.2.1 style partner), and the
credentials handshake from the other side (credentials.asciidoc, Registration). As the
handshake's Receiver it answers our POST with its token C after fetching our versions with
the token B we sent; as the Sender it only serves versions and version details for us to
fetch with its token B.

Tests break it on purpose through its attributes: `versions_reply` (a canned raw answer),
`versions`, `endpoints`, `credentials_reply`, `plain_tokens_only`, `versions_gate`.
"""

import base64
import binascii
import json
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests


def credentials_role(role: str, country_code: str, party_id: str, name: str) -> dict[str, Any]:
    """A CredentialsRole object (credentials.asciidoc) with just a business name."""
    return {
        "role": role,
        "business_details": {"name": name},
        "party_id": party_id,
        "country_code": country_code,
    }


ROLES = [credentials_role("EMSP", "DE", "FKE", "Fake eMSP")]
TIMESTAMP = "2026-01-01T12:00:00Z"


@dataclass(frozen=True)
class Call:
    """One request as the partner saw it."""

    method: str
    path: str
    authorization: str | None
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class RawReply:
    """An answer sent verbatim (for partners that break the protocol)."""

    http_status: int
    body: bytes


def envelope(data: Any = None, status_code: int = 1000, message: str | None = None) -> bytes:
    body: dict[str, Any] = {"status_code": status_code, "timestamp": TIMESTAMP}
    if data is not None:
        body["data"] = data
    if message:
        body["status_message"] = message
    return json.dumps(body).encode()


def token_header(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


class FakePartner:
    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.partner = self  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.versions_url = f"{self.base_url}/ocpi/versions"
        self.details_url = f"{self.base_url}/ocpi/2.2.1"
        self.credentials_url = f"{self.base_url}/ocpi/2.2.1/credentials"
        self.tokens_url = f"{self.base_url}/ocpi/emsp/2.2.1/tokens"
        self.lock = threading.Lock()
        # Tokens the platform under test may call this partner with.
        self.accepted: set[str] = set()
        self.plain_tokens_only = False
        self.versions: list[dict[str, str]] = [
            {"version": "2.1.1", "url": f"{self.base_url}/ocpi/2.1.1"},
            {"version": "2.2.1", "url": self.details_url},
        ]
        self.endpoints: list[dict[str, str]] = [
            {"identifier": "credentials", "role": "RECEIVER", "url": self.credentials_url},
            {"identifier": "tokens", "role": "SENDER", "url": self.tokens_url},
        ]
        self.roles = ROLES
        self.versions_reply: RawReply | None = None
        self.credentials_reply: RawReply | None = None
        # When set, every versions request waits here first (to make requests overlap).
        self.versions_gate: threading.Barrier | None = None
        self.calls: list[Call] = []
        # The token the platform gave us (B, or its newest one after a rotation).
        self.platform_token: str | None = None
        self.token_c: str | None = None
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FakePartner":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what tests use ----------------------------------------------------------------------

    def credentials(self, token: str) -> dict[str, Any]:
        """The Credentials object this partner sends us, giving us `token` to call it with."""
        self.accepted = {token}
        return {"token": token, "url": self.versions_url, "roles": self.roles}

    def invite(self) -> str:
        """Issue a token A for the platform under test to register with (we are Receiver)."""
        token_a = "fake-token-a-" + secrets.token_urlsafe(8)
        self.accepted = {token_a}
        return token_a

    def endpoint_rows(self) -> list[tuple[str, str, str]]:
        """The endpoints as the platform should store them (credentials as SENDER)."""
        return sorted(
            (e["identifier"], "SENDER" if e["identifier"] == "credentials" else e["role"], e["url"])
            for e in self.endpoints
        )

    def seen(self) -> list[tuple[str, str, str | None]]:
        return [(call.method, call.path, call.authorization) for call in self.calls]

    # --- request handling ---------------------------------------------------------------------

    def caller_token(self, header: str | None) -> str | None:
        """The accepted token in `header`, or None: Base64 as 2.2.1 says, or raw if configured."""
        if not header or not header.startswith("Token "):
            return None
        value = header.removeprefix("Token ")
        if not self.plain_tokens_only:
            try:
                value = base64.b64decode(value, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
        return value if value in self.accepted else None

    def answer(self, method: str, path: str, body: Any) -> tuple[int, bytes]:
        if path == "/ocpi/versions" and method == "GET":
            if self.versions_gate is not None:
                self.versions_gate.wait(timeout=10)
            if self.versions_reply is not None:
                return self.versions_reply.http_status, self.versions_reply.body
            return 200, envelope(self.versions)
        if path == "/ocpi/2.2.1" and method == "GET":
            return 200, envelope({"version": "2.2.1", "endpoints": self.endpoints})
        if path == "/ocpi/2.2.1/credentials":
            if self.credentials_reply is not None:
                return self.credentials_reply.http_status, self.credentials_reply.body
            return self._credentials(method, body)
        return 404, envelope(status_code=2000, message="Not found")

    def _credentials(self, method: str, body: Any) -> tuple[int, bytes]:
        if method == "GET":
            return 200, envelope(self._our_credentials())
        if method == "DELETE":
            self.accepted = set()
            return 200, envelope()
        # POST (register) and PUT (update): fetch the platform's versions with its new token.
        problem = self._fetch_platform(body["url"], body["token"])
        if problem:
            return 200, envelope(status_code=3001, message=problem)
        self.platform_token = body["token"]
        self.token_c = "fake-token-c-" + secrets.token_urlsafe(8)
        self.accepted = {self.token_c}
        return 200, envelope(self._our_credentials())

    def _our_credentials(self) -> dict[str, Any]:
        return {"token": self.token_c, "url": self.versions_url, "roles": self.roles}

    def _fetch_platform(self, versions_url: str, token: str) -> str | None:
        headers = {"Authorization": token_header(token)}
        versions = requests.get(versions_url, headers=headers, timeout=10)
        if versions.status_code != 200 or versions.json()["status_code"] != 1000:
            return f"GET {versions_url}: HTTP {versions.status_code}"
        details_url = next(v["url"] for v in versions.json()["data"] if v["version"] == "2.2.1")
        details = requests.get(details_url, headers=headers, timeout=10)
        if details.status_code != 200 or details.json()["status_code"] != 1000:
            return f"GET {details_url}: HTTP {details.status_code}"
        return None


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def _handle(self) -> None:
        partner: FakePartner = self.server.partner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        body = json.loads(raw) if raw else None
        authorization = self.headers.get("Authorization")
        with partner.lock:
            headers = {name.lower(): value for name, value in self.headers.items()}
            partner.calls.append(Call(self.command, self.path, authorization, body, headers))
            token = partner.caller_token(authorization)
        if token is None:
            status, payload = 401, envelope(status_code=2000, message="Unknown token")
        else:
            status, payload = partner.answer(self.command, self.path, body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the calls are recorded in FakePartner.calls."""


def closed_port() -> int:
    """A loopback port nobody listens on (a partner that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def running_partner() -> Iterator[FakePartner]:
    partner = FakePartner().start()
    try:
        yield partner
    finally:
        partner.stop()
