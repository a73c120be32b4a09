"""A requests Session for calls that repeat to the same partners, with less per-call work.

Before every request a plain Session reads the process environment twice over for proxy
settings (HTTP(S)_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE…) and looks for ~/.netrc, on the paths
of real-time authorization (a driver waits) and of push delivery. The environment of a
running process does not change: this session reads it once per origin (scheme and host)
and keeps what it found. Our requests carry their own Authorization header, so ~/.netrc
could never apply to them.

This overrides how requests merges the environment into each request (Session.
merge_environment_settings, which Session.request calls), a kept override: bench/RESULTS.md,
"Overrides kept", says what it is worth and what an upgrade can break.

Its connections are pinned to the addresses ocpi.netsafety vetted (ocpi.pinning): every
session that calls partners is one of these.
"""

from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import DEFAULT_POOLSIZE

from ocpi.pinning import PinnedAdapter


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """An authentication that changes nothing: naming one keeps requests from reading
    ~/.netrc before every request."""
    return request


class KeptSession(requests.Session):
    def __init__(self, *, pool_maxsize: int = DEFAULT_POOLSIZE) -> None:
        """`pool_maxsize`: connections kept per origin (threads that send at once)."""
        super().__init__()
        adapter = PinnedAdapter(pool_maxsize=pool_maxsize)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.auth = _keep_headers
        self._environment: dict[tuple[str, str], Any] = {}

    def merge_environment_settings(
        self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        if proxies or stream or verify is not None or cert is not None or url is None:
            # Per-call settings, which OcpiClient never passes: requests' own merge.
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        text = url.decode() if isinstance(url, bytes) else url
        parts = urlsplit(text)
        origin = (parts.scheme, parts.netloc)
        found = self._environment.get(origin)
        if found is None:
            found = super().merge_environment_settings(text, {}, stream, verify, cert)
            self._environment[origin] = found
        # Copies: requests may change what it is given (it does, following redirects).
        return {**found, "proxies": dict(found["proxies"])}
