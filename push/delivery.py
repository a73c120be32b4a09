"""Sending the outbox: claim the head of every queue of a partner, send them concurrently.

Order: within one queue (partner, party, object) only the oldest unfinished delivery is
ever claimed, so updates of one object arrive in the order they were made. Across queues
requests run in parallel, which is what lets one worker keep up with bursts of EVSE status
changes. A partner that stops answering is backed off as a whole, so it holds a worker only
for a few timeouts and never delays the other partners' tasks.
"""

import logging
import random
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef

from credentials.models import PartnerPlatform
from ocpi.client import OcpiClient, OcpiClientError, OcpiReply, OcpiTransportError, join_url
from ocpi.enums import InterfaceRole
from ocpi.routing import PartyRef, RoutingHeaders
from ocpi.status import is_server_error, is_success
from ocpi.time import now
from push.models import Attempt, Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

RETRYABLE_HTTP = frozenset({408, 429}) | frozenset(range(500, 600))


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    started_at_monotonic: float
    duration_ms: int
    reply: OcpiReply | None
    error: str
    transport_failure: bool
    # The HTTP status of an answer that was no usable OCPI envelope (reply is None then).
    http_status: int | None = None


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: 2 s, 4 s, 8 s … capped, times a factor in [0.5, 1.5)."""
    base = min(
        settings.PUSH_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
        settings.PUSH_RETRY_MAX_SECONDS,
    )
    return timedelta(seconds=base * (0.5 + random.random()))  # noqa: S311 (jitter, not crypto)


def _due_heads(partner: PartnerPlatform, limit: int) -> list[Delivery]:
    older_open = Delivery.objects.filter(
        partner_id=partner.pk,
        queue_key=OuterRef("queue_key"),
        pk__lt=OuterRef("pk"),
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT],
    )
    candidates = list(
        Delivery.objects.filter(
            partner_id=partner.pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now()
        )
        .exclude(Exists(older_open))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return []
    # Claim with a conditional update: a second worker on the same partner claims nothing.
    claimed_at = now()
    with transaction.atomic():
        Delivery.objects.filter(pk__in=candidates, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.IN_FLIGHT, claimed_at=claimed_at
        )
    return list(
        Delivery.objects.filter(
            pk__in=candidates, status=DeliveryStatus.IN_FLIGHT, claimed_at=claimed_at
        ).select_related("change")
    )


def _send(client: OcpiClient, base_url: str, delivery: Delivery) -> Outcome:
    change = delivery.change
    routing = RoutingHeaders(
        from_party=PartyRef.of(change.owner_country_code, change.owner_party_id),
        to_party=PartyRef.of(delivery.to_country_code, delivery.to_party_id),
    )
    started = time.monotonic()
    try:
        reply = client.request(
            change.method,
            join_url(base_url, *change.path),
            json=change.payload if change.method != "DELETE" else None,
            routing=routing,
        )
    except OcpiClientError as exc:
        return Outcome(
            delivery.pk,
            started,
            int((time.monotonic() - started) * 1000),
            None,
            str(exc),
            transport_failure=isinstance(exc, OcpiTransportError) and exc.http_status is None,
            http_status=exc.http_status,
        )
    return Outcome(delivery.pk, started, int(reply.duration * 1000), reply, "", False)


def _describe(reply: OcpiReply | None) -> str:
    if reply is None:
        return "no answer"
    text = f"HTTP {reply.http_status}, OCPI {reply.status_code}"
    return f"{text}: {reply.status_message}" if reply.status_message else text


def _apply(partner: PartnerPlatform, delivery: Delivery, outcome: Outcome) -> Attempt:
    """Set the delivery's new state from one attempt's outcome; return the attempt's record."""
    reply = outcome.reply
    moment = now()
    delivery.attempts += 1
    delivery.last_http_status = reply.http_status if reply else outcome.http_status
    delivery.last_ocpi_status = reply.status_code if reply else None
    if reply is not None and is_success(reply.status_code) and 200 <= reply.http_status < 300:
        delivery.status, delivery.last_error, delivery.delivered_at = (
            DeliveryStatus.DELIVERED,
            "",
            moment,
        )
    else:
        delivery.last_error = (outcome.error or _describe(reply))[:2000]
        # By the HTTP status even when the body was no envelope (a 404 `{"detail": ...}`
        # stays a 404); only no answer at all says nothing about the request.
        retryable = (
            delivery.last_http_status is None
            or delivery.last_http_status in RETRYABLE_HTTP
            or (reply is not None and is_server_error(reply.status_code))
        )
        if retryable and partner.retry_pushes and delivery.attempts < settings.PUSH_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = moment + backoff(delivery.attempts)
        else:
            delivery.status = DeliveryStatus.FAILED
    delivery.claimed_at = None
    return Attempt(
        delivery=delivery,
        started_at=moment - timedelta(milliseconds=outcome.duration_ms),
        duration_ms=outcome.duration_ms,
        http_status=delivery.last_http_status,
        ocpi_status=delivery.last_ocpi_status,
        error="" if delivery.status == DeliveryStatus.DELIVERED else delivery.last_error,
        response_excerpt=(reply.body_excerpt if reply else "")[:500],
    )


