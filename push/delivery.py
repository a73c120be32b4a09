"""Sending the outbox: claim the head of every queue of a partner, send them concurrently.

Order: within one queue (partner, party, object) only the oldest unfinished delivery is
ever claimed, so updates of one object arrive in the order they were made. Across queues
requests run in parallel, which is what lets one worker keep up with bursts of EVSE status
changes. A partner that stops answering is backed off as a whole, so it holds a worker only
for a few timeouts and never delays the other partners' tasks.

The window stays full: outcomes are recorded and the next heads claimed while requests are
still in flight, not after a whole batch has come back, and a batch's outcomes are written
in a few statements (the delivered ones in one). The HTTP session of a partner outlives the
task, so its keep-alive connections serve the next wake-up too.
"""

import logging
import random
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from credentials.models import PartnerPlatform
from ocpi.client import OcpiClient, OcpiClientError, OcpiReply, OcpiTransportError, join_url
from ocpi.enums import InterfaceRole
from ocpi.httpsession import KeptSession
from ocpi.routing import PartyRef, RoutingHeaders
from ocpi.status import is_server_error, is_success
from ocpi.time import now
from push.models import Attempt, Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

RETRYABLE_HTTP = frozenset({408, 429}) | frozenset(range(500, 600))
# Deliveries of one queue claimed at once (its head and what follows it): they are sent one
# after another, each once the one before it came back delivered.
CHAIN_DEPTH = 8


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


def _claim(partner: PartnerPlatform, limit: int) -> list[Delivery]:
    """Claim up to `limit` due deliveries of the partner, oldest first: the head of each
    queue that nobody is sending from, and behind it up to CHAIN_DEPTH - 1 of its
    successors, so that they go out one after another without a claim in between.

    A delivery is claimed only with everything older in its queue that is still open, all
    of it due (a retry waiting for its backoff holds its queue). Claims of one partner are
    serialized by a lock on the partner's row: a second worker sees the first one's claims
    and cannot take the tail of a queue whose head the first one holds. One conditional
    UPDATE … RETURNING (PostgreSQL, SQLite ≥ 3.35) tells each worker what it got.
    """
    moment = now()
    older = Delivery.objects.filter(
        partner_id=partner.pk, queue_key=OuterRef("queue_key"), pk__lt=OuterRef("pk")
    )
    holding = older.filter(
        Q(status=DeliveryStatus.IN_FLIGHT)
        | Q(status=DeliveryStatus.PENDING, next_attempt_at__gt=moment)
    )
    ahead = (
        older.filter(status=DeliveryStatus.PENDING)
        .order_by()
        .values("queue_key")
        .annotate(count=Count("pk"))
        .values("count")
    )
    candidates = (
        Delivery.objects.filter(
            partner_id=partner.pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=moment
        )
        .exclude(Exists(holding))
        .annotate(ahead=Coalesce(Subquery(ahead), 0))
        .filter(ahead__lt=CHAIN_DEPTH)
        .order_by("pk")
        .values("pk")[:limit]
    )
    connection = connections[candidates.db]
    candidates_sql, params = candidates.query.sql_with_params()
    quote = connection.ops.quote_name
    status, claimed_at = quote("status"), quote("claimed_at")
    with transaction.atomic(using=candidates.db), connection.cursor() as cursor:
        PartnerPlatform.objects.select_for_update().filter(pk=partner.pk).exists()
        cursor.execute(
            f"UPDATE {quote(Delivery._meta.db_table)} "  # noqa: S608 (our own SQL)
            f"SET {status} = %s, {claimed_at} = %s "
            f"WHERE {quote('id')} IN ({candidates_sql}) AND {status} = %s "
            f"RETURNING {quote('id')}",
            [
                DeliveryStatus.IN_FLIGHT,
                connection.ops.adapt_datetimefield_value(now()),
                *params,
                DeliveryStatus.PENDING,
            ],
        )
        claimed = [row[0] for row in cursor.fetchall()]
    if not claimed:
        return []
    return list(Delivery.objects.filter(pk__in=claimed).select_related("change").order_by("pk"))


