"""Checks on partner-supplied URLs and the addresses we connect to for them.

A partner hands us URLs (its versions URL, its module endpoints) that our servers then call
with our credentials. Refusing loopback, private, link-local and similar addresses keeps a
partner from pointing us at our own internal network (server-side request forgery). Tests and
`make run` run partners on loopback, so a setting allows them.

Two steps, so that a name is resolved once and what was vetted is what we connect to:
`check_partner_url` judges the URL itself (scheme, user information, port, an IP literal)
without resolving anything; `vetted_addresses` resolves a host name and judges every address,
and is called by the HTTP connection itself when it opens a socket (ocpi.pinning), which then
connects to exactly those addresses. A name checked first and resolved again by the request
could answer a public address the first time and 127.0.0.1 the second (DNS rebinding).
"""

import ipaddress
import socket
from typing import TypeAlias
from urllib.parse import urlsplit

from django.conf import settings

IpAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
# getaddrinfo's answer: (family, type, proto, canonname, sockaddr).
AddressInfo: TypeAlias = tuple[
    socket.AddressFamily, socket.SocketKind, int, str, tuple[str, int] | tuple[str, int, int, int]
]

# IPv6 forms that carry an IPv4 address, which a translator or tunnel on the path may turn
# into a connection to that IPv4 address, private or not (64:ff9b::a9fe:a9fe reaches
# 169.254.169.254 through NAT64). Python calls several of them global; refused outright.
EMBEDDED_IPV4_NETWORKS = tuple(
    ipaddress.IPv6Network(network)
    for network in (
        "64:ff9b::/96",  # NAT64, well-known prefix (RFC 6052)
        "64:ff9b:1::/48",  # NAT64, local use (RFC 8215)
        "2002::/16",  # 6to4 (RFC 3056)
        "2001::/32",  # Teredo (RFC 4380)
        "::/96",  # IPv4-compatible (RFC 4291 2.5.5.1, deprecated)
        "::ffff:0:0/96",  # IPv4-mapped (RFC 4291 2.5.5.2)
        "::ffff:0:0:0/96",  # IPv4-translated (RFC 2765, SIIT)
    )
)


class UnsafeUrl(ValueError):
    """The URL is not one we are willing to call."""


def is_public(address: IpAddress) -> bool:
    """Whether we may connect to `address`: a global unicast address that is no IPv6 wrapper
    of an IPv4 one. Reserved and (deprecated) site-local addresses count as not public."""
    if isinstance(address, ipaddress.IPv6Address) and (
        address.is_site_local or any(address in net for net in EMBEDDED_IPV4_NETWORKS)
    ):
        return False
    return address.is_global and not address.is_multicast and not address.is_reserved


def _refuse(host: str, address: IpAddress) -> UnsafeUrl:
    return UnsafeUrl(f"{host} resolves to {address}, a private or reserved address")


def check_partner_url(url: str) -> None:
    """Raise UnsafeUrl unless `url` is http(s), without user information, and names no
    address we may not call. Resolves nothing: names are judged when a connection is made
    (vetted_addresses)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (parsed lazily; a bad port raises only here)
    except ValueError as exc:
        raise UnsafeUrl(f"malformed URL: {exc}") from exc
    if parts.scheme not in {"http", "https"}:
        raise UnsafeUrl(f"only http and https URLs are allowed, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("URLs with user information are not allowed")
    if settings.OCPI_ALLOW_PRIVATE_URLS:
        return
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return  # a name
    if not is_public(address):
        raise _refuse(parts.hostname, address)


# OCPI's URL type: string(255) (types.asciidoc).
RESPONSE_URL_MAX_LENGTH = 255


def check_response_url(url: str) -> str | None:
    """Why a `response_url` a partner sent (commands, charging profiles) is refused, or None.

    Checked when the request comes, so the partner hears it at once rather than waiting for
    a result that cannot be sent; the rule is check_partner_url's, as for every partner URL,
    and its host is judged again when the result goes out (vetted_addresses)."""
    if len(url) > RESPONSE_URL_MAX_LENGTH:
        return f"longer than {RESPONSE_URL_MAX_LENGTH} characters"
    try:
        check_partner_url(url)
    except UnsafeUrl as exc:
        return str(exc)
    return None


def resolve(host: str, port: int) -> list[AddressInfo]:
    """The one DNS resolution of a partner host, per connection (tests stand in for it)."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)  # type: ignore[return-value]


def vetted_addresses(host: str, port: int) -> list[AddressInfo]:
    """Resolve `host` and return its addresses to connect to, or raise UnsafeUrl.

    Refused when any address is not public, not just skipped: a name that mixes public and
    private addresses is misconfigured or an attack, and trying the next address after a
    refused connection would reach the private one. socket.gaierror passes through.
    """
    infos = resolve(host, port)
    if not settings.OCPI_ALLOW_PRIVATE_URLS:
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not is_public(address):
                raise _refuse(host, address)
    return infos


def refusal(exc: BaseException) -> UnsafeUrl | None:
    """The UnsafeUrl that `exc` was raised from, at any depth: how a refusal made inside the
    HTTP connection (ocpi.pinning) comes out of the exceptions requests and urllib3 wrap it in."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, UnsafeUrl):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
