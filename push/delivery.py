"""Sending the outbox: claim the head of every queue of a partner, send them concurrently.

Order: within one queue (partner, party, object) only the oldest unfinished delivery is
ever claimed, so updates of one object arrive in the order they were made. Across queues
requests run in parallel, which is what lets one worker keep up with bursts of EVSE status
changes. A partner that stops answering is backed off as a whole, so it holds a worker only
for a few timeouts and never delays the other partners' tasks.

The sending threads never wait for the database: each takes a queue's claimed chain and
sends it through, and more chains wait for them while the task records outcomes and claims
the next ones. Claims and outcomes are hand-written statements (a claim of 64 deliveries
as model instances cost more CPU than sending them); a change's payload goes out as the
JSON text it was stored as. The HTTP session of a partner outlives the task, so its
keep-alive connections serve the next wake-up too.
"""

import logging
import queue
import random
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from credentials.models import PartnerPlatform
from ocpi.client import OcpiClient, OcpiClientError, OcpiReply, OcpiTransportError, join_url
from ocpi.enums import InterfaceRole
from ocpi.httpsession import KeptSession
from ocpi.json import loads
from ocpi.routing import PartyRef, RoutingHeaders
from ocpi.status import is_server_error, is_success
from ocpi.time import now
from push.models import Delivery, DeliveryStatus
from push.statements import ATTEMPT_COLUMNS, ids, value_rows, written

logger = logging.getLogger(__name__)

RETRYABLE_HTTP = frozenset({408, 429}) | frozenset(range(500, 600))
# Deliveries of one queue claimed at once (its head and what follows it): they are sent one
# after another, each once the one before it came back delivered.
CHAIN_DEPTH = 8


