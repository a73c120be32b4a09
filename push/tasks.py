"""Celery tasks of the outbox: thin and idempotent."""

from celery import shared_task
from django.core.cache import cache

from push import delivery, history
from push.services import KICK_KEY, kick


@shared_task(name="push.deliver_partner", acks_late=True)
def deliver_partner(partner_id: int) -> int:
    """Send the partner's due deliveries. Running it twice at once is harmless (claims)."""
    # Clear the wake-up marker first: a change committed from now on queues a new task.
    cache.delete(KICK_KEY.format(partner_id=partner_id))
    return delivery.deliver_due(partner_id)


@shared_task(name="push.resend_due")
def resend_due() -> None:
    """Beat: recover from lost messages and killed workers; wake partners with due retries."""
    kick(
        *sorted(set(delivery.release_stale_claims()) | set(delivery.partners_with_due_deliveries()))
    )


@shared_task(name="push.prune_history")
def prune_history() -> tuple[int, int]:
    """Beat: forget deliveries and changes older than PUSH_KEEP_DAYS (push.history)."""
    return history.prune()
