"""Partner URLs we are willing to call (ocpi/netsafety.py): no requests into our own network."""

import socket
from typing import Any

import pytest
from pytest_django import Settings

from ocpi.netsafety import UnsafeUrl, check_partner_url


@pytest.fixture(autouse=True)
def _production_rules(settings: Settings) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = False


def resolving_to(*addresses: str) -> Any:
    """Stand in for DNS, which is outside this machine."""

    def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses
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


@pytest.mark.parametrize(
    "host",
    [
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
        "[::1]",
        "[fe80::1]",
        "[fc00::1]",
        "[::ffff:127.0.0.1]",
    ],
)
def test_loopback_private_link_local_and_reserved_addresses_are_refused(host: str) -> None:
    with pytest.raises(UnsafeUrl, match="a private or reserved address$"):
        check_partner_url(f"http://{host}:8080/ocpi/versions")


@pytest.mark.parametrize("host", ["93.184.215.14", "[2606:4700:4700::1111]"])
def test_public_addresses_are_allowed(host: str) -> None:
    check_partner_url(f"https://{host}/ocpi/versions")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/ocpi/versions", "http://[::1]/", "http://10.1.1.1/"]
)
def test_private_addresses_are_allowed_when_configured(settings: Settings, url: str) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = True

    check_partner_url(url)


def test_hostnames_are_resolved_on_this_machine() -> None:
    """`localhost` comes from this machine's own resolver."""
    with pytest.raises(UnsafeUrl, match="^localhost resolves to 127.0.0.1, a private"):
        check_partner_url("http://localhost:8000/ocpi/versions")


def test_a_hostname_resolving_to_a_public_address_is_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("93.184.215.14"))

    check_partner_url("https://emsp.example.com/ocpi/versions")


def test_a_hostname_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("93.184.215.14", "10.0.0.7"))

    with pytest.raises(UnsafeUrl) as caught:
        check_partner_url("https://emsp.example.com/ocpi/versions")

    assert str(caught.value) == (
        "emsp.example.com resolves to 10.0.0.7, a private or reserved address"
    )


def test_a_hostname_that_does_not_resolve_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)

    with pytest.raises(UnsafeUrl, match="^cannot resolve emsp.example.com: "):
        check_partner_url("https://emsp.example.com/ocpi/versions")


def test_resolution_can_be_skipped_for_urls_checked_again_when_called(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("10.0.0.7"))

    check_partner_url("https://emsp.example.com/ocpi/versions", resolve=False)
    with pytest.raises(UnsafeUrl):
        check_partner_url("https://emsp.example.com/ocpi/versions")


def test_ip_literals_are_judged_without_resolution() -> None:
    with pytest.raises(UnsafeUrl, match="^10.0.0.1 resolves to 10.0.0.1"):
        check_partner_url("https://10.0.0.1/ocpi/versions", resolve=False)