def _send(client: OcpiClient, base_url: str, delivery: Delivery) -> Outcome:
    change = delivery.change
    routing = RoutingHeaders(
        from_party=PartyRef.of(change.owner_country_code, change.owner_party_id),
        to_party=PartyRef.of(delivery.to_country_code, delivery.to_party_id),
    )
    # No path: the module endpoint itself, exactly as the partner published it (a CDR is
    # POSTed to `{cdr_endpoint_url}`; some peers serve the collection only with its slash).
    url = join_url(base_url, *change.path) if change.path else base_url
    started = time.monotonic()
    try:
        reply = client.request(
            change.method,
            url,
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
        delivery.response_location = (reply.headers.get("Location") or "").strip()[:2000]
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
    """Record outcomes in a few statements: the attempts, then the delivered deliveries (one
    UPDATE per reply status and Location header, usually one in all: only POSTs of CDRs get
    a Location), then the rest one by one (rare)."""
    if not deliveries:
        return
    delivered: dict[tuple[int | None, int | None, str], list[int]] = {}
    others: list[Delivery] = []
    for delivery in deliveries:
        if delivery.status == DeliveryStatus.DELIVERED:
            key = (
                delivery.last_http_status,
                delivery.last_ocpi_status,
                delivery.response_location,
            )
            delivered.setdefault(key, []).append(delivery.pk)
        else:
            others.append(delivery)
    with transaction.atomic():
        Attempt.objects.bulk_create(attempts)
        for (http_status, ocpi_status, location), pks in delivered.items():
            Delivery.objects.filter(pk__in=pks).update(
                status=DeliveryStatus.DELIVERED,
                attempts=F("attempts") + 1,
                claimed_at=None,
                delivered_at=now(),
                last_http_status=http_status,
                last_ocpi_status=ocpi_status,
                last_error="",
                response_location=location,
            )
        for delivery in others:
            Delivery.objects.filter(pk=delivery.pk).update(
                status=delivery.status,
                attempts=delivery.attempts,
                next_attempt_at=delivery.next_attempt_at,
                claimed_at=None,
                last_http_status=delivery.last_http_status,
                last_ocpi_status=delivery.last_ocpi_status,
                last_error=delivery.last_error,
            )


def _release(deliveries: list[Delivery], delay: timedelta | None) -> None:
    """Put unsent claimed deliveries back, to try again after `delay` (None: when they were
    due; a retry ahead of them in their queue holds them anyway)."""
    if not deliveries:
        return
    unsent = Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries], status=DeliveryStatus.IN_FLIGHT
    )
    if delay is None:
        unsent.update(status=DeliveryStatus.PENDING, claimed_at=None)
    else:
        unsent.update(status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=now() + delay)


# One HTTP session per partner and process, reused by the next task: its connections stay
# open (keep-alive) between wake-ups. Bounded: partners beyond it get a fresh one.
_SESSIONS: OrderedDict[int, requests.Session] = OrderedDict()
_SESSIONS_LOCK = threading.Lock()
SESSIONS_KEPT = 64


def _session(partner_id: int) -> requests.Session:
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(partner_id)
        if session is None:
            # Reads the proxy environment once per origin and never ~/.netrc (ocpi.httpsession).
            session = KeptSession()
            adapter = requests.adapters.HTTPAdapter(pool_maxsize=settings.PUSH_CONCURRENCY)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _SESSIONS[partner_id] = session
            if len(_SESSIONS) > SESSIONS_KEPT:
                _SESSIONS.popitem(last=False)[1].close()
        _SESSIONS.move_to_end(partner_id)
        return session


def _client(partner: PartnerPlatform) -> OcpiClient:
    return OcpiClient(
        partner.outgoing_token, plain_token=partner.plain_tokens, session=_session(partner.pk)
    )


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