@dataclass(slots=True)
class Claimed:
    """A claimed delivery and what sending it takes."""

    pk: int
    queue_key: str
    attempts: int
    module: str
    method: str
    path: list[str]
    body: bytes | None  # the change's payload, as the JSON it was stored as
    routing: dict[str, str]


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


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: 2 s, 4 s, 8 s … capped, times a factor in [0.5, 1.5)."""
    base = min(
        settings.PUSH_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
        settings.PUSH_RETRY_MAX_SECONDS,
    )
    return timedelta(seconds=base * (0.5 + random.random()))  # noqa: S311 (jitter, not crypto)


def _db_time(moment: datetime, using: str = DEFAULT_DB_ALIAS) -> Any:
    return connections[using].ops.adapt_datetimefield_value(moment)


# Open deliveries read at a time while looking for due ones. A claim usually needs one page:
# the batch it claims, behind what is still in flight (at most a batch: the task claims
# only when fewer are outstanding), with room for queues held by retries. Rows read beyond
# what a claim takes were much of its cost in PostgreSQL when a page was 512.
SCAN_PAGE = 192


def _claim(partner: PartnerPlatform, limit: int, floor: int = 0) -> tuple[list[Claimed], int]:
    """Claim up to `limit` due deliveries of the partner, oldest first: the head of each
    queue that nobody is sending from, and behind it up to CHAIN_DEPTH - 1 of its
    successors, so that they go out one after another without a claim in between.

    A delivery is claimed only with everything older in its queue that is still open, all
    of it due (a retry waiting for its backoff holds its queue). The partner's open
    deliveries are read oldest first, so whatever holds a queue is seen before the rest of
    it. Claims of one partner are serialized by a lock on the partner's row: a second
    worker sees the first one's claims and cannot take the tail of a queue whose head the
    first one holds. The UPDATE … RETURNING (PostgreSQL, SQLite ≥ 3.35) skips what a newer
    change superseded meanwhile.
    """
    statements = written(DEFAULT_DB_ALIAS)
    moment = _db_time(now())
    chosen: list[int] = []
    with transaction.atomic(), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(statements.lock, {"partner": partner.pk})
        held: set[str] = set()  # queues with an older delivery in flight or not yet due
        chained: dict[str, int] = {}
        after, more = floor, True
        while more and len(chosen) < limit:
            cursor.execute(
                statements.scan,
                {"partner": partner.pk, "now": moment, "after": after, "page": SCAN_PAGE},
            )
            rows = cursor.fetchall()
            more = len(rows) == SCAN_PAGE
            if rows and after == floor:  # the first page starts at the lowest open id
                floor = rows[0][0] - 1
            for pk, queue_key, pending, due in rows:
                after = pk
                if queue_key in held:
                    continue
                if not (pending and due) or chained.get(queue_key, 0) >= CHAIN_DEPTH:
                    held.add(queue_key)
                    continue
                chained[queue_key] = chained.get(queue_key, 0) + 1
                chosen.append(pk)
                if len(chosen) == limit:
                    break
        if not chosen:
            return [], floor
        cursor.execute(ids(statements.claim, len(chosen)), [_db_time(now()), *chosen])
        claimed = [row[0] for row in cursor.fetchall()]
    if not claimed:
        return [], floor
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(ids(statements.read, len(claimed)), claimed)
        rows = cursor.fetchall()
    routing: dict[tuple[str, ...], dict[str, str]] = {}
    batch = []
    for pk, queue_key, attempts, to_cc, to_id, module, method, path, payload, cc, pid in rows:
        parties = (cc, pid, to_cc, to_id)
        if parties not in routing:
            routing[parties] = RoutingHeaders(
                from_party=PartyRef.of(cc, pid), to_party=PartyRef.of(to_cc, to_id)
            ).as_headers()
        # A DELETE has no body (SQL NULL; JSON null is no body either).
        body = payload.encode() if payload is not None and payload != "null" else None
        batch.append(
            Claimed(pk, queue_key, attempts, module, method, loads(path), body, routing[parties])
        )
    return batch, floor


def _send(client: OcpiClient, base_url: str, delivery: Claimed) -> Outcome:
    # No path: the module endpoint itself, exactly as the partner published it (a CDR is
    # POSTed to `{cdr_endpoint_url}`; some peers serve the collection only with its slash).
    url = join_url(base_url, *delivery.path) if delivery.path else base_url
    started = time.monotonic()
    try:
        reply = client.send(delivery.method, url, body=delivery.body, headers=delivery.routing)
    except OcpiClientError as exc:
        return _failure(exc, started)
    return Outcome(int(reply.duration * 1000), reply, "", False)


def _failure(exc: OcpiClientError, started: float) -> Outcome:
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


def _apply(partner: PartnerPlatform, delivery: Claimed, outcome: Outcome) -> Result:
    """The delivery's new state after one attempt's outcome, with the attempt's record."""
    reply = outcome.reply
    moment = now()
    attempts = delivery.attempts + 1
    http_status = reply.http_status if reply else outcome.http_status
    ocpi_status = reply.status_code if reply else None
    result = Result(
        pk=delivery.pk,
        status=DeliveryStatus.DELIVERED,
        attempts=attempts,
        http_status=http_status,
        ocpi_status=ocpi_status,
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
    # By the HTTP status even when the body was no envelope (a 404 `{"detail": ...}` stays a
    # 404); only no answer at all says nothing about the request.
    retryable = (
        http_status is None
        or http_status in RETRYABLE_HTTP
        or (reply is not None and is_server_error(reply.status_code))
    )
    if retryable and partner.retry_pushes and attempts < settings.PUSH_MAX_ATTEMPTS:
        result.status = DeliveryStatus.PENDING
        result.next_attempt_at = moment + backoff(attempts)
    else:
        result.status = DeliveryStatus.FAILED
    return result


# Rows of one INSERT of attempts: far below any database's limit of parameters.
ATTEMPTS_PER_INSERT = 256


def _save(results: list[Result]) -> None:
    """Record outcomes in a few statements: the attempts, then the delivered deliveries (one
    UPDATE per reply status and Location header, usually one in all: only POSTs of CDRs get
    a Location), then the others (retried or failed: rare)."""
    if not results:
        return
    statements = written(DEFAULT_DB_ALIAS)
    delivered: dict[tuple[int | None, int | None, str], list[int]] = {}
    others = []
    for result in results:
        if result.status == DeliveryStatus.DELIVERED:
            key = (result.http_status, result.ocpi_status, result.location)
            delivered.setdefault(key, []).append(result.pk)
        else:
            next_attempt = result.next_attempt_at and _db_time(result.next_attempt_at)
            others.append(
                (result.status, result.attempts, next_attempt)
                + (result.http_status, result.ocpi_status, result.error, result.pk)
            )
    moment = _db_time(now())
    attempts = [
        (r.pk, _db_time(r.started_at), r.duration_ms, r.http_status, r.ocpi_status)
        + (r.error if r.status != DeliveryStatus.DELIVERED else "", r.excerpt)
        for r in results
    ]
    with transaction.atomic(), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        # One INSERT of many rows: a statement per attempt cost PostgreSQL more than the row.
        for start in range(0, len(attempts), ATTEMPTS_PER_INSERT):
            chunk = attempts[start : start + ATTEMPTS_PER_INSERT]
            cursor.execute(
                value_rows(statements.attempts, len(chunk), len(ATTEMPT_COLUMNS)),
                [value for attempt in chunk for value in attempt],
            )
        for (http_status, ocpi_status, location), pks in delivered.items():
            cursor.execute(
                ids(statements.delivered, len(pks)),
                [DeliveryStatus.DELIVERED.value, moment, location, http_status, ocpi_status, ""]
                + pks,
            )
        if others:
            cursor.executemany(statements.other, others)


def _release(deliveries: list[Claimed], delay: timedelta | None) -> None:
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
_SESSIONS: OrderedDict[int, KeptSession] = OrderedDict()
_SESSIONS_LOCK = threading.Lock()
SESSIONS_KEPT = 64


def _session(partner_id: int) -> KeptSession:
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(partner_id)
        if session is None:
            # Reads the proxy environment once per origin and never ~/.netrc, its connections
            # pinned to vetted addresses (ocpi.httpsession).
            session = KeptSession(pool_maxsize=settings.PUSH_CONCURRENCY)
            _SESSIONS[partner_id] = session
            if len(_SESSIONS) > SESSIONS_KEPT:
                _SESSIONS.popitem(last=False)[1].close()
        _SESSIONS.move_to_end(partner_id)
        return session


def _client(partner: PartnerPlatform) -> OcpiClient:
    return OcpiClient(
        partner.outgoing_token, plain_token=partner.plain_tokens, session=_session(partner.pk)
    )


@dataclass
class _Chain:
    """What a sending thread did with one queue's chain."""

    queue_key: str
    results: list[Result]
    held: list[Claimed]  # behind a delivery that will be retried: back, unsent
    paused: list[Claimed]  # not sent because the partner stopped answering
    error: BaseException | None = None


class _Window:
    """Up to PUSH_CONCURRENCY requests of one partner in flight, their chains queued ahead.

    A sending thread takes a whole chain and sends it in order: the next delivery once the
    one before it came back final (delivered, or failed for good). One that is to be retried
    holds its queue: the rest of its chain goes back unsent. Chains wait in the pool's queue
    while the task records outcomes and claims more, so the threads never wait for that.

    Recording and claiming happen whenever fewer than a batch of claimed deliveries are
    outstanding and more may be due (the last claim was full, or a chain that may have more
    behind it ended): recording first, so that the queue whose chain just ended can be
    claimed again. What is committed meanwhile wakes another task (push.services.kick).
    Once PUSH_BREAKER_FAILURES requests in a row found no partner at all, nothing more is
    sent and the rest goes back, to be tried again after a backoff.
    """

    def __init__(self, partner: PartnerPlatform, pool: ThreadPoolExecutor) -> None:
        self.partner = partner
        self.pool = pool
        self.client = _client(partner)
        self.urls: dict[str, str] = {}
        self.unsafe: dict[str, OcpiClientError] = {}  # per module: why its URL is refused
        self.finished: queue.SimpleQueue[_Chain] = queue.SimpleQueue()
        self.chains = 0  # submitted, not yet come back
        self.outstanding = 0  # deliveries in those chains
        self.results: list[Result] = []
        self.held: list[Claimed] = []
        self.paused: list[Claimed] = []
        self.attempted = 0
        self.lock = threading.Lock()
        self.failures_in_a_row = 0
        self.tripped = False
        self.continues: set[str] = set()  # queues that may have more behind their chain
        self.chain_ended = False  # one of those came to its end: claim again
        self.floor = 0  # no open delivery of the partner below it (_claim)

    def run(self) -> int:
        may_claim = True
        while True:
            if self.outstanding < settings.PUSH_BATCH_SIZE and may_claim and not self.tripped:
                self.record()
                may_claim = self.claim()
            if not self.chains:
                if may_claim and not self.tripped:
                    continue
                break
            self.collect(self.finished.get())
            while not self.finished.empty():
                self.collect(self.finished.get())
            may_claim, self.chain_ended = may_claim or self.chain_ended, False
        self.record()
        if self.paused:
            _release(self.paused, backoff(2))
            logger.warning("Partner %s unreachable; its pushes pause for a while", self.partner.pk)
        return self.attempted

    def claim(self) -> bool:
        """Claim more and queue their chains; return whether more may be due at once."""
        batch, self.floor = _claim(self.partner, settings.PUSH_BATCH_SIZE, self.floor)
        full = len(batch) >= settings.PUSH_BATCH_SIZE
        self.add_urls({d.module for d in batch} - set(self.urls) - set(self.unsafe), batch)
        chains: dict[str, list[Claimed]] = {}
        for delivery in batch:
            if delivery.module in self.urls:
                chains.setdefault(delivery.queue_key, []).append(delivery)
        for queue_key, chain in chains.items():
            if full or len(chain) >= CHAIN_DEPTH:
                self.continues.add(queue_key)
            self.chains += 1
            self.outstanding += len(chain)
            self.pool.submit(self.send_chain, queue_key, chain)
        return full

    def add_urls(self, modules: set[str], batch: list[Claimed]) -> None:
        """The partner's receiver endpoint per module, checked once (ocpi.netsafety: a
        refused URL fails each request as no answer would); fail deliveries for modules
        the partner has no receiver for."""
        for module in modules:
            url = self.partner.endpoint_url(module, InterfaceRole.RECEIVER)
            if not url:
                Delivery.objects.filter(pk__in=[d.pk for d in batch if d.module == module]).update(
                    status=DeliveryStatus.FAILED,
                    last_error=f"partner has no {module} receiver endpoint",
                )
                continue
            self.urls[module] = url
            try:
                self.client.check(url)
            except OcpiClientError as exc:
                self.unsafe[module] = exc

    def send_chain(self, queue_key: str, chain: list[Claimed]) -> None:
        """In a sending thread: the chain in order, as far as it goes."""
        done = _Chain(queue_key, [], [], [])
        try:
            for position, delivery in enumerate(chain):
                if self.tripped:
                    done.paused = chain[position:]
                    break
                refused = self.unsafe.get(delivery.module)
                outcome = (
                    _failure(refused, time.monotonic())
                    if refused
                    else _send(self.client, self.urls[delivery.module], delivery)
                )
                self.count(outcome)
                result = _apply(self.partner, delivery, outcome)
                done.results.append(result)
                if result.status == DeliveryStatus.PENDING:  # to be retried: holds its queue
                    done.held = chain[position + 1 :]
                    break
        except BaseException as exc:  # noqa: BLE001 (raised again in the task's thread)
            done.error = exc
        self.finished.put(done)

    def count(self, outcome: Outcome) -> None:
        with self.lock:
            self.failures_in_a_row = self.failures_in_a_row + 1 if outcome.transport_failure else 0
            if self.failures_in_a_row >= settings.PUSH_BREAKER_FAILURES:
                self.tripped = True

    def collect(self, chain: _Chain) -> None:
        if chain.error is not None:
            raise chain.error
        self.chains -= 1
        self.outstanding -= len(chain.results) + len(chain.held) + len(chain.paused)
        self.results.extend(chain.results)
        self.held.extend(chain.held)
        self.paused.extend(chain.paused)
        self.attempted += len(chain.results)
        if chain.queue_key in self.continues:
            self.continues.discard(chain.queue_key)
            self.chain_ended = True

    def record(self) -> None:
        _save(self.results)
        _release(self.held, None)
        self.results, self.held = [], []


_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The sending threads of this process, started once (a task wakes up often); as many
    as PUSH_CONCURRENCY says, the requests one partner may have in flight."""
    global _POOL, _POOL_SIZE
    with _POOL_LOCK:
        if _POOL is None or _POOL_SIZE != settings.PUSH_CONCURRENCY:
            if _POOL is not None:
                _POOL.shutdown(wait=False)
            _POOL = ThreadPoolExecutor(settings.PUSH_CONCURRENCY, thread_name_prefix="push")
            _POOL_SIZE = settings.PUSH_CONCURRENCY
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
