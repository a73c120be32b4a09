"""Security profiles 2 and 3: TLS at the gateway (a test CA made here with trustme) or at a
proxy whose headers are believed only from OCPP_TRUSTED_PROXIES; a client certificate is
bound to its identity (CitrineOS PR #1098: a valid certificate of another charge point)."""

import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import trustme
from websockets.exceptions import ConnectionClosedError, InvalidMessage, InvalidStatus

from chargers.models import SecurityProfile
from tests.chargers.gatewayrunner import (
    HEARTBEATS,
    RunningGateway,
    call,
    charge_point,
    connect_as,
    row,
    use_handlers,
)

pytestmark = pytest.mark.django_db(transaction=True)

TLS_BASIC = SecurityProfile.TLS_BASIC
CERTIFICATE = SecurityProfile.TLS_CLIENT_CERTIFICATE


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_gateway(
    ca: trustme.CA, tmp_path: Path, settings: object, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningGateway]:
    """A gateway terminating TLS, verifying client certificates of `ca`."""
    server = tmp_path / "server.pem"
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(server)
    client_ca = tmp_path / "client-ca.pem"
    ca.cert_pem.write_to_path(client_ca)
    settings.OCPP_TLS_CERT = str(server)  # type: ignore[attr-defined]
    settings.OCPP_TLS_CLIENT_CA = str(client_ca)  # type: ignore[attr-defined]
    use_handlers(monkeypatch, HEARTBEATS)
    with RunningGateway("gw-tls") as running:
        yield running


@pytest.fixture
def plain_gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningGateway]:
    use_handlers(monkeypatch, HEARTBEATS)
    with RunningGateway("gw-plain") as running:
        yield running


def client_tls(ca: trustme.CA, common_name: str | None = None) -> ssl.SSLContext:
    """A charge point's TLS: trusts `ca`; with `common_name`, presents a certificate `ca`
    issued to it."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    if common_name is not None:
        ca.issue_cert(
            f"{common_name.lower()}.chargers.test", common_name=common_name
        ).configure_cert(context)
    return context


def refused_status(url: str, **options: object) -> int:
    with pytest.raises(InvalidStatus) as refused:
        connect_as(url, **options)  # type: ignore[arg-type]
    return refused.value.response.status_code


def test_profile_3_accepts_its_own_certificate(tls_gateway: RunningGateway, ca: trustme.CA) -> None:
    charge_point("CP3", security_profile=CERTIFICATE, password=None)

    with connect_as(
        tls_gateway.url("CP3", "wss"), password=None, ssl=client_tls(ca, "CP3")
    ) as websocket:
        assert call(websocket, "1", "Heartbeat", {})[:2] == [3, "1"]


def test_profile_3_refuses_a_valid_certificate_of_another_identity(
    tls_gateway: RunningGateway, ca: trustme.CA
) -> None:
    charge_point("CP3", security_profile=CERTIFICATE, password=None)
    charge_point("CP4", security_profile=CERTIFICATE, password=None)

    status = refused_status(tls_gateway.url("CP3", "wss"), password=None, ssl=client_tls(ca, "CP4"))

    assert status == 403


def test_profile_3_refuses_a_connection_without_a_certificate(
    tls_gateway: RunningGateway, ca: trustme.CA
) -> None:
    charge_point("CP3", security_profile=CERTIFICATE, password="secret-password-0123")

    assert refused_status(tls_gateway.url("CP3", "wss"), ssl=client_tls(ca)) == 403


def test_a_certificate_of_another_ca_fails_the_tls_handshake(
    tls_gateway: RunningGateway, ca: trustme.CA
) -> None:
    charge_point("CP3", security_profile=CERTIFICATE, password=None)
    context = client_tls(ca)
    trustme.CA().issue_cert("cp3.chargers.test", common_name="CP3").configure_cert(context)

    # TLS 1.3: the client's handshake ends before the server checks its certificate; the
    # server then drops the connection, which the client sees where the HTTP response is due.
    with pytest.raises((InvalidMessage, ConnectionClosedError)):
        connect_as(tls_gateway.url("CP3", "wss"), password=None, ssl=context)
    assert row("CP3").connection == 0


def test_profile_3_over_plain_websockets_is_refused(plain_gateway: RunningGateway) -> None:
    charge_point("CP3", security_profile=CERTIFICATE, password="secret-password-0123")

    assert refused_status(plain_gateway.url("CP3")) == 403


def test_profile_2_over_tls_with_its_password_is_accepted(
    tls_gateway: RunningGateway, ca: trustme.CA
) -> None:
    charge_point("CP2", security_profile=TLS_BASIC)

    with connect_as(tls_gateway.url("CP2", "wss"), ssl=client_tls(ca)) as websocket:
        assert call(websocket, "1", "Heartbeat", {})[0] == 3


def test_profile_2_over_tls_with_a_wrong_password_is_refused(
    tls_gateway: RunningGateway, ca: trustme.CA
) -> None:
    charge_point("CP2", security_profile=TLS_BASIC)

    status = refused_status(
        tls_gateway.url("CP2", "wss"), password="wrong-password-0123", ssl=client_tls(ca)
    )
    assert status == 401


def test_profile_2_over_plain_websockets_is_refused(plain_gateway: RunningGateway) -> None:
    charge_point("CP2", security_profile=TLS_BASIC)

    assert refused_status(plain_gateway.url("CP2")) == 403


# --- TLS terminated by a proxy ------------------------------------------------------------


@pytest.fixture
def behind_proxy(settings: object) -> None:
    """The test's own address, 127.0.0.1, is the proxy's: its headers are believed."""
    settings.OCPP_TRUSTED_PROXIES = ["10.1.0.0/16", "127.0.0.1"]  # type: ignore[attr-defined]
    settings.OCPP_PROXY_CERT_HEADER = "X-SSL-Client-Cert"  # type: ignore[attr-defined]


def proxied(certificate: str | None = None, proto: str = "https") -> dict[str, str]:
    headers = {"X-Forwarded-Proto": proto, "X-Forwarded-For": "198.51.100.7"}
    if certificate is not None:
        headers["X-SSL-Client-Cert"] = certificate
    return headers


def escaped_pem(ca: trustme.CA, common_name: str) -> str:
    """As nginx's $ssl_client_escaped_cert."""
    issued = ca.issue_cert(f"{common_name.lower()}.chargers.test", common_name=common_name)
    return quote(issued.cert_chain_pems[0].bytes().decode())


