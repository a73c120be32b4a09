"""The real-time authorization call to an eMSP (mod_tokens, Sender Interface, POST Method).

`POST {tokens_endpoint_url}/{token_uid}/authorize?type={type}` with an optional
LocationReferences body. A driver waits at the charge point, so the call has a tight timeout
(TOKENS_AUTHORIZE_TIMEOUT) and reuses a kept-alive connection per thread. This module only
asks and classifies the answer; tokens.services decides what it means for the driver.
"""

import logging
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from django.conf import settings
from rest_framework.exceptions import ValidationError

from ocpi.client import (
    OcpiClient,
    OcpiClientError,
    OcpiReply,
    OcpiTransportError,
    OcpiUnauthorized,
    join_url,
)
from ocpi.exceptions import validation_message
from ocpi.httpsession import KeptSession
from ocpi.routing import RoutingHeaders
from ocpi.status import OcpiStatus, is_client_error, is_success
from tokens.authorization import LocationReferences
from tokens.selectors import TokensSender
from tokens.serializers import AuthorizationInfoSerializer

logger = logging.getLogger(__name__)

# Share of the budget for the TCP (and TLS) connect; the rest is for the answer.
CONNECT_SHARE = 0.25


class Answer(StrEnum):
    AUTHORIZATION_INFO = "AUTHORIZATION_INFO"  # a valid AuthorizationInfo in a 1xxx answer
    UNKNOWN_TOKEN = "UNKNOWN_TOKEN"  # noqa: S105 (HTTP 404 or OCPI 2004)
    NOT_ENOUGH_INFORMATION = "NOT_ENOUGH_INFORMATION"  # OCPI 2002
    REJECTED = "REJECTED"  # any other 2xxx: the eMSP refused our request
    NO_ANSWER = "NO_ANSWER"  # nothing usable: network, timeout, 5xx, 3xxx/4xxx, bad body


@dataclass(frozen=True)
class RealtimeAnswer:
    kind: Answer
    detail: str
    info: dict[str, Any] | None = None  # AuthorizationInfoSerializer validated data
    duration: float | None = None


def authorize_timeout() -> tuple[float, float]:
    """(connect, read) seconds that add up to TOKENS_AUTHORIZE_TIMEOUT."""
    budget = float(settings.TOKENS_AUTHORIZE_TIMEOUT)
    return budget * CONNECT_SHARE, budget * (1 - CONNECT_SHARE)


_local = threading.local()


def _session() -> KeptSession:
    """One session per thread: the connection to an eMSP stays open between drivers, and
    the environment's proxy settings are read once (ocpi.httpsession)."""
    session: KeptSession | None = getattr(_local, "session", None)
    if session is None:
        session = _local.session = KeptSession()
    return session


def _validator() -> AuthorizationInfoSerializer:
    """One AuthorizationInfoSerializer per thread, used only through run_validation(): a new
    one for every answer would deep-copy its declared fields, most of what validating costs
    (fields keep no state between validations; per thread all the same). It relies on how
    DRF validates: bench/RESULTS.md, "Overrides kept"."""
    validator: AuthorizationInfoSerializer | None = getattr(_local, "validator", None)
    if validator is None:
        validator = _local.validator = AuthorizationInfoSerializer()
    return validator


def validate_authorization_info(data: Any) -> tuple[dict[str, Any] | None, str]:
    """(validated data, "") or (None, what is wrong), as AuthorizationInfoSerializer says."""
    try:
        return dict(_validator().run_validation(data)), ""
    except ValidationError as exc:
        return None, validation_message(exc.detail)


def authorize_url(endpoint_url: str, uid: str) -> str:
    """`{tokens_endpoint_url}{token_uid}/authorize`, joined with one `/` (ocpi-2.2.1.md §1.1)."""
    return join_url(endpoint_url, quote(uid, safe=""), "authorize")


def request_authorization(
    *,
    sender: TokensSender,
    uid: str,
    token_type: str,
    location: LocationReferences | None,
    routing: RoutingHeaders | None,
) -> RealtimeAnswer:
    client = OcpiClient(
        sender.token,
        plain_token=sender.plain_tokens,
        timeout=authorize_timeout(),
        session=_session(),
    )
    url = authorize_url(sender.url, uid)
    try:
        reply = client.request(
            "POST",
            url,
            json=location.as_ocpi() if location is not None else None,
            params={"type": token_type},
            routing=routing,
        )
    except OcpiUnauthorized as exc:
        logger.error("Authorize at partner %s: our token was refused: %s", sender.partner_id, exc)
        return RealtimeAnswer(Answer.NO_ANSWER, str(exc))
    except OcpiTransportError as exc:
        # The spec's unknown token is HTTP 404 whatever the body (mod_tokens, POST Method).
        if exc.http_status == 404:
            return RealtimeAnswer(Answer.UNKNOWN_TOKEN, f"HTTP 404 from {url}")
        logger.warning("Authorize at partner %s: no answer: %s", sender.partner_id, exc)
        return RealtimeAnswer(Answer.NO_ANSWER, str(exc))
    except OcpiClientError as exc:
        logger.warning("Authorize at partner %s failed: %s", sender.partner_id, exc)
        return RealtimeAnswer(Answer.NO_ANSWER, str(exc))
    return classify(reply, partner_id=sender.partner_id)


def classify(reply: OcpiReply, *, partner_id: int | None = None) -> RealtimeAnswer:
    """What an envelope answer to POST authorize means (status_codes.asciidoc)."""
    duration = reply.duration
    code = reply.status_code
    described = f"HTTP {reply.http_status}, OCPI {code} {reply.status_message or ''}".rstrip()
    if reply.http_status == 404 or code == OcpiStatus.UNKNOWN_TOKEN:
        return RealtimeAnswer(Answer.UNKNOWN_TOKEN, described, duration=duration)
    if code == OcpiStatus.NOT_ENOUGH_INFORMATION:
        return RealtimeAnswer(Answer.NOT_ENOUGH_INFORMATION, described, duration=duration)
    if reply.http_status >= 500 or not (is_success(code) or is_client_error(code)):
        return RealtimeAnswer(Answer.NO_ANSWER, described, duration=duration)
    if is_client_error(code) or not 200 <= reply.http_status < 300:
        return RealtimeAnswer(Answer.REJECTED, described, duration=duration)
    info, problem = validate_authorization_info(_single_object(reply.data))
    if info is None:
        logger.warning(
            "Authorize at partner %s: invalid AuthorizationInfo: %s", partner_id, problem
        )
        return RealtimeAnswer(
            Answer.NO_ANSWER, f"invalid AuthorizationInfo: {problem}", duration=duration
        )
    return RealtimeAnswer(Answer.AUTHORIZATION_INFO, described, info=info, duration=duration)


def _single_object(data: Any) -> Any:
    """AuthorizationInfo is one object; a list holding exactly one is read as that object.

    Some libraries wrap every single object in a list (tests/interop/extrawest_peer/README.md,
    "Single objects are wrapped in a list"). Reading one unambiguous object out of it costs
    nothing and keeps drivers charging; anything else stays invalid.
    """
    if isinstance(data, list) and len(data) == 1:
        return data[0]
    return data
