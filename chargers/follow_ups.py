"""What is done once a call to a charge point has ended, by whoever asked for it.

A caller that must act on the answer (post a command's result to an eMSP, mark a reservation
held) names a registered follow-up when it sends the call: `calls.send(..., follow_up=NAME)`.
Once the call is final (ANSWERED, FAILED or TIMED_OUT) the follow-up runs exactly once, in a
Celery worker, with nobody blocked on the call meanwhile:

    the call ends   the process that ends it (a gateway recording the answer, or whoever marks
                    it TIMED_OUT) queues `chargers.run_follow_up` once that is committed
    the task        claims the call (followed_up_at set) and runs the follow-up, in one
                    database transaction: its effects and the claim commit together or not at
                    all, so a failed follow-up is run again later
    the beat        `chargers.follow_up_overdue` expires calls past their deadline and runs the
                    follow-ups that were missed (a process that died between its commit and
                    queueing the task, a failed follow-up)

Upper layers register their follow-ups (`@follow_up("commands.start_session")`) in a module
their AppConfig.ready() imports, and find their own object from the call by a ForeignKey to
ChargePointCall.
"""

import logging
from collections.abc import Callable, Iterable
from functools import partial

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from chargers.models import FOLLOW_UP_NAME_LENGTH, ChargePointCall

logger = logging.getLogger(__name__)

FollowUp = Callable[[ChargePointCall], None]

_registry: dict[str, FollowUp] = {}

# The beat runs at most this many missed follow-ups a round (the oldest first).
OVERDUE_BATCH = 500


def follow_up(name: str) -> Callable[[FollowUp], FollowUp]:
    """Register the decorated function as the follow-up called `name`."""
    if not 0 < len(name) <= FOLLOW_UP_NAME_LENGTH:
        raise ValueError(
            f"A follow-up's name has 1 to {FOLLOW_UP_NAME_LENGTH} characters: {name!r}"
        )

    def register(function: FollowUp) -> FollowUp:
        existing = _registry.get(name)
        if existing is not None and existing is not function:
            raise ValueError(f"Follow-up {name!r} registered twice")
        _registry[name] = function
        return function

    return register


def is_registered(name: str) -> bool:
    return name in _registry


def waiting() -> QuerySet[ChargePointCall]:
    """Ended calls whose follow-up has not run yet."""
    return ChargePointCall.objects.filter(
        state__in=ChargePointCall.FINAL, followed_up_at__isnull=True
    ).exclude(follow_up="")


def ended(call_ids: Iterable[str]) -> None:
    """The calls have just been made final: queue the follow-ups of those that have one, once
    that is committed (at once outside a transaction)."""
    ids = [str(call_id) for call_id in call_ids]
    if not ids:
        return
    for call_id in waiting().filter(pk__in=ids).values_list("pk", flat=True):
        transaction.on_commit(partial(_queue, str(call_id)))


def run(call_id: str) -> bool:
    """Run the call's follow-up if it is due and nobody ran it yet: True when this did."""
    with transaction.atomic():
        call = waiting().filter(pk=call_id).first()
        if call is None:
            return False
        function = _registry.get(call.follow_up)
        if function is None:
            # Left waiting: a process that knows the name (a newer deploy) will run it.
            logger.error(
                "Call %s names follow-up %r, which is not registered", call_id, call.follow_up
            )
            return False
        # The claim first: a concurrent runner's UPDATE waits for this transaction, then finds
        # the row claimed (PostgreSQL); SQLite lets one writer in at a time.
        if not waiting().filter(pk=call_id).update(followed_up_at=timezone.now()):
            return False
        function(call)
    return True


def run_overdue(limit: int = OVERDUE_BATCH) -> int:
    """Run the follow-ups that are due and were missed, oldest first: how many ran."""
    due = list(waiting().order_by("finished_at").values_list("pk", flat=True)[:limit])
    ran = 0
    for call_id in due:
        try:
            ran += run(str(call_id))
        except Exception:
            logger.exception(
                "Follow-up of call %s failed; it runs again on the next round", call_id
            )
    return ran


def _queue(call_id: str) -> None:
    from chargers.tasks import run_follow_up  # chargers.tasks imports this module

    run_follow_up.delay(call_id)