def _save(deliveries: list[Delivery], attempts: list[Attempt]) -> None:
    """Record a batch's outcomes in two statements, not two per delivery."""
    with transaction.atomic():
        Attempt.objects.bulk_create(attempts)
        Delivery.objects.bulk_update(
            deliveries,
            [
                "status",
                "attempts",
                "next_attempt_at",
                "claimed_at",
                "delivered_at",
                "last_http_status",
                "last_ocpi_status",
                "last_error",
            ],
        )


def _release(deliveries: list[Delivery], delay: timedelta) -> None:
    """Put unsent claimed deliveries back, to try again after `delay`."""
    Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries], status=DeliveryStatus.IN_FLIGHT
    ).update(status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=now() + delay)


def _client(partner: PartnerPlatform) -> OcpiClient:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=settings.PUSH_CONCURRENCY)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return OcpiClient(partner.outgoing_token, plain_token=partner.plain_tokens, session=session)


def _receiver_urls(partner: PartnerPlatform, batch: list[Delivery]) -> dict[str, str]:
    """The partner's receiver endpoint per module; fail deliveries for modules it lacks."""
    urls: dict[str, str] = {}
    for module in {d.change.module for d in batch}:
        url = partner.endpoint_url(module, InterfaceRole.RECEIVER)
        if url:
            urls[module] = url
        else:
            Delivery.objects.filter(
                pk__in=[d.pk for d in batch if d.change.module == module]
            ).update(
                status=DeliveryStatus.FAILED,
                last_error=f"partner has no {module} receiver endpoint",
            )
    return urls


def _send_batch(
    partner: PartnerPlatform, client: OcpiClient, pool: ThreadPoolExecutor, batch: list[Delivery]
) -> tuple[int, bool]:
    """Send a batch with at most PUSH_CONCURRENCY requests in flight.

    Return (attempted, tripped). Once PUSH_BREAKER_FAILURES requests in a row found no
    partner at all, nothing more is started and the rest goes back to the queue.
    """
    urls = _receiver_urls(partner, batch)
    waiting = deque(d for d in batch if d.change.module in urls)
    in_flight: deque[tuple[Delivery, Future[Outcome]]] = deque()
    failures_in_a_row, tripped = 0, False
    done: list[Delivery] = []
    attempts: list[Attempt] = []
    while waiting or in_flight:
        while waiting and not tripped and len(in_flight) < settings.PUSH_CONCURRENCY:
            head = waiting.popleft()
            in_flight.append((head, pool.submit(_send, client, urls[head.change.module], head)))
        if not in_flight:
            break
        delivery, future = in_flight.popleft()
        outcome = future.result()
        attempts.append(_apply(partner, delivery, outcome))
        done.append(delivery)
        failures_in_a_row = failures_in_a_row + 1 if outcome.transport_failure else 0
        tripped = tripped or failures_in_a_row >= settings.PUSH_BREAKER_FAILURES
    _save(done, attempts)
    if tripped:
        _release(list(waiting), backoff(2))
        logger.warning("Partner %s unreachable; its pushes pause for a while", partner.pk)
    return len(done), tripped


def deliver_due(partner_id: int) -> int:
    """Send every due delivery of one partner; return how many were attempted."""
    partner = PartnerPlatform.objects.filter(pk=partner_id).first()
    if partner is None:
        return 0
    if not partner.is_registered:
        # All traffic stops for a partner that is no longer registered (credentials DELETE).
        Delivery.objects.filter(
            partner_id=partner_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT]
        ).update(status=DeliveryStatus.FAILED, last_error="partner not registered")
        return 0
    attempted = 0
    client = _client(partner)
    with ThreadPoolExecutor(max_workers=settings.PUSH_CONCURRENCY) as pool:
        while batch := _due_heads(partner, settings.PUSH_BATCH_SIZE):
            sent, tripped = _send_batch(partner, client, pool, batch)
            attempted += sent
            if tripped:
                break
    return attempted


def release_stale_claims() -> list[int]:
    """Deliveries claimed by a worker that died: back to PENDING. Return affected partners."""
    cutoff = now() - timedelta(seconds=settings.PUSH_CLAIM_LEASE_SECONDS)
    stale = Delivery.objects.filter(status=DeliveryStatus.IN_FLIGHT, claimed_at__lt=cutoff)
    partner_ids = list(stale.values_list("partner_id", flat=True).distinct())
    stale.update(status=DeliveryStatus.PENDING, claimed_at=None)
    return partner_ids


def partners_with_due_deliveries() -> list[int]:
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now())
        .values_list("partner_id", flat=True)
        .distinct()
    )
