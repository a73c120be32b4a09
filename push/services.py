"""Writing to the outbox: push_change() and post_result() inside the caller's transaction,
and resend."""

import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from celery import current_app
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, Value, When

from credentials.access import CATALOGUE_ROLES, TOKEN_OWNER_ROLES
from credentials.models import PartnerPlatform
from credentials.selectors import receivers
from ocpi.routing import PartyRef
from ocpi.time import now
from push.models import OPEN_STATUSES, Change, Delivery, DeliveryStatus, Method

logger = logging.getLogger(__name__)

KICK_KEY = "push:kick:{partner_id}"
# How long a wake-up marker lives at most: a wake-up lost with the broker holds back no
# other for longer (the beat wakes the partner again).
KICK_SECONDS = 60


@dataclass(frozen=True)
class Target:
    """A receiving party on a partner platform."""

    partner_id: int
    party: PartyRef


def _targets(module: str, roles: Sequence[str], party: PartyRef | None = None) -> list[Target]:
    return [
        Target(partner_id, PartyRef.of(country_code, party_id))
        for partner_id, role, country_code, party_id in receivers(module)
        if role in roles and (party is None or PartyRef.of(country_code, party_id) == party)
    ]


def catalogue_targets(module: str) -> list[Target]:
    """Every eMSP/NSP party on a registered partner with a Receiver endpoint for `module`."""
    return _targets(module, CATALOGUE_ROLES)


def party_targets(module: str, party: PartyRef) -> list[Target]:
    """The one party a session or CDR belongs to, as the eMSP that owns the token: no other
    role of that party (credentials.access)."""
    return _targets(module, TOKEN_OWNER_ROLES, party)


def _supersedes(new: Change, old: Change) -> bool:
    """Whether delivering `new` makes `old` pointless: the newest state wins.

    A PUT replaces the object at its path and everything below it; a PATCH only another
    PATCH of the same path whose fields it covers. Anything else keeps its place in line.

    Except a PATCH carrying `charging_periods`: a Session PATCH appends its periods to the
    receiver's list (mod_sessions, PATCH), so a later PATCH, which carries only newer
    periods, does not replace it. A Session PUT carries every period and still does.
    """
    if new.method == Method.PUT and old.method in (Method.PUT, Method.PATCH):
        return list(old.path[: len(new.path)]) == list(new.path)
    if new.method == Method.PATCH and old.method == Method.PATCH and old.path == new.path:
        appends = "charging_periods" in (old.payload or {})
        return not appends and set(new.payload or {}) >= set(old.payload or {})
    return False


def _supersede_pending(change: Change, deliveries: Sequence[Delivery]) -> None:
    """Mark SUPERSEDED the pending deliveries in the queues of `deliveries` that `change`
    makes pointless (_supersedes).

    A PATCH covers only PATCHes: their pending deliveries are read with their change's
    method, path and payload in one query (small payloads, whatever the number of
    partners); a PUT's candidates are read as plain values and their changes once each (a
    change goes to every partner: one change behind many deliveries, and a PUT's payload
    may be a whole location).
    """
    queues = {(d.partner_id, d.queue_key) for d in deliveries}
    in_queues = Delivery.objects.filter(
        partner_id__in={d.partner_id for d in deliveries},
        queue_key__in={d.queue_key for d in deliveries},
        status=DeliveryStatus.PENDING,
    )
    if change.method == Method.PATCH:
        rows = in_queues.filter(change__method=Method.PATCH).values_list(
            "pk", "partner_id", "queue_key", "change_id", "change__path", "change__payload"
        )
        covered: dict[int, bool] = {}  # by change: judged once, however many partners
        superseded = []
        for pk, partner_id, queue_key, change_id, path, payload in rows:
            if (partner_id, queue_key) not in queues:
                continue
            if change_id not in covered:
                old = Change(pk=change_id, method=Method.PATCH, path=path, payload=payload)
                covered[change_id] = _supersedes(change, old)
            if covered[change_id]:
                superseded.append(pk)
    else:
        pending = [
            (pk, change_id)
            for pk, partner_id, queue_key, change_id in in_queues.values_list(
                "pk", "partner_id", "queue_key", "change_id"
            )
            if (partner_id, queue_key) in queues
        ]
        older = Change.objects.filter(pk__in={change_id for _, change_id in pending}).only(
            "method", "path", "payload"
        )
        replaced = {old.pk for old in older if _supersedes(change, old)}
        superseded = [pk for pk, change_id in pending if change_id in replaced]
    if superseded:
        Delivery.objects.filter(pk__in=superseded, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.SUPERSEDED, last_error=_superseded_by(change)
        )


