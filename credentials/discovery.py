"""Find a partner's 2.2.1 endpoints from its versions URL (credentials.asciidoc, steps 2, 4).

Used both when we register with a partner (with its token A) and when a partner registers
with us or updates its credentials (with the token it gave us). Failures carry the OCPI code
the credentials module answers with: 3001, 3002 or 3003.
"""

import logging
from dataclasses import dataclass
from typing import Any

from credentials.serializers import VersionDetailsSerializer, VersionSerializer
from ocpi.client import OcpiClient, OcpiClientError, OcpiReply, OcpiUnauthorized
from ocpi.enums import SUPPORTED_VERSION, ModuleID
from ocpi.exceptions import (
    ClientApiUnusable,
    NoMatchingEndpoints,
    UnsupportedVersion,
    validation_message,
)
from ocpi.netsafety import UnsafeUrl, check_partner_url

logger = logging.getLogger(__name__)

# What a partner must offer before we connect: the credentials module, so that token
# rotation and unregistration can reach it. Module apps do not add requirements: a CPO can
# serve an eMSP that only pulls.
REQUIRED_MODULES = frozenset({ModuleID.CREDENTIALS.value})


@dataclass(frozen=True)
class DiscoveredEndpoint:
    identifier: str
    role: str
    url: str


@dataclass(frozen=True)
class Discovery:
    version: str
    version_url: str
    endpoints: list[DiscoveredEndpoint]
    plain_tokens: bool

    def endpoint(self, identifier: str) -> str | None:
        return next((e.url for e in self.endpoints if e.identifier == identifier), None)


def _get(url: str, token: str, plain: bool) -> OcpiReply:
    client = OcpiClient(token, plain_token=plain)
    try:
        reply = client.get(url)
    except OcpiUnauthorized:
        raise
    except OcpiClientError as exc:
        raise ClientApiUnusable(f"Cannot use {url}: {exc}") from exc
    if not reply.ok or reply.http_status != 200:
        raise ClientApiUnusable(
            f"GET {url} answered HTTP {reply.http_status}, OCPI {reply.status_code}"
            f" {reply.status_message or ''}".rstrip()
        )
    return reply


def _fetch_versions(versions_url: str, token: str, plain: bool | None) -> tuple[OcpiReply, bool]:
    """GET the versions list; when the encoding is unknown, try Base64 first, then plain.

    The spec (transport_and_format, Authorization) allows this trial for peers that
    predate the Base64 rule; what works is remembered for the partner.
    """
    attempts = [plain] if plain is not None else [False, True]
    last_error: OcpiUnauthorized | None = None
    for attempt in attempts:
        try:
            return _get(versions_url, token, attempt), attempt
        except OcpiUnauthorized as exc:
            last_error = exc
    raise ClientApiUnusable(f"{versions_url} refused our token: {last_error}")


def discover(versions_url: str, token: str, *, plain_tokens: bool | None = None) -> Discovery:
    """Fetch the partner's versions and the 2.2.1 details; raise 3001/3002/3003 errors."""
    try:
        check_partner_url(versions_url)
    except UnsafeUrl as exc:
        raise ClientApiUnusable(f"Versions URL not allowed: {exc}") from exc
    reply, plain = _fetch_versions(versions_url, token, plain_tokens)
    versions = VersionSerializer(data=reply.data, many=True)
    if not versions.is_valid():
        raise ClientApiUnusable(
            f"Versions list from {versions_url} is invalid: {validation_message(versions.errors)}"
        )
    version_url = next(
        (v["url"] for v in versions.validated_data if v["version"] == SUPPORTED_VERSION.value),
        None,
    )
    if version_url is None:
        offered = ", ".join(v["version"] for v in versions.validated_data) or "none"
        raise UnsupportedVersion(f"No mutual version: we speak 2.2.1, the partner offers {offered}")
    try:
        check_partner_url(version_url)
    except UnsafeUrl as exc:
        raise ClientApiUnusable(f"Version details URL not allowed: {exc}") from exc
    try:
        details_reply = _get(version_url, token, plain)
    except OcpiUnauthorized as exc:
        raise ClientApiUnusable(f"{version_url} refused our token: {exc}") from exc
    details = VersionDetailsSerializer(data=details_reply.data)
    if not details.is_valid():
        raise ClientApiUnusable(
            f"Version details from {version_url} are invalid: {validation_message(details.errors)}"
        )
    if details.validated_data["version"] != SUPPORTED_VERSION.value:
        logger.warning(
            "Version details at %s claim version %s; using them as 2.2.1",
            version_url,
            details.validated_data["version"],
        )
    endpoints = _usable_endpoints(details.validated_data["endpoints"])
    missing = REQUIRED_MODULES - {e.identifier for e in endpoints}
    if missing:
        raise NoMatchingEndpoints(f"Required endpoints missing: {', '.join(sorted(missing))}")
    return Discovery(
        version=SUPPORTED_VERSION.value,
        version_url=version_url,
        endpoints=endpoints,
        plain_tokens=plain,
    )


def _usable_endpoints(raw: list[dict[str, Any]]) -> list[DiscoveredEndpoint]:
    """Keep endpoints we may call; the first of a repeated (identifier, role) wins."""
    endpoints: dict[tuple[str, str], DiscoveredEndpoint] = {}
    for item in raw:
        role = "SENDER" if item["identifier"] == ModuleID.CREDENTIALS else item["role"]
        try:
            check_partner_url(item["url"])
        except UnsafeUrl as exc:
            logger.warning("Ignoring partner endpoint %s %s: %s", item["identifier"], role, exc)
            continue
        endpoints.setdefault(
            (item["identifier"], role), DiscoveredEndpoint(item["identifier"], role, item["url"])
        )
    return list(endpoints.values())
