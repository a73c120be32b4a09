"""The requests Session for repeated calls (ocpi.httpsession.KeptSession): the environment read
once per origin, honoured as requests honours it; ~/.netrc never read."""

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from ocpi.httpsession import KeptSession
from tests.ocpi.loopback import LoopbackServer, Reply, Responder

Start = Callable[[Responder], LoopbackServer]


def ok(received: Any) -> Reply:
    return Reply(200, b"{}")


def test_the_environment_is_read_once_per_origin(
    loopback: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers = [loopback(ok), loopback(ok)]
    reads: list[str] = []
    real = requests.sessions.get_environ_proxies

    def counted(url: str, no_proxy: Any = None) -> dict[str, str]:
        reads.append(url)
        return real(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counted)
    session = KeptSession()

    for server in (*servers, *servers):
        assert session.get(server.url + "/x", timeout=5).status_code == 200

    assert reads == [servers[0].url + "/x", servers[1].url + "/x"]


def test_a_proxy_from_the_environment_is_used(
    loopback: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = loopback(ok)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    KeptSession().get("http://emsp.example.com/ocpi/versions", timeout=5)

    [received] = proxy.received
    assert received.path == "http://emsp.example.com/ocpi/versions"


def test_netrc_credentials_are_never_added(
    loopback: Start, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server = loopback(ok)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    requests.get(server.url + "/plain", timeout=5)  # a plain session reads it

    KeptSession().get(server.url + "/kept", headers={"Authorization": "Token ours"}, timeout=5)

    assert [r.headers.get("Authorization") for r in server.received] == [
        requests.auth._basic_auth_str("someone", "secret"),
        "Token ours",
    ]


def test_requests_merges_the_environment_through_the_method_the_session_overrides() -> None:
    """KeptSession overrides Session.merge_environment_settings(), which Session.request()
    calls for every request (bench/RESULTS.md, "Overrides kept"); the behaviour tests above
    fail if requests reads the environment elsewhere."""
    parameters = inspect.signature(requests.Session.merge_environment_settings).parameters

    assert list(parameters) == ["self", "url", "proxies", "stream", "verify", "cert"]
    assert "self.merge_environment_settings(" in inspect.getsource(requests.Session.request)
