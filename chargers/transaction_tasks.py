"""Celery beat task of the charge points' transactions: thin, safe to run twice."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from chargers import transactions
from chargers.models import TransactionEvent
from ocpi.time import now
from push.history import delete_in_batches

logger = logging.getLogger(__name__)


@shared_task(name="chargers.check_transactions")
def check_transactions() -> None:
    """Apply the messages that waited long enough for missing ones, then close what was left
    open by a reboot or a vanished charge point (chargers.transactions)."""
    moment = now()
    released = transactions.apply_released(moment)
    closed = transactions.close_abandoned(moment)
    if released or closed:
        logger.info("Transactions: %d released, %d closed (%s)", released, len(closed), closed)


@shared_task(name="chargers.prune_transaction_events")
def prune_transaction_events() -> int:
    """Forget the messages of transactions ended more than OCPP_TRANSACTION_EVENTS_DAYS ago
    (0: keep them): they serve de-duplication and ordering while a transaction runs, and
    support for a while after; a repeat arriving later still finds the transaction ended.
    About one row per meter sample, so at 10,000 charge points they must go."""
    if settings.OCPP_TRANSACTION_EVENTS_DAYS <= 0:
        return 0
    cutoff = now() - timedelta(days=settings.OCPP_TRANSACTION_EVENTS_DAYS)
    deleted = delete_in_batches(TransactionEvent.objects.filter(transaction__ended_at__lt=cutoff))
    if deleted:
        logger.info(
            "Transaction events of transactions ended before %s: %d deleted", cutoff, deleted
        )
    return deleted
