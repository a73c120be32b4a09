"""Checks on partner-supplied URLs before we store or call them.

A partner hands us URLs (its versions URL, its module endpoints) that our servers then call
with our credentials. Refusing loopback, private, link-local and similar addresses keeps a
partner from pointing us at our own internal network (server-side request forgery). Tests and
`make run` run partners on loopback, so a setting allows them.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeUrl(ValueError):
    """The URL is not one we are willing to call."""


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global and not address.is_multicast


def check_partner_url(url: str, *, resolve: bool = True) -> None:
    """Raise UnsafeUrl unless `url` is http(s) and every address it names may be called."""
    try:
        parts = urlsplit(url)
        port = parts.port  # parsed lazily; a bad port raises only here
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
        addresses = [ipaddress.ip_address(parts.hostname)]
    except ValueError:
        if not resolve:
            return
        try:
            infos = socket.getaddrinfo(parts.hostname, port or 443, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise UnsafeUrl(f"cannot resolve {parts.hostname}: {exc}") from exc
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not _is_public(address):
            raise UnsafeUrl(
                f"{parts.hostname} resolves to {address}, a private or reserved address"
            )
