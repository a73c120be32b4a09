"""Celery tasks of the outbox: thin and idempotent."""

from celery import shared_task
from django.core.cache import cache

from push import delivery
from push.services import KICK_KEY, KICK_SECONDS, kick


@shared_task(name="push.deliver_partner", acks_late=True)
def deliver_partner(partner_id: int) -> int:
    """Send the partner's due deliveries. Running it twice at once is harmless (claims).

    The wake-up marker (push.services.kick) stays set while this runs, so a change committed
    meanwhile queues no other task. Once this pass has sent what it found, the marker is
    cleared and the outbox looked at once more: what was committed before the clearing is
    seen by that look and queues this task again, behind the other partners' (a partner
    with steady traffic never holds a worker for long); what comes after wakes a new task.
    """
    key = KICK_KEY.format(partner_id=partner_id)
    sent = delivery.deliver_due(partner_id)
    cache.delete(key)
    # Nothing sent: what is due waits behind a delivery another task has in flight, and that
    # task's own last look finds it.
    if sent and delivery.has_due(partner_id) and cache.add(key, 1, timeout=KICK_SECONDS):
        deliver_partner.delay(partner_id)
    return sent


@shared_task(name="push.resend_due")
def resend_due() -> None:
    """Beat: recover from lost messages and killed workers; wake partners with due retries."""
    recovered = delivery.release_stale_claims()
    # A killed task's wake-up marker outlives it (until KICK_SECONDS): forget it.
    cache.delete_many([KICK_KEY.format(partner_id=partner_id) for partner_id in recovered])
    kick(*sorted(set(recovered) | set(delivery.partners_with_due_deliveries())))
