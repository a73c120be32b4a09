"""Issue 14, the first hour: a call that got no answer says why in an operator's words
(connection refused, host name not found, TLS, timeout), not in urllib3's wrappers."""

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest
import trustme

from ocpi.client import OcpiClient, OcpiTransportError


def call(url: str, timeout: tuple[float, float] = (2, 2)) -> str:
    with pytest.raises(OcpiTransportError) as failed:
        OcpiClient("token", timeout=timeout).get(url)
    return str(failed.value)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.fixture
def untrusted_tls_port() -> Iterator[int]:
    """A TLS server whose certificate no public CA signed."""
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def handshake() -> None:
        connection, _ = server.accept()
        try:
            context.wrap_socket(connection, server_side=True).close()
        except (ssl.SSLError, OSError):
            connection.close()  # the client gave up on our certificate: as expected

    thread = threading.Thread(target=handshake, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    thread.join(timeout=5)
    server.close()


def test_a_refused_connection() -> None:
    assert call("http://127.0.0.1:1/ocpi/versions") == (
        "GET http://127.0.0.1:1/ocpi/versions failed: could not connect to 127.0.0.1:1: "
        "Connection refused"
    )


def test_a_host_name_that_does_not_resolve() -> None:
    message = call("http://partner.invalid/ocpi/versions")  # .invalid never resolves

    assert message.startswith(
        "GET http://partner.invalid/ocpi/versions failed: could not connect to partner.invalid: "
        "host name not found ("
    )


def test_no_answer_in_time(silent_port: int) -> None:
    assert call(f"http://127.0.0.1:{silent_port}/x", timeout=(2, 0.2)) == (
        f"GET http://127.0.0.1:{silent_port}/x failed: Read timed out: no answer from "
        f"127.0.0.1:{silent_port} within 0.2 s"
    )


def test_a_certificate_we_cannot_verify(untrusted_tls_port: int) -> None:
    message = call(f"https://127.0.0.1:{untrusted_tls_port}/ocpi/versions")

    assert message.startswith(
        f"GET https://127.0.0.1:{untrusted_tls_port}/ocpi/versions failed: "
        f"TLS with 127.0.0.1:{untrusted_tls_port} failed: "
    )
    assert "certificate" in message
    assert "Pool" not in message
