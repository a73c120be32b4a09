"""Who may open a websocket at /ocpp/<identity>: decided at the HTTP handshake.

Security profiles (OCPP 2.0.1 Part 2 A00; OCPP 1.6 security whitepaper):
    1  HTTP Basic auth: user = the identity, password checked against its hash
    2  TLS + HTTP Basic auth
    3  TLS + a client certificate whose subject (OCPP_CERT_IDENTITY_FIELD, CN by default)
       is the identity: a certificate the CA issued to another charge point is refused, not
       just any certificate of the CA accepted (CitrineOS PR #1098)
TLS is the gateway's own (OCPP_TLS_*) or a proxy's; a proxy's headers (OCPP_PROXY_TLS_HEADER,
OCPP_PROXY_CERT_HEADER) are believed only from OCPP_TRUSTED_PROXIES.

Refusals: 404 for a path that is not /ocpp/<identity> or an identity not provisioned (unless
OCPP_ADMIT_UNKNOWN), 401 for a missing or wrong password, 403 for a profile 2/3 charge point
without TLS or without its own certificate.
"""

import base64
import binascii
import ipaddress
import logging
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import unquote

from cryptography import x509
from cryptography.x509.oid import NameOID
from django.conf import settings
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.headers import parse_authorization_basic, parse_subprotocol
from websockets.typing import Subprotocol

from chargers import connections
from chargers.connections import password_matches
from chargers.models import ChargePoint, OcppVersion, RegistrationStatus, SecurityProfile

logger = logging.getLogger(__name__)

PATH_PREFIX = "/ocpp/"
IDENTITY_LENGTH = ChargePoint._meta.get_field("identity").max_length or 48
# Subprotocol → OCPP version, in our order of preference when a charge point offers several
# and none is the one it was provisioned for.
SUBPROTOCOLS = {Subprotocol(v.subprotocol): v.value for v in (OcppVersion.V201, OcppVersion.V16)}
IDENTITY_FIELDS = {
    "CN": NameOID.COMMON_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "UID": NameOID.USER_ID,
    "serialNumber": NameOID.SERIAL_NUMBER,
}
TLS_SCHEMES = {"https", "wss"}
PEM_BEGIN = "-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True, slots=True)
class Transport:
    """What the connection itself says: TLS or not, the verified client certificate's subject,
    the charge point's address (behind a trusted proxy: as the proxy says)."""

    tls: bool
    subject: x509.Name | None
    remote_address: str


@dataclass(frozen=True, slots=True)
class Admitted:
    charge_point: ChargePoint
    subprotocol: Subprotocol | None  # None: no common subprotocol
    transport: Transport

    @property
    def version(self) -> str | None:
        return None if self.subprotocol is None else SUBPROTOCOLS[self.subprotocol]


@dataclass(frozen=True, slots=True)
class Refused:
    status: HTTPStatus
    reason: str


def identity_of(path: str) -> str | None:
    """The identity in /ocpp/<identity> (URL-decoded), or None for any other path."""
    path = path.split("?", 1)[0]
    if not path.startswith(PATH_PREFIX):
        return None
    identity = unquote(path.removeprefix(PATH_PREFIX))
    segment_ok = "/" not in path.removeprefix(PATH_PREFIX) and "/" not in identity
    if not identity or not segment_ok or len(identity) > IDENTITY_LENGTH:
        return None
    return identity


def offered_subprotocols(headers: Headers) -> list[Subprotocol]:
    offered: list[Subprotocol] = []
    for value in headers.get_all("Sec-WebSocket-Protocol"):
        try:
            offered.extend(parse_subprotocol(value))
        except InvalidHeader:
            continue
    return offered


def choose_subprotocol(offered: list[Subprotocol], provisioned: str | None) -> Subprotocol | None:
    """The provisioned version's subprotocol if offered; else the first one offered that we
    speak (RFC 6455: the client lists them in its order of preference)."""
    if provisioned is not None and (mine := Subprotocol(f"ocpp{provisioned}")) in offered:
        return mine
    return next((protocol for protocol in offered if protocol in SUBPROTOCOLS), None)


