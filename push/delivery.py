"""Sending the outbox: the tasks' entry points, and what a worker process keeps between them.

Order: within one queue (partner, party, object) updates arrive in the order they were made
(the rule: push.claims). Across queues requests run in parallel, which is what lets one
worker keep up with bursts of EVSE status changes. A partner that stops answering is backed
off as a whole, so it holds a worker only for a few timeouts and never delays the other
partners' tasks.

Where it happens: push.window runs one task's window on a partner; push.claims claims,
push.sending sends (no database), push.outcomes records, each with hand-written statements
(push.statements says why). A change's payload goes out as the JSON text it was stored as.
The HTTP session of a partner and the sending threads outlive the task, so keep-alive
connections serve the next wake-up too.
"""

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings

from credentials.models import PartnerPlatform
from ocpi.client import OcpiClient
from ocpi.httpsession import KeptSession
from ocpi.time import now
from push import problems
from push.models import OPEN_STATUSES, Delivery, DeliveryStatus
from push.window import Window

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
        Delivery.objects.filter(partner_id=partner_id, status__in=OPEN_STATUSES).update(
            status=DeliveryStatus.FAILED, last_error="partner not registered"
        )
        return 0
    try:
        client = _client(partner)
    except ValueError as exc:
        # No token we can send with (say, OCPI_TOKEN_KEY changed): nothing goes out, and
        # nothing is failed, as the operator may yet restore the key; the partner's last
        # error says why its pushes wait.
        problems.report_no_client(partner_id, f"no usable token to send with: {exc}")
        return 0
    return Window(partner, client, _pool()).run()


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
