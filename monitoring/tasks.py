"""Celery tasks of monitoring: thin."""

from celery import shared_task

from monitoring.services import alerts_evaluate
from ocpi.time import now


@shared_task(name="monitoring.evaluate_alerts")
def evaluate_alerts() -> tuple[int, int]:
    """Beat: fire alerts whose condition started, clear those whose condition ended."""
    fired, cleared = alerts_evaluate(moment=now())
    return len(fired), len(cleared)