class Admission:
    """The gateway's doorman, configured from the settings once."""

    def __init__(self) -> None:
        self.admit_unknown: bool = settings.OCPP_ADMIT_UNKNOWN
        field = settings.OCPP_CERT_IDENTITY_FIELD
        self.identity_oid = IDENTITY_FIELDS.get(field) or x509.ObjectIdentifier(field)
        self.trusted_proxies = [
            ipaddress.ip_network(proxy, strict=False) for proxy in settings.OCPP_TRUSTED_PROXIES
        ]
        self.proxy_tls_header: str = settings.OCPP_PROXY_TLS_HEADER
        self.proxy_cert_header: str = settings.OCPP_PROXY_CERT_HEADER

    def transport(
        self, peer: str, headers: Headers, tls: bool, certificate: bytes | None
    ) -> Transport:
        """`peer` the address the TCP connection comes from, `tls` and `certificate` (DER, as
        verified by our TLS) what the gateway's own TLS says."""
        subject = x509.load_der_x509_certificate(certificate).subject if certificate else None
        if not self._trusted(peer):
            return Transport(tls, subject, peer)
        if not tls and self.proxy_tls_header:
            tls = headers.get(self.proxy_tls_header, "").strip().lower() in TLS_SCHEMES
        if subject is None and self.proxy_cert_header:
            subject = subject_of(headers.get(self.proxy_cert_header, ""))
        forwarded = headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1].strip()
        return Transport(tls, subject, forwarded or peer)

    def _trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.trusted_proxies)

    def admit(
        self,
        identity: str,
        offered: list[Subprotocol],
        transport: Transport,
        authorization: str | None,
    ) -> Admitted | Refused:
        """Run in a worker thread: reads (or creates) the row, checks a password hash."""
        charge_point = ChargePoint.objects.filter(identity=identity).first()
        if charge_point is None:
            if not self.admit_unknown:
                return Refused(HTTPStatus.NOT_FOUND, "Unknown charge point")
            version = SUBPROTOCOLS.get(choose_subprotocol(offered, None) or Subprotocol(""))
            charge_point = connections.admit_unknown(identity, version or OcppVersion.V16)
        refusal = self._authenticate(charge_point, transport, authorization)
        if refusal is not None:
            logger.warning(
                "Charge point %s from %s refused: %s",
                identity,
                transport.remote_address,
                refusal.reason,
            )
            return refusal
        subprotocol = choose_subprotocol(offered, charge_point.ocpp_version)
        return Admitted(charge_point, subprotocol, transport)

    def _authenticate(
        self, charge_point: ChargePoint, transport: Transport, authorization: str | None
    ) -> Refused | None:
        profile = charge_point.security_profile
        if profile != SecurityProfile.BASIC and not transport.tls:
            return Refused(HTTPStatus.FORBIDDEN, f"Security profile {profile} needs TLS")
        if profile == SecurityProfile.TLS_CLIENT_CERTIFICATE:
            return self._certificate(charge_point, transport.subject)
        if self._awaiting_password(charge_point):
            return None
        if authorization is None:
            return Refused(HTTPStatus.UNAUTHORIZED, "No password")
        try:
            user, password = parse_authorization_basic(authorization)
        except InvalidHeader:
            return Refused(HTTPStatus.UNAUTHORIZED, "Not HTTP Basic credentials")
        if user != charge_point.identity or not _password_matches(password, charge_point):
            return Refused(HTTPStatus.UNAUTHORIZED, "Wrong user or password")
        return None

    def _awaiting_password(self, charge_point: ChargePoint) -> bool:
        """Admitted as unknown and not yet given a password by an operator."""
        return (
            self.admit_unknown
            and not charge_point.password_hash
            and charge_point.registration_status == RegistrationStatus.PENDING
        )

    def _certificate(self, charge_point: ChargePoint, subject: x509.Name | None) -> Refused | None:
        if subject is None:
            return Refused(HTTPStatus.FORBIDDEN, "Security profile 3 needs a client certificate")
        values = [
            attribute.value for attribute in subject.get_attributes_for_oid(self.identity_oid)
        ]
        if values != [charge_point.identity]:
            return Refused(
                HTTPStatus.FORBIDDEN,
                f"The client certificate is another's: {subject.rfc4514_string()}",
            )
        return None


def _password_matches(password: str, charge_point: ChargePoint) -> bool:
    try:
        return password_matches(charge_point.password_hash, password)
    except UnicodeEncodeError:  # bytes that are not UTF-8 (websockets keeps them as surrogates)
        return False


def subject_of(value: str) -> x509.Name | None:
    """The subject of the client certificate a proxy passed: PEM (URL-escaped or not, as
    nginx's $ssl_client_escaped_cert), base64 DER (Traefik), or an RFC 4514 subject (nginx's
    $ssl_client_s_dn). None for nothing or what cannot be read."""
    value = unquote(value.strip())
    if not value:
        return None
    try:
        if PEM_BEGIN in value:
            return x509.load_pem_x509_certificate(value.encode()).subject
        try:
            der = base64.b64decode(value, validate=True)
        except binascii.Error:
            return x509.Name.from_rfc4514_string(value)
        return x509.load_der_x509_certificate(der).subject
    except ValueError:
        logger.warning("Unreadable client certificate from the proxy: %.100r", value)
        return None
