"""Sending a claimed chain, and what each answer makes of its delivery: a step with no database.

A sending thread runs `send_chain()`: the chain's deliveries one after another, each once
the one before it came back final (delivered, or failed for good). One that is to be retried
holds its queue (push.claims), so the rest of its chain goes back unsent. The results are
recorded later, in the task's own thread (push.outcomes), so the threads never wait for the
database. The Breaker stops every thread of a partner that stopped answering.
"""

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from ocpi.client import OcpiClient, OcpiClientError, OcpiReply, OcpiTransportError, join_url
from ocpi.status import is_server_error, is_success
from ocpi.time import now
from push.claims import Claimed, holds_queue
from push.models import DeliveryStatus

RETRYABLE_HTTP = frozenset({408, 429}) | frozenset(range(500, 600))


@dataclass(frozen=True)
class Outcome:
    duration_ms: int
    reply: OcpiReply | None
    error: str
    transport_failure: bool
    # The HTTP status of an answer that was no usable OCPI envelope (reply is None then).
    http_status: int | None = None


@dataclass(slots=True)
class Result:
    """A delivery's state after one attempt, and the attempt's record."""

    pk: int
    status: str
    attempts: int
    http_status: int | None
    ocpi_status: int | None
    error: str
    location: str
    next_attempt_at: datetime | None  # when it is retried
    started_at: datetime
    duration_ms: int
    excerpt: str
    request: str = ""  # a failed one's method and target, for the partner's last error


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: 2 s, 4 s, 8 s … capped, times a factor in [0.5, 1.5)."""
    base = min(
        settings.PUSH_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
        settings.PUSH_RETRY_MAX_SECONDS,
    )
    return timedelta(seconds=base * (0.5 + random.random()))  # noqa: S311 (jitter, not crypto)


def send(client: OcpiClient, base_url: str, delivery: Claimed) -> Outcome:
    """One request, to the partner's module endpoint `base_url`."""
    # No path: the module endpoint itself, exactly as the partner published it (a CDR is
    # POSTed to `{cdr_endpoint_url}`; some peers serve the collection only with its slash).
    url = join_url(base_url, *delivery.path) if delivery.path else base_url
    started = time.monotonic()
    try:
        reply = client.send(delivery.method, url, body=delivery.body, headers=delivery.routing)
    except OcpiClientError as exc:
        return failure(exc, started)
    return Outcome(int(reply.duration * 1000), reply, "", False)


def failure(exc: OcpiClientError, started: float) -> Outcome:
    """The outcome of a request that got no usable answer, begun at monotonic `started`."""
    return Outcome(
        int((time.monotonic() - started) * 1000),
        None,
        str(exc),
        transport_failure=isinstance(exc, OcpiTransportError) and exc.http_status is None,
        http_status=exc.http_status,
    )


def _describe(reply: OcpiReply | None) -> str:
    if reply is None:
        return "no answer"
    text = f"HTTP {reply.http_status}, OCPI {reply.status_code}"
    return f"{text}: {reply.status_message}" if reply.status_message else text


def judge(delivery: Claimed, outcome: Outcome, *, retry: bool) -> Result:
    """The delivery's new state after one attempt's outcome, with the attempt's record;
    `retry`: whether the partner wants failed pushes retried at all."""
    reply = outcome.reply
    moment = now()
    attempts = delivery.attempts + 1
    http_status = reply.http_status if reply else outcome.http_status
    result = Result(
        pk=delivery.pk,
        status=DeliveryStatus.DELIVERED,
        attempts=attempts,
        http_status=http_status,
        ocpi_status=reply.status_code if reply else None,
        error="",
        location="",
        next_attempt_at=None,
        started_at=moment - timedelta(milliseconds=outcome.duration_ms),
        duration_ms=outcome.duration_ms,
        excerpt=(reply.body_excerpt if reply else "")[:500],
    )
    if reply is not None and is_success(reply.status_code) and 200 <= reply.http_status < 300:
        result.location = (reply.headers.get("Location") or "").strip()[:2000]
        return result
    result.error = (outcome.error or _describe(reply))[:2000]
    result.request = delivery.request
    # By the HTTP status even when the body was no envelope (a 404 `{"detail": ...}` stays a
    # 404); only no answer at all says nothing about the request.
    retryable = (
        http_status is None
        or http_status in RETRYABLE_HTTP
        or (reply is not None and is_server_error(reply.status_code))
    )
    if retryable and retry and attempts < settings.PUSH_MAX_ATTEMPTS:
        result.status = DeliveryStatus.PENDING
        result.next_attempt_at = moment + backoff(attempts)
    else:
        result.status = DeliveryStatus.FAILED
    return result


class Breaker:
    """Trips once `limit` requests in a row found no partner at all: then nothing more of the
    partner is sent, so a partner that stopped answering holds a worker for a few timeouts
    only. Shared by the partner's sending threads."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._failures_in_a_row = 0
        self.tripped = False

    def count(self, outcome: Outcome) -> None:
        with self._lock:
            self._failures_in_a_row = (
                self._failures_in_a_row + 1 if outcome.transport_failure else 0
            )
            if self._failures_in_a_row >= self._limit:
                self.tripped = True


@dataclass
class SentChain:
    """What a sending thread did with one chain: every delivery of it is in one of the lists."""

    results: list[Result] = field(default_factory=list)
    held: list[Claimed] = field(default_factory=list)  # behind a retry: back, unsent
    paused: list[Claimed] = field(default_factory=list)  # the breaker tripped: back, unsent
    error: BaseException | None = None  # raised again in the task's thread


def send_chain(
    chain: list[Claimed], *, send: Callable[[Claimed], Outcome], breaker: Breaker, retry: bool
) -> SentChain:
    """Send a chain in order, as far as it goes; `send` makes one request."""
    sent = SentChain()
    for position, delivery in enumerate(chain):
        if breaker.tripped:
            sent.paused = chain[position:]
            break
        outcome = send(delivery)
        breaker.count(outcome)
        result = judge(delivery, outcome, retry=retry)
        sent.results.append(result)
        if holds_queue(result.status, due=False):  # a retry waits for its backoff
            sent.held = chain[position + 1 :]
            break
    return sent
