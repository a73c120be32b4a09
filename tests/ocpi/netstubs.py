"""Stand-ins for the network outside this machine: DNS answers, sockets that never leave
loopback, and a certificate authority for an HTTPS server on 127.0.0.1 under a public name."""

import datetime
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# One answer: (address, port); port None means the port that was asked for.
Answer = list[tuple[str, int | None]]


@dataclass
class Dns:
    """getaddrinfo for names: the n-th lookup of a name gets its n-th answer (the last one
    repeats), so a test can rebind a name between lookups. Unknown names do not resolve; IP
    literals are answered as themselves, unrecorded, as the real getaddrinfo does."""

    answers: dict[str, list[Answer]]
    lookups: list[str] = field(default_factory=list)

    def getaddrinfo(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        try:
            return [_info(str(ipaddress.ip_address(host)), port)]
        except ValueError:
            self.lookups.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        series = self.answers[host]
        answer = series[min(self.lookups.count(host), len(series)) - 1]
        return [_info(address, given or port) for address, given in answer]


def _info(address: str, port: int) -> tuple[Any, ...]:
    if ipaddress.ip_address(address).version == 4:
        return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
    return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))


def loopback_only_socket(attempts: list[tuple[str, int]]) -> type[socket.socket]:
    """A socket class that records every address it connects to and refuses, without sending
    anything, every address that is not loopback: put in place of socket.socket."""

    class LoopbackOnlySocket(socket.socket):
        def connect(self, address: Any) -> None:
            attempts.append((address[0], address[1]))
            if not ipaddress.ip_address(address[0]).is_loopback:
                raise ConnectionRefusedError(f"test: no traffic off loopback ({address[0]})")
            super().connect(address)

    return LoopbackOnlySocket


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass(frozen=True)
class Certificates:
    """A certificate for `hostname` (and nothing else: no IP address) and the CA that signed it."""

    ca_file: Path
    server: ssl.SSLContext
    server_names: list[str | None]  # the SNI of each handshake the server saw


def certificates_for(hostname: str, directory: Path) -> Certificates:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Test CA"))
        .issuer_name(_name("Test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(hostname))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = directory / "server.pem"
    chain.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + leaf.public_bytes(serialization.Encoding.PEM)
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(chain)
    server_names: list[str | None] = []
    server.sni_callback = lambda _socket, name, _context: server_names.append(name)
    return Certificates(ca_file=ca_file, server=server, server_names=server_names)
