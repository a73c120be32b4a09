"""Partner connections go to the addresses that passed the check (ocpi/pinning.py): one
resolution per connection, nothing to rebind, the name still used for Host and TLS.

DNS is a stub (tests/ocpi/netstubs.Dns) and sockets refuse any address off loopback, so no
test sends traffic anywhere but 127.0.0.1.
"""

from collections.abc import Callable
from ipaddress import ip_address
from pathlib import Path

import pytest
import requests
import urllib3.connection
from pytest_django import Settings

from ocpi.client import OcpiClient, OcpiTransportError
from ocpi.httpsession import KeptSession
from ocpi.pinning import PinnedAdapter, PinnedHTTPConnection, PinnedHTTPSConnection
from push.delivery import _session as push_session
from tests.ocpi.loopback import LoopbackServer, Received, Reply, envelope_reply
from tests.ocpi.netstubs import (
    Answer,
    Certificates,
    Dns,
    certificates_for,
    loopback_only_socket,
)

Start = Callable[..., LoopbackServer]
PUBLIC = "93.184.215.14"


def ok(request: Received) -> Reply:
    return envelope_reply({"host": request.headers["Host"]})


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every address a socket connects to; off loopback, refused before anything is sent."""
    attempts: list[tuple[str, int]] = []
    monkeypatch.setattr("socket.socket", loopback_only_socket(attempts))
    return attempts


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, list[Answer]]], Dns]:
    def install(answers: dict[str, list[Answer]]) -> Dns:
        stub = Dns(answers)
        monkeypatch.setattr("socket.getaddrinfo", stub.getaddrinfo)
        return stub

    return install


Install = Callable[[dict[str, list[Answer]]], Dns]


def test_a_name_rebound_to_loopback_after_the_check_is_never_called(
    settings: Settings, loopback: Start, dns: Install, connects: list[tuple[str, int]]
) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = False
    server = loopback(ok)
    stub = dns({"emsp.example.com": [[(PUBLIC, None)], [("127.0.0.1", server.port)]]})

    with pytest.raises(OcpiTransportError, match="no traffic off loopback"):
        OcpiClient("t").get(f"http://emsp.example.com:{server.port}/ocpi/versions")

    assert stub.lookups == ["emsp.example.com"]
    assert connects == [(PUBLIC, server.port)]
    assert server.received == []


def test_a_name_resolving_to_a_private_address_is_refused_before_connecting(
    settings: Settings, dns: Install, connects: list[tuple[str, int]]
) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = False
    dns({"emsp.example.com": [[(PUBLIC, None), ("10.0.0.7", None)]]})

    with pytest.raises(OcpiTransportError) as caught:
        OcpiClient("t").get("https://emsp.example.com/ocpi/versions")

    assert str(caught.value) == (
        "refusing to call https://emsp.example.com/ocpi/versions: "
        "emsp.example.com resolves to 10.0.0.7, a private or reserved address"
    )
    assert connects == []


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::808:808",  # NAT64 of a public address: refused all the same
        "64:ff9b:1::a9fe:a9fe",  # NAT64, local use
        "2002:a9fe:a9fe::",  # 6to4
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "::a9fe:a9fe",  # IPv4-compatible
        "::ffff:169.254.169.254",  # IPv4-mapped
        "::ffff:0:a9fe:a9fe",  # IPv4-translated
    ],
)
def test_a_name_resolving_to_an_ipv6_form_of_an_ipv4_address_is_refused(
    settings: Settings, dns: Install, connects: list[tuple[str, int]], address: str
) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = False
    dns({"emsp.example.com": [[(address, None)]]})

    with pytest.raises(OcpiTransportError) as caught:
        OcpiClient("t").get("https://emsp.example.com/ocpi/versions")

    assert str(caught.value).endswith(
        f": emsp.example.com resolves to {ip_address(address)}, a private or reserved address"
    )
    assert connects == []


def test_the_connection_goes_to_the_resolved_address_under_the_name(
    loopback: Start, dns: Install
) -> None:
    first, second = loopback(ok), loopback(ok)
    stub = dns({"emsp.example.com": [[("127.0.0.1", first.port)], [("127.0.0.1", second.port)]]})

    reply = OcpiClient("t").get("http://emsp.example.com/ocpi/versions")

    assert reply.data == {"host": "emsp.example.com"}
    assert stub.lookups == ["emsp.example.com"]
    assert [r.path for r in first.received] == ["/ocpi/versions"]
    assert second.received == []


def test_a_kept_connection_is_reused_without_resolving_again(loopback: Start, dns: Install) -> None:
    first, second = loopback(ok, keep_alive=True), loopback(ok, keep_alive=True)
    stub = dns({"emsp.example.com": [[("127.0.0.1", first.port)], [("127.0.0.1", second.port)]]})
    client = OcpiClient("t", session=KeptSession())

    for _ in range(3):
        client.get("http://emsp.example.com/ocpi/versions")

    assert stub.lookups == ["emsp.example.com"]
    assert len(first.received) == 3
    assert second.received == []


def test_each_new_connection_resolves_and_is_vetted_again(
    settings: Settings, loopback: Start, dns: Install, connects: list[tuple[str, int]]
) -> None:
    """The server closes each connection (HTTP/1.0): the next one resolves anew, and a name
    rebound to loopback meanwhile is refused."""
    server = loopback(ok)
    stub = dns({"emsp.example.com": [[("127.0.0.1", server.port)], [("127.0.0.1", None)]]})
    client = OcpiClient("t", session=KeptSession())
    client.get("http://emsp.example.com/ocpi/versions")
    settings.OCPI_ALLOW_PRIVATE_URLS = False

    with pytest.raises(OcpiTransportError, match="resolves to 127.0.0.1, a private"):
        client.get("http://emsp.example.com/ocpi/versions")

    assert stub.lookups == ["emsp.example.com", "emsp.example.com"]
    assert connects == [("127.0.0.1", server.port)]


@pytest.fixture
def tls_server(tmp_path: Path, loopback: Start) -> tuple[Certificates, LoopbackServer]:
    """An HTTPS server whose certificate names emsp.example.com only (no IP address)."""
    certificates = certificates_for("emsp.example.com", tmp_path)
    return certificates, loopback(ok, tls=certificates.server)


def test_tls_checks_and_sends_the_name_not_the_address(
    tls_server: tuple[Certificates, LoopbackServer], dns: Install
) -> None:
    """Verifying the certificate against 127.0.0.1 would fail."""
    certificates, server = tls_server
    dns({"emsp.example.com": [[("127.0.0.1", server.port)]]})

    response = KeptSession().get(
        "https://emsp.example.com/ocpi/versions", verify=str(certificates.ca_file), timeout=5
    )

    assert response.json()["data"] == {"host": "emsp.example.com"}
    assert certificates.server_names == ["emsp.example.com"]


def test_tls_refuses_a_certificate_for_another_name(
    tls_server: tuple[Certificates, LoopbackServer], dns: Install
) -> None:
    certificates, server = tls_server
    dns({"other.example.com": [[("127.0.0.1", server.port)]]})

    with pytest.raises(requests.exceptions.SSLError, match="Hostname mismatch"):
        KeptSession().get("https://other.example.com/", verify=str(certificates.ca_file), timeout=5)

    assert certificates.server_names == ["other.example.com"]
    assert server.received == []


def test_urllib3_opens_sockets_through_new_conn(loopback: Start, dns: Install) -> None:
    """The internals ocpi.pinning relies on (its docstring): should an upgrade change them,
    this fails rather than connections quietly resolving on their own again."""
    server = loopback(ok)
    stub = dns({"emsp.example.com": [[("127.0.0.1", server.port)]]})
    assert "_new_conn" in vars(urllib3.connection.HTTPConnection)
    pools = PinnedAdapter().poolmanager
    assert pools.connection_from_url("http://emsp.example.com/").ConnectionCls is (
        PinnedHTTPConnection
    )
    assert pools.connection_from_url("https://emsp.example.com/").ConnectionCls is (
        PinnedHTTPSConnection
    )
    connection = PinnedHTTPConnection("emsp.example.com", 80)

    connection.connect()

    assert connection.sock is not None
    assert connection.sock.getpeername() == ("127.0.0.1", server.port)
    assert stub.lookups == ["emsp.example.com"]
    connection.close()


@pytest.mark.parametrize(
    "session",
    [KeptSession, lambda: push_session(1), lambda: OcpiClient("t")._session],
    ids=["kept", "push", "client-default"],
)
def test_every_session_that_calls_partners_is_pinned(
    session: Callable[[], requests.Session],
) -> None:
    for url in ("http://emsp.example.com/", "https://emsp.example.com/"):
        assert isinstance(session().get_adapter(url), PinnedAdapter)


@pytest.fixture
def proxy(loopback: Start, monkeypatch: pytest.MonkeyPatch) -> LoopbackServer:
    server = loopback(ok)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    return server


def test_through_a_proxy_a_public_name_is_sent_to_the_proxy(
    settings: Settings, proxy: LoopbackServer, dns: Install
) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = False
    stub = dns({"emsp.example.com": [[(PUBLIC, None)]]})

    OcpiClient("t").get("http://emsp.example.com/ocpi/versions")

    assert [r.path for r in proxy.received] == ["http://emsp.example.com/ocpi/versions"]
    assert stub.lookups == ["emsp.example.com"]


def test_through_a_proxy_a_name_resolving_to_a_private_address_is_refused(
    settings: Settings, proxy: LoopbackServer, dns: Install
) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = False
    dns({"emsp.example.com": [[("10.0.0.7", None)]]})

    with pytest.raises(OcpiTransportError) as caught:
        OcpiClient("t").get("http://emsp.example.com/ocpi/versions")

    assert str(caught.value) == (
        "refusing to call http://emsp.example.com/ocpi/versions: "
        "emsp.example.com resolves to 10.0.0.7, a private or reserved address"
    )
    assert proxy.received == []
