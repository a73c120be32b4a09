"""Forgetting the outbox's history: what was sent long ago, with its attempts.

A delivery is kept PUSH_KEEP_DAYS after it was last due and last delivered (an operator's
resend makes it due again, so a resent one is kept as long again), then deleted with its
attempts; a change goes once none of its deliveries is left. Open deliveries are never
touched, however old: they are the outbox itself.

Kept for good: POSTs to a module endpoint. A POST creates the object at the partner, which
answers where it now lives (the `Location` header, mod_cdrs POST); that delivery is the only
record of the address, and the CDR admin shows it. A result POSTed to a `response_url`
creates nothing there and is pruned like the rest (its command keeps what it said).
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from ocpi.time import now
from push.models import OPEN_STATUSES, Change, Delivery, Method

# Rows deleted per transaction: short ones, so a worker recording outcomes or an operator
# resending never waits long for the rows this holds.
PRUNE_BATCH = 1000


def prune() -> tuple[int, int]:
    """Delete the history older than PUSH_KEEP_DAYS (0: keep everything). Return how many
    deliveries and changes went."""
    if settings.PUSH_KEEP_DAYS <= 0:
        return 0, 0
    cutoff = now() - timedelta(days=settings.PUSH_KEEP_DAYS)
    deliveries = delete_in_batches(
        Delivery.objects.filter(next_attempt_at__lt=cutoff)
        .exclude(status__in=OPEN_STATUSES)
        .exclude(delivered_at__gte=cutoff)
        .exclude(change__method=Method.POST, change__url="")
    )
    changes = delete_in_batches(
        Change.objects.filter(created_at__lt=cutoff, deliveries__isnull=True).exclude(
            method=Method.POST, url=""
        )
    )
    return deliveries, changes


def delete_in_batches(expired: QuerySet[Any]) -> int:
    """Delete what `expired` matches, a batch per transaction, walking the primary key
    upwards (each batch starts where the one before ended: what was deleted is not read
    again). Rows are locked, then deleted on the same conditions: a resend meanwhile waits,
    and what it reopened no longer matches."""
    model = expired.model
    deleted, after = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                expired.filter(pk__gt=after)
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)[:PRUNE_BATCH]
            )
            if not batch:
                return deleted
            after = batch[-1]
            deleted += expired.filter(pk__in=batch).delete()[1].get(model._meta.label, 0)
