"""The one outbound HTTP client for calls to partner platforms.

Every call: the credentials token in the Authorization header (Base64 unless the partner
wants it plain), a new X-Request-ID, the X-Correlation-ID of the work in progress, routing
headers on functional modules, timeouts, and no redirects (a redirect would drop a PUT's body
and could lead our token to another host). Never call it inside an open database transaction.
"""

import logging
import re
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from django.conf import settings

from ocpi.context import current_correlation_id, new_id
from ocpi.httpsession import KeptSession
from ocpi.json import dumps, loads
from ocpi.netsafety import UnsafeUrl, check_partner_url, refusal
from ocpi.routing import RoutingHeaders
from ocpi.status import is_success
from ocpi.time import parse_datetime
from ocpi.tokens import encode_authorization

logger = logging.getLogger(__name__)

USER_AGENT = "ocpi-platform/2.2.1"
_LINK_NEXT = re.compile(r'<(?P<url>[^>]+)>\s*;\s*rel="?next"?', flags=re.IGNORECASE)


class OcpiClientError(Exception):
    """A call that produced no usable OCPI answer."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class OcpiTransportError(OcpiClientError):
    """Nothing usable came back: refused, timed out, redirected, or not the envelope."""


class OcpiUnauthorized(OcpiClientError):
    """The partner refused our token (HTTP 401, or 403 from peers that use it instead)."""


@dataclass
class OcpiReply:
    http_status: int
    status_code: int
    status_message: str | None
    data: Any
    headers: Mapping[str, str]
    duration: float
    body_excerpt: str = field(repr=False, default="")

    @property
    def ok(self) -> bool:
        return is_success(self.status_code)


def join_url(base: str, *segments: str) -> str:
    """Append path segments with exactly one `/` between them (spec templates omit it)."""
    url = base.rstrip("/")
    for segment in segments:
        url += "/" + segment.strip("/")
    return url


class OcpiClient:
    def __init__(
        self,
        token: str,
        *,
        plain_token: bool = False,
        timeout: tuple[float, float] | None = None,
        session: KeptSession | None = None,
    ) -> None:
        self._authorization = encode_authorization(token, plain=plain_token)
        self._timeout = timeout or (
            settings.OCPI_HTTP_CONNECT_TIMEOUT,
            settings.OCPI_HTTP_READ_TIMEOUT,
        )
        # Its connections go to the addresses netsafety vetted (ocpi.pinning).
        self._session = session or KeptSession()

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        routing: RoutingHeaders | None = None,
    ) -> OcpiReply:
        self.check(url)
        body = dumps(json).encode("utf-8") if json is not None else None
        return self.send(
            method,
            url,
            body=body,
            params=params,
            headers=routing.as_headers() if routing is not None else None,
        )

    @staticmethod
    def check(url: str) -> None:
        """Refuse a URL we must not call (ocpi.netsafety) before any request goes to it.

        Judges the URL only: its host name is resolved and judged once, by the connection
        that goes to it (ocpi.pinning), which then refuses as this does."""
        try:
            check_partner_url(url)
        except UnsafeUrl as exc:
            raise OcpiTransportError(f"refusing to call {url}: {exc}") from exc

    def send(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> OcpiReply:
        """request() for a URL already check()ed and a body already JSON: what the outbox
        sends, its payload stored as JSON and its partner's URL checked once per batch."""
        all_headers = {
            "Authorization": self._authorization,
            "X-Request-ID": new_id(),
            "X-Correlation-ID": current_correlation_id.get() or new_id(),
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        if headers:
            all_headers.update(headers)
        started = time.monotonic()
        try:
            response = self._session.request(
                method,
                url,
                data=body,
                params=params,
                headers=all_headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            refused = refusal(exc)
            if refused is not None:
                raise OcpiTransportError(f"refusing to call {url}: {refused}") from exc
            reason = transport_reason(exc, url, self._timeout)
            raise OcpiTransportError(f"{method} {url} failed: {reason}") from exc
        duration = time.monotonic() - started
        logger.info(
            "OCPI %s %s -> HTTP %s in %.0f ms (request %s)",
            method,
            url,
            response.status_code,
            duration * 1000,
            all_headers["X-Request-ID"],
        )
        return self._reply(method, url, response, duration)

    def _reply(
        self, method: str, url: str, response: requests.Response, duration: float
    ) -> OcpiReply:
        # Decode only the excerpt: response.text would guess a charset over the whole body.
        excerpt = response.content[:500].decode("utf-8", errors="replace")
        if response.status_code in (401, 403):
            raise OcpiUnauthorized(
                f"{method} {url}: HTTP {response.status_code}, token refused",
                http_status=response.status_code,
            )
        if 300 <= response.status_code < 400:
            raise OcpiTransportError(
                f"{method} {url}: HTTP {response.status_code} redirect, not followed",
                http_status=response.status_code,
            )
        try:
            body = loads(response.content) if response.content else None
        except (ValueError, RecursionError) as exc:  # deep JSON: as a request's (ocpi.limits)
            raise OcpiTransportError(
                f"{method} {url}: HTTP {response.status_code}, body is not JSON: {excerpt!r}",
                http_status=response.status_code,
            ) from exc
        if not isinstance(body, dict) or not isinstance(body.get("status_code"), int):
            raise OcpiTransportError(
                f"{method} {url}: HTTP {response.status_code}, not an OCPI envelope: {excerpt!r}",
                http_status=response.status_code,
            )
        timestamp = body.get("timestamp")
        if timestamp is not None:
            try:
                parse_datetime(timestamp)
            except ValueError:
                logger.warning(
                    "OCPI %s %s: envelope timestamp %r is not UTC", method, url, timestamp
                )
        return OcpiReply(
            http_status=response.status_code,
            status_code=body["status_code"],
            status_message=body.get("status_message"),
            data=body.get("data"),
            headers=response.headers,
            duration=duration,
            body_excerpt=excerpt,
        )

    def get(self, url: str, **kwargs: Any) -> OcpiReply:
        return self.request("GET", url, **kwargs)

    def iter_pages(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        routing: RoutingHeaders | None = None,
        max_pages: int = 100_000,
    ) -> Iterator[list[Any]]:
        """Yield each page's list of objects, following `Link: <…>; rel="next"`.

        When X-Total-Count drops between pages, objects before our offset have gone and
        later ones moved forward: step the offset back by the drop and read again, so nothing
        is skipped (transport_and_format.asciidoc, Pagination). Objects seen twice are the
        caller's to de-duplicate by id.
        """
        next_url: str | None = url
        next_params: Mapping[str, Any] | None = params
        previous_total: int | None = None
        offset = int((params or {}).get("offset", 0))
        for _ in range(max_pages):
            if next_url is None:
                return
            reply = self.request("GET", next_url, params=next_params, routing=routing)
            if not reply.ok or reply.http_status != 200:
                raise OcpiClientError(
                    f"GET {next_url}: HTTP {reply.http_status}, OCPI {reply.status_code} "
                    f"{reply.status_message or ''}".strip(),
                    http_status=reply.http_status,
                )
            page = reply.data if isinstance(reply.data, list) else []
            total = _int_header(reply.headers, "X-Total-Count")
            link = _next_link(reply.headers.get("Link", ""))
            if previous_total is not None and total is not None and total < previous_total:
                shrink = previous_total - total
                offset = max(0, offset - shrink)
                logger.info(
                    "X-Total-Count dropped by %s; re-reading from offset %s", shrink, offset
                )
                previous_total = total
                next_url, next_params = _with_offset(next_url, next_params, offset)
                continue
            yield page
            previous_total = total
            offset += len(page)
            next_url = _same_host(next_url, urljoin(next_url, link)) if link else None
            next_params = None
        raise OcpiClientError(f"GET {url}: more than {max_pages} pages, stopped")


def transport_reason(exc: requests.RequestException, url: str, timeout: tuple[float, float]) -> str:
    """What went wrong, in an operator's words: requests and urllib3 wrap the cause in
    their pools' and connections' representations (`PinnedHTTPConnectionPool(host=…):
    Max retries exceeded … (Caused by NewConnectionError(…))`)."""
    where = urlsplit(url).netloc
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"could not connect to {where}: no connection within {timeout[0]:g} s"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"Read timed out: no answer from {where} within {timeout[1]:g} s"
    cause = _root_cause(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        detail = getattr(cause, "verify_message", None) or getattr(cause, "reason", None)
        return f"TLS with {where} failed: {detail or cause}"
    if isinstance(exc, requests.exceptions.ConnectionError) and isinstance(cause, OSError):
        if isinstance(cause, socket.gaierror):
            return f"could not connect to {where}: host name not found ({cause.strerror})"
        if cause.strerror:
            return f"could not connect to {where}: {cause.strerror}"
    return str(exc)


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception behind `exc` (its causes, and MaxRetryError's `reason`)."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = exc.__cause__ or getattr(exc, "reason", None)
        if inner is None and exc.args and isinstance(exc.args[0], BaseException):
            inner = exc.args[0]
        if not isinstance(inner, BaseException):
            break
        exc = inner
    return exc


def _same_host(current: str, following: str) -> str:
    """Follow a Link only to the host we were crawling: it would receive our token.

    The scheme and port may change (proxies write http:// links behind https); the host not.
    """
    if urlsplit(following).hostname != urlsplit(current).hostname:
        raise OcpiClientError(f"Link leads to another host: {urlsplit(following).hostname}")
    return following


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers.get(name, ""))
    except ValueError:
        return None


def _next_link(header: str) -> str | None:
    match = _LINK_NEXT.search(header)
    return match["url"] if match else None


def _with_offset(
    url: str, params: Mapping[str, Any] | None, offset: int
) -> tuple[str, Mapping[str, Any]]:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update({k: str(v) for k, v in (params or {}).items()})
    query["offset"] = str(offset)
    return urlunsplit(parts._replace(query=urlencode(query))), {}