@pytest.mark.usefixtures("behind_proxy")
def test_a_trusted_proxy_passes_the_certificate_of_the_identity(
    plain_gateway: RunningGateway, ca: trustme.CA
) -> None:
    charge_point("CP3", security_profile=CERTIFICATE, password=None)

    headers = proxied(escaped_pem(ca, "CP3"))
    with connect_as(
        plain_gateway.url("CP3"), password=None, additional_headers=headers
    ) as websocket:
        assert call(websocket, "1", "Heartbeat", {})[0] == 3
    assert row("CP3").remote_address == "198.51.100.7"


@pytest.mark.usefixtures("behind_proxy")
def test_a_trusted_proxy_passing_a_subject_string_is_read(plain_gateway: RunningGateway) -> None:
    charge_point("CP3", security_profile=CERTIFICATE, password=None)

    headers = proxied("CN=CP3,O=Example Charging")
    with connect_as(
        plain_gateway.url("CP3"), password=None, additional_headers=headers
    ) as websocket:
        assert call(websocket, "1", "Heartbeat", {})[0] == 3


@pytest.mark.usefixtures("behind_proxy")
def test_a_trusted_proxy_passing_another_identitys_certificate_is_refused(
    plain_gateway: RunningGateway, ca: trustme.CA
) -> None:
    charge_point("CP3", security_profile=CERTIFICATE, password=None)

    headers = proxied(escaped_pem(ca, "CP4"))
    status = refused_status(plain_gateway.url("CP3"), password=None, additional_headers=headers)
    assert status == 403


@pytest.mark.usefixtures("behind_proxy")
def test_a_trusted_proxy_saying_plain_http_is_not_tls(
    plain_gateway: RunningGateway, ca: trustme.CA
) -> None:
    charge_point("CP2", security_profile=TLS_BASIC)

    assert refused_status(plain_gateway.url("CP2"), additional_headers=proxied(proto="http")) == 403
    with connect_as(plain_gateway.url("CP2"), additional_headers=proxied()) as websocket:
        assert call(websocket, "1", "Heartbeat", {})[0] == 3


def test_proxy_headers_from_an_untrusted_address_are_ignored(
    settings: object, monkeypatch: pytest.MonkeyPatch, ca: trustme.CA
) -> None:
    settings.OCPP_TRUSTED_PROXIES = ["10.1.0.0/16"]  # type: ignore[attr-defined]
    settings.OCPP_PROXY_CERT_HEADER = "X-SSL-Client-Cert"  # type: ignore[attr-defined]
    use_handlers(monkeypatch, HEARTBEATS)
    charge_point("CP3", security_profile=CERTIFICATE, password=None)
    charge_point("CP2", security_profile=TLS_BASIC)

    with RunningGateway("gw-untrusting") as gateway:
        headers = proxied(escaped_pem(ca, "CP3"))
        assert refused_status(gateway.url("CP3"), password=None, additional_headers=headers) == 403
        assert refused_status(gateway.url("CP2"), additional_headers=proxied()) == 403
