"""Celery tasks of load management: thin, keyed by primary key, safe to run twice."""

from functools import partial

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from chargingprofiles import loadmanagement

REPLAN_KEY = "chargingprofiles:replan:{grid_limit_id}"


def schedule_replan(grid_limit_id: int) -> None:
    """Plan the site again shortly after the caller's transaction commits: the changes of a
    burst (three sessions starting at once) make one plan (debounced per site). A marker in the
    cache is a plan queued and not started yet, which will see what is committed now."""
    transaction.on_commit(partial(_queue, grid_limit_id))


def _queue(grid_limit_id: int) -> None:
    seconds = settings.LOAD_REPLAN_DEBOUNCE_SECONDS
    key = REPLAN_KEY.format(grid_limit_id=grid_limit_id)
    if cache.add(key, 1, max(60, int(seconds) * 10)):
        replan_site.apply_async((grid_limit_id,), countdown=seconds)


@shared_task(name="chargingprofiles.replan_site")
def replan_site(grid_limit_id: int) -> None:
    cache.delete(REPLAN_KEY.format(grid_limit_id=grid_limit_id))  # later changes queue anew
    loadmanagement.replan(grid_limit_id)


@shared_task(name="chargingprofiles.replan_all")
def replan_all() -> None:
    """Beat: every site under a limit, one task each."""
    for grid_limit_id in loadmanagement.active_grid_limits():
        replan_site.delay(grid_limit_id)
