"""Celery tasks of the charge points: thin, keyed by primary key, safe to run twice."""

from celery import shared_task
from django.utils import timezone

from chargers import calls, follow_ups, presence, reservations


@shared_task(name="chargers.mark_offline_due")
def mark_offline_due() -> None:
    """Beat: mark each charge point disconnected beyond the grace period offline, one task
    each (one query when there is none). A task queued twice marks once."""
    for charge_point_id in presence.offline_due():
        mark_offline.delay(charge_point_id)


@shared_task(name="chargers.mark_offline")
def mark_offline(charge_point_id: int) -> None:
    presence.mark_offline(charge_point_id)


@shared_task(name="chargers.run_follow_up")
def run_follow_up(call_id: str) -> None:
    follow_ups.run(call_id)


@shared_task(name="chargers.follow_up_overdue")
def follow_up_overdue() -> None:
    """Beat: end the calls past their deadline that no gateway ended (none holds the charge
    point, or it died), and run the follow-ups missed."""
    calls.expire_overdue(timezone.now())
    follow_ups.run_overdue()


@shared_task(name="chargers.expire_reservations")
def expire_reservations() -> int:
    """Beat: reservations past their expiry date end (a 1.6 charge point never says so)."""
    return reservations.expire_due(timezone.now())
