"""Celery beat task of the charge points' transactions: thin, safe to run twice."""

import logging

from celery import shared_task

from chargers import transactions
from ocpi.time import now

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
