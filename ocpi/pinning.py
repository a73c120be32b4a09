"""HTTP connections to partners that connect to the addresses ocpi.netsafety vetted.

The connection resolves the partner's host name once, when it opens its socket, refuses it
unless every address is one we may call (netsafety.vetted_addresses), and connects to those
very addresses: nothing is resolved a second time, so nothing can be rebound to 127.0.0.1 in
between. Everything else still uses the name: the Host header, the TLS server name (SNI) and
the certificate's hostname check. A pooled connection was vetted when it was opened and is
reused as it is; a dropped one is vetted again when urllib3 reconnects it. The check costs
one getaddrinfo per new connection, never one per request.

How it hooks into requests and urllib3 (2.x), and what an upgrade could break (listed with
the other overrides of framework internals in bench/RESULTS.md, "Overrides kept"):

- `PinnedAdapter.init_poolmanager()` is requests' documented way to change the pool manager
  of a transport adapter; it points urllib3's `PoolManager.pool_classes_by_scheme` (a public
  attribute read when a pool is made) at our pool classes.
- Our pools set `ConnectionCls`, the documented class attribute naming a pool's connection
  class.
- Our connections override `HTTPConnection._new_conn()`, the one internal we rely on: the
  method that opens the socket, which `connect()` of both HTTPConnection and HTTPSConnection
  calls before any TLS handshake (the same hook the `advocate` library uses). It is
  unchanged from urllib3 1.x to 2.x. Should an upgrade rename it or open sockets elsewhere,
  connections would silently resolve on their own again:
  tests/ocpi/test_pinning.py (`test_urllib3_opens_sockets_through_new_conn` and the
  rebinding tests) then fail.
- Through a proxy (HTTP(S)_PROXY in the environment) the proxy opens the connection and
  resolves the name itself, so no address can be pinned: `PinnedAdapter.send()` (public)
  still refuses a name that resolves to an address we may not call, and egress filtering is
  the proxy's job.
"""

import socket
import sys
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import DEFAULT_POOLBLOCK, HTTPAdapter
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from ocpi.netsafety import AddressInfo, UnsafeUrl, vetted_addresses

_DEFAULT_PORTS = {"http": 80, "https": 443}


class RefusedAddress(NewConnectionError):
    """The partner's host resolved to an address we may not call; nothing was connected.

    A NewConnectionError, so that requests reports it as a ConnectionError, never retried.
    Raised from the UnsafeUrl that says why (netsafety.refusal finds it).
    """


def _connect(
    infos: list[AddressInfo],
    timeout: object,
    source_address: tuple[str, int] | None,
    socket_options: Sequence[tuple[int, int, int | bytes]] | None,
) -> socket.socket:
    """A socket connected to the first of `infos` that answers, as urllib3 would connect
    (its socket options, timeout, source address), but to these addresses only."""
    error: OSError = OSError("the name resolved to no address")
    for family, kind, proto, _, sockaddr in infos:
        sock: socket.socket | None = None
        try:
            sock = socket.socket(family, kind, proto)
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is None or isinstance(timeout, int | float):
                sock.settimeout(timeout)  # else urllib3's "default": the socket's default
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
        except OSError as exc:
            if sock is not None:
                sock.close()
            error = exc
        else:
            return sock
    raise error


def open_vetted(conn: HTTPConnection) -> socket.socket:
    """What urllib3's HTTPConnection._new_conn() does, resolving through netsafety: the same
    exceptions for the same failures, plus RefusedAddress."""
    try:
        infos = vetted_addresses(conn.host, conn.port)
    except socket.gaierror as exc:
        raise NameResolutionError(conn.host, conn, exc) from exc
    except UnsafeUrl as exc:
        raise RefusedAddress(conn, str(exc)) from exc
    try:
        sock = _connect(infos, conn.timeout, conn.source_address, conn.socket_options)
    except TimeoutError as exc:
        raise ConnectTimeoutError(
            conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
        ) from exc
    except OSError as exc:
        raise NewConnectionError(conn, f"Failed to establish a new connection: {exc}") from exc
    sys.audit("http.client.connect", conn, conn.host, conn.port)
    return sock


class PinnedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return open_vetted(self)


class PinnedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return open_vetted(self)


class PinnedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = PinnedHTTPConnection


class PinnedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = PinnedHTTPSConnection


class PinnedAdapter(HTTPAdapter):
    """A transport adapter whose connections are pinned to vetted addresses; mount it for
    http:// and https:// on every session that calls partners (ocpi.httpsession)."""

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = DEFAULT_POOLBLOCK, **pool_kwargs: object
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": PinnedHTTPConnectionPool,
            "https": PinnedHTTPSConnectionPool,
        }

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: None | float | tuple[float, float] | tuple[float, None] = None,
        verify: bool | str = True,
        cert: None | bytes | str | tuple[bytes | str, bytes | str] = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if proxies and request.url and select_proxy(request.url, proxies):
            _vet_proxied(request)
        return super().send(request, stream, timeout, verify, cert, proxies)


def _vet_proxied(request: requests.PreparedRequest) -> None:
    """Refuse a partner host behind a proxy that resolves here to an address we may not call
    (the proxy resolves it again: see the module docstring). Nothing to resolve when every
    address is allowed: the proxy may know names this machine does not."""
    if settings.OCPI_ALLOW_PRIVATE_URLS:
        return
    parts = urlsplit(str(request.url))
    host = parts.hostname or ""
    try:
        vetted_addresses(host, parts.port or _DEFAULT_PORTS.get(parts.scheme, 443))
    except UnsafeUrl as exc:
        raise requests.ConnectionError(str(exc), request=request) from exc
    except socket.gaierror as exc:
        raise requests.ConnectionError(f"cannot resolve {host}: {exc}", request=request) from exc