def _supersede_pending_patches(
    changes: Sequence[Change], batches: Sequence[Sequence[Delivery]]
) -> None:
    """_supersede_pending for PATCHes queued together (`batches[i]`: the deliveries of
    `changes[i]`): the pending PATCHes of all their queues read in one query and marked in
    one UPDATE; a delivery of the batch that a later change of it supersedes is written
    SUPERSEDED, as it would have been marked had they been queued one after the other."""
    queues = {(d.partner_id, d.queue_key) for batch in batches for d in batch}
    rows = Delivery.objects.filter(
        partner_id__in={partner_id for partner_id, _ in queues},
        queue_key__in={queue_key for _, queue_key in queues},
        status=DeliveryStatus.PENDING,
        change__method=Method.PATCH,
    ).values_list("pk", "partner_id", "queue_key", "change_id", "change__path", "change__payload")
    # Each queue's pending PATCHes, oldest first: a stored delivery by its pk, a new one as is.
    pending: dict[tuple[int, str], list[tuple[Change, int | Delivery]]] = defaultdict(list)
    olds: dict[int, Change] = {}
    for pk, partner_id, queue_key, change_id, path, payload in rows:
        if (partner_id, queue_key) in queues:
            old = olds.setdefault(
                change_id, Change(pk=change_id, method=Method.PATCH, path=path, payload=payload)
            )
            pending[(partner_id, queue_key)].append((old, pk))
    covered: dict[tuple[int, int], bool] = {}  # (new, old) judged once, however many partners
    stored: dict[str, list[int]] = defaultdict(list)  # stored deliveries by their note
    for change, batch in zip(changes, batches, strict=True):
        for delivery in batch:
            queue = (delivery.partner_id, delivery.queue_key)
            kept: list[tuple[Change, int | Delivery]] = []
            for old, marker in pending[queue]:
                if (change.pk, old.pk) not in covered:
                    covered[(change.pk, old.pk)] = _supersedes(change, old)
                if not covered[(change.pk, old.pk)]:
                    kept.append((old, marker))
                elif isinstance(marker, Delivery):
                    marker.status = DeliveryStatus.SUPERSEDED
                    marker.last_error = _superseded_by(change)
                else:
                    stored[_superseded_by(change)].append(marker)
            pending[queue] = [*kept, (change, delivery)]
    if stored:
        notes = [When(pk__in=pks, then=Value(note)) for note, pks in stored.items()]
        Delivery.objects.filter(
            pk__in=[pk for pks in stored.values() for pk in pks], status=DeliveryStatus.PENDING
        ).update(status=DeliveryStatus.SUPERSEDED, last_error=Case(*notes))


def _superseded_by(change: Change) -> str:
    """The last_error of a delivery `change` superseded."""
    return f"superseded by change {change.pk}"


@dataclass(frozen=True)
class Request:
    """One request to queue for every target (push_changes): sent to the target's module
    endpoint with `path` appended, or to `url` when given."""

    module: str
    method: str
    owner: PartyRef
    object_key: str
    path: Sequence[str]
    payload: dict[str, Any] | None
    url: str = ""


def push_change(
    *,
    module: str,
    method: str,
    owner: PartyRef,
    object_key: str,
    path: Sequence[str],
    payload: dict[str, Any] | None,
    targets: Sequence[Target],
    url: str = "",
) -> Change | None:
    """Queue one request for every target, in the caller's transaction.

    Sent to the target's module endpoint with `path` appended, or to `url` when given (an
    absolute URL of the partner's: post_result). Pending (not yet sent) deliveries of the
    same object that this change makes pointless are marked SUPERSEDED; the workers are
    woken once the transaction commits.
    """
    request = Request(module, method, owner, object_key, path, payload, url)
    changes = push_changes([request], targets=targets)
    return changes[0] if changes else None