class _Window:
    """At most PUSH_CONCURRENCY requests of one partner in flight, refilled as they return.

    Claimed deliveries wait in their queue's chain and leave it in order: the next one
    starts when the one before it came back final (delivered, or failed for good). One that
    is to be retried holds its queue: the rest of its chain goes back unsent.

    Outcomes are recorded, and more claimed, whenever fewer than a window's worth of
    claimed deliveries wait and more may be due (the last claim was full, or a chain that
    may have more behind it ended): recording first, so that the queue whose chain just
    ended can be claimed again. What is committed meanwhile wakes another task
    (push.services.kick). Once PUSH_BREAKER_FAILURES requests in a row found no partner at
    all, nothing more is started and the rest goes back.
    """

    def __init__(self, partner: PartnerPlatform, pool: ThreadPoolExecutor) -> None:
        self.partner = partner
        self.pool = pool
        self.client = _client(partner)
        self.chains: dict[str, deque[Delivery]] = {}  # claimed, not started, per queue
        self.busy: dict[str, list[Delivery]] = {}  # in flight, per queue
        self.waiting = 0
        self.in_flight: dict[Future[Outcome], Delivery] = {}
        self.done: list[Delivery] = []
        self.attempts: list[Attempt] = []
        self.held: list[Delivery] = []  # unsent, behind a delivery that will be retried
        self.urls: dict[str, str] = {}
        self.attempted = 0
        self.failures_in_a_row = 0
        self.tripped = False
        self.continues: set[str] = set()  # queues that may have more behind their chain
        self.chain_ended = False  # one of those came to its end: claim again

    def run(self) -> int:
        may_claim = True
        while True:
            if self.waiting < settings.PUSH_CONCURRENCY and may_claim and not self.tripped:
                self.record()
                may_claim = self.claim()
            self.start()
            if not self.in_flight:
                if may_claim and not self.tripped:
                    continue
                break
            finished, _ = wait(self.in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                self.finish(self.in_flight.pop(future), future.result())
            may_claim, self.chain_ended = may_claim or self.chain_ended, False
        self.record()
        if self.tripped:
            _release([d for chain in self.chains.values() for d in chain], backoff(2))
            logger.warning("Partner %s unreachable; its pushes pause for a while", self.partner.pk)
        return self.attempted

    def claim(self) -> bool:
        """Claim more; return whether more may be due at once (the batch was full)."""
        batch = _claim(self.partner, settings.PUSH_BATCH_SIZE)
        full = len(batch) >= settings.PUSH_BATCH_SIZE
        modules = {d.change.module for d in batch} - set(self.urls)
        self.urls.update(
            _receiver_urls(self.partner, [d for d in batch if d.change.module in modules])
        )
        for delivery in batch:
            if delivery.change.module in self.urls:
                chain = self.chains.setdefault(delivery.queue_key, deque())
                chain.append(delivery)
                self.waiting += 1
                if full or len(chain) >= CHAIN_DEPTH:
                    self.continues.add(delivery.queue_key)
        return full

    def may_start(self, delivery: Delivery) -> bool:
        return not self.busy.get(delivery.queue_key)

    def start(self) -> None:
        started = True
        while started and not self.tripped:
            started = False
            for chain in self.chains.values():
                if len(self.in_flight) >= settings.PUSH_CONCURRENCY:
                    return
                if chain and self.may_start(chain[0]):
                    self.launch(chain.popleft())
                    started = True

    def launch(self, delivery: Delivery) -> None:
        self.waiting -= 1
        self.busy.setdefault(delivery.queue_key, []).append(delivery)
        url = self.urls[delivery.change.module]
        self.in_flight[self.pool.submit(_send, self.client, url, delivery)] = delivery

    def finish(self, delivery: Delivery, outcome: Outcome) -> None:
        self.attempts.append(_apply(self.partner, delivery, outcome))
        self.done.append(delivery)
        self.attempted += 1
        self.failures_in_a_row = self.failures_in_a_row + 1 if outcome.transport_failure else 0
        self.tripped = self.tripped or self.failures_in_a_row >= settings.PUSH_BREAKER_FAILURES
        queue = delivery.queue_key
        self.busy[queue].remove(delivery)
        chain = self.chains[queue]
        if delivery.status == DeliveryStatus.PENDING:  # to be retried: it holds its queue
            self.held.extend(chain)
            self.waiting -= len(chain)
            chain.clear()
        if not chain and not self.busy[queue]:
            del self.chains[queue], self.busy[queue]
            if queue in self.continues:
                self.continues.discard(queue)
                self.chain_ended = True

    def record(self) -> None:
        _save(self.done, self.attempts)
        _release(self.held, None)
        self.done, self.attempts, self.held = [], [], []


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The sending threads of this process, started once (a task wakes up often)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(settings.PUSH_CONCURRENCY, thread_name_prefix="push")
        return _POOL


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
    return _Window(partner, _pool()).run()


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
