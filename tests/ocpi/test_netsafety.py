"""Partner URLs and addresses we are willing to call (ocpi/netsafety.py): no requests into our
own network. How connections use vetted_addresses: tests/ocpi/test_pinning.py."""

import ipaddress
import socket
from typing import Any

import pytest
from pytest_django import Settings

from ocpi.netsafety import UnsafeUrl, check_partner_url, vetted_addresses


@pytest.fixture(autouse=True)
def _production_rules(settings: Settings) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = False


def resolving_to(*addresses: str) -> Any:
    """Stand in for DNS, which is outside this machine."""

    def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port),
            )
            for address in addresses
        ]

    return getaddrinfo


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://cpo.example.com/ocpi/versions", "only http and https URLs are allowed, not 'ftp'"),
        ("file:///etc/passwd", "only http and https URLs are allowed, not 'file'"),
        ("gopher://cpo.example.com/", "only http and https URLs are allowed, not 'gopher'"),
        ("cpo.example.com/ocpi/versions", "only http and https URLs are allowed, not 'none'"),
        ("https:///ocpi/versions", "the URL has no host"),
        ("https://user:secret@cpo.example.com/", "URLs with user information are not allowed"),
        ("https://user@cpo.example.com/", "URLs with user information are not allowed"),
        ("https://cpo.example.com:99999/", "malformed URL: Port out of range 0-65535"),
        (
            "https://cpo.example.com:http/",
            "malformed URL: Port could not be cast to integer value as 'http'",
        ),
        ("https://[::1/ocpi", "malformed URL: Invalid IPv6 URL"),
    ],
)
def test_only_plain_http_urls_are_allowed(url: str, message: str) -> None:
    with pytest.raises(UnsafeUrl) as caught:
        check_partner_url(url)

    assert str(caught.value) == message


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1/", "https://user:secret@127.0.0.1/", "http://127.0.0.1:70000/"],
)
def test_scheme_and_userinfo_rules_hold_even_when_private_urls_are_allowed(
    settings: Settings, url: str
) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = True

    with pytest.raises(UnsafeUrl):
        check_partner_url(url)


REFUSED_ADDRESSES = [
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "192.0.2.1",  # documentation
    "240.0.0.1",  # reserved
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fec0::1",  # site-local (deprecated)
    "ff02::1",  # multicast
    "100::1",  # discard
    "2001:db8::1",  # documentation
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:8.8.8.8",  # IPv4-mapped, of a public address: refused all the same
    "::ffff:0:a9fe:a9fe",  # IPv4-translated
    "::a9fe:a9fe",  # IPv4-compatible
    "::808:808",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::808:808",
    "64:ff9b:1::a9fe:a9fe",  # NAT64, local use
    "2002:a9fe:a9fe::",  # 6to4
    "2002:808:808::",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]


def literal(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_loopback_private_reserved_and_ipv4_embedding_literals_are_refused(address: str) -> None:
    with pytest.raises(UnsafeUrl) as caught:
        check_partner_url(f"http://{literal(address)}:8080/ocpi/versions")

    shown = ipaddress.ip_address(address)
    assert str(caught.value) == f"{address} resolves to {shown}, a private or reserved address"


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_a_name_resolving_to_any_refused_address_is_refused(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to(address))

    with pytest.raises(UnsafeUrl) as caught:
        vetted_addresses("emsp.example.com", 443)

    assert str(caught.value) == (
        f"emsp.example.com resolves to {ipaddress.ip_address(address)}, "
        "a private or reserved address"
    )


@pytest.mark.parametrize("host", ["93.184.215.14", "[2606:4700:4700::1111]"])
def test_public_addresses_are_allowed(host: str) -> None:
    check_partner_url(f"https://{host}/ocpi/versions")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/ocpi/versions",
        "http://[::1]/",
        "http://10.1.1.1/",
        "http://[64:ff9b::a9fe:a9fe]/",
    ],
)
def test_private_addresses_are_allowed_when_configured(settings: Settings, url: str) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = True

    check_partner_url(url)


def test_names_are_not_resolved_by_the_url_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection resolves and judges the name, once (ocpi.pinning)."""
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("10.0.0.7"))

    check_partner_url("https://emsp.example.com/ocpi/versions")


def test_hostnames_are_resolved_on_this_machine() -> None:
    """`localhost` comes from this machine's own resolver."""
    with pytest.raises(UnsafeUrl, match="^localhost resolves to 127.0.0.1, a private"):
        vetted_addresses("localhost", 8000)


def test_the_addresses_of_a_public_name_are_returned_to_connect_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("93.184.215.14", "93.184.215.15"))

    infos = vetted_addresses("emsp.example.com", 443)

    assert [info[4] for info in infos] == [("93.184.215.14", 443), ("93.184.215.15", 443)]


def test_a_name_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("93.184.215.14", "10.0.0.7"))

    with pytest.raises(UnsafeUrl) as caught:
        vetted_addresses("emsp.example.com", 443)

    assert str(caught.value) == (
        "emsp.example.com resolves to 10.0.0.7, a private or reserved address"
    )


def test_private_addresses_of_a_name_are_returned_when_configured(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = True
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("127.0.0.1"))

    infos = vetted_addresses("emsp.example.com", 8000)

    assert [info[4] for info in infos] == [("127.0.0.1", 8000)]


def test_a_name_that_does_not_resolve_raises_the_resolver_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)

    with pytest.raises(socket.gaierror, match="Name or service not known"):
        vetted_addresses("emsp.example.com", 443)