def push_changes(requests: Sequence[Request], *, targets: Sequence[Target]) -> list[Change]:
    """Queue `requests`, in this order, for every target, in the caller's transaction, as
    push_change queues one: the changes in one INSERT, their deliveries in another. PATCHes
    (what a batch of EVSE statuses queues) have their superseded predecessors read and
    marked once for all, a later one of the batch superseding an earlier one of the same
    queue; a batch with another method queues one request after the other."""
    if not targets or not requests:
        return []
    if len(requests) > 1 and any(request.method != Method.PATCH for request in requests):
        return [
            change for request in requests for change in push_changes([request], targets=targets)
        ]
    changes = Change.objects.bulk_create(
        [
            Change(
                module=request.module,
                method=request.method,
                object_key=request.object_key,
                path=list(request.path),
                url=request.url,
                payload=request.payload,
                owner_country_code=request.owner.country_code,
                owner_party_id=request.owner.party_id,
            )
            for request in requests
        ]
    )
    moment = now()
    batches = [
        [
            Delivery(
                change=change,
                partner_id=target.partner_id,
                to_country_code=target.party.country_code,
                to_party_id=target.party.party_id,
                queue_key=f"{target.party}|{change.object_key}",
                next_attempt_at=moment,
            )
            for target in targets
        ]
        for change in changes
    ]
    if len(changes) == 1:
        _supersede_pending(changes[0], batches[0])
    else:
        _supersede_pending_patches(changes, batches)
    Delivery.objects.bulk_create([delivery for batch in batches for delivery in batch])
    transaction.on_commit(partial(kick, *sorted({t.partner_id for t in targets})))
    return changes


def post_result(
    *,
    partner: PartnerPlatform,
    to: PartyRef,
    owner: PartyRef,
    module: str,
    url: str,
    payload: dict[str, Any],
) -> None:
    """Queue a POST of `payload` to `url`, an absolute URL the partner gave us (a command's or
    a charging profile's `response_url`), in the caller's transaction.

    Sent like every push: with the partner's token and the routing headers from `owner` (our
    party) to `to` (its party), retried with the outbox's backoff, recorded as a Delivery.
    Check the URL when it is received (ocpi.netsafety.check_response_url); one refused
    when it is sent (the setting changed, its name resolves to a private address) fails
    its delivery with the reason. Results to one URL go out in the order they were queued.
    """
    digest = hashlib.sha256(url.encode()).hexdigest()[:40]
    push_change(
        module=module,
        method=Method.POST,
        owner=owner,
        object_key=f"{module}:result:{digest}",
        path=[],
        payload=payload,
        targets=[Target(partner.pk, to)],
        url=url,
    )


def kick(*partner_ids: int) -> None:
    """Wake a worker for each partner that has no wake-up queued yet.

    A marker in the cache is a task not yet started, which will send what is committed now
    (push.tasks clears it first): `cache.add` sets it only where there was none. The tasks
    of the partners woken go to the broker in one batch (kombu's publish batch: one Redis
    pipeline), not a round trip each.
    """
    from push.tasks import deliver_partner

    woken = [
        partner_id
        for partner_id in partner_ids
        if cache.add(KICK_KEY.format(partner_id=partner_id), 1, KICK_SECONDS)
    ]
    if not woken:
        return
    with current_app.producer_or_acquire() as producer, producer.batch():
        for partner_id in woken:
            deliver_partner.apply_async((partner_id,), producer=producer)


def resend(*, delivery_ids: Sequence[int]) -> int:
    """Operator action: send failed or delivered deliveries again, now."""
    deliveries = Delivery.objects.filter(pk__in=delivery_ids).exclude(status__in=OPEN_STATUSES)
    partner_ids = set(deliveries.values_list("partner_id", flat=True))
    count = deliveries.update(
        status=DeliveryStatus.PENDING, next_attempt_at=now(), claimed_at=None, last_error=""
    )
    transaction.on_commit(partial(kick, *sorted(partner_ids)))
    return count
