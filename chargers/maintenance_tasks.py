"""Celery tasks of the operator's maintenance (imported by the app's ready(), so registered in
every process): thin, safe to run twice (an update in flight is never sent again)."""

from celery import shared_task

from chargers import local_list


@shared_task(name="chargers.sync_local_lists")
def sync_local_lists() -> int:
    """Beat: the local lists of connected charge points brought up to date (chargers.local_list)."""
    return local_list.sync_all()
