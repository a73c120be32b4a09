"""Workers give their database connections back around each task (config/celery.py), as
Django does around each request, instead of Celery's fixup closing them (and the pool)."""

from collections.abc import Iterator

import pytest
from celery.fixups.django import DjangoWorkerFixup  # type: ignore[attr-defined]  # absent from its stubs
from django.conf import settings
from django.db import connection

from config.celery import app, give_back_database_connections
from push.tasks import deliver_partner

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager() -> Iterator[None]:
    """deliver_partner as if it ran eagerly (CELERY_TASK_ALWAYS_EAGER, apply())."""
    deliver_partner.push_request(is_eager=True)  # type: ignore[call-arg]
    yield
    deliver_partner.pop_request()


def used_connection() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def test_a_task_gives_its_connection_back_when_it_ends() -> None:
    used_connection()

    give_back_database_connections(sender=deliver_partner)

    assert connection.connection is None


@pytest.mark.usefixtures("eager")
def test_an_eager_task_leaves_its_callers_connection_alone() -> None:
    used_connection()

    give_back_database_connections(sender=deliver_partner)

    assert connection.connection is not None


def test_celerys_fixup_is_told_not_to_close_connections_around_each_task() -> None:
    assert app.conf.get("CELERY_DB_REUSE_MAX") == settings.CELERY_DB_REUSE_MAX >= 100


def test_celerys_django_fixup_still_reads_the_setting() -> None:
    """CELERY_DB_REUSE_MAX is read by Celery's Django fixup, not a documented setting
    (bench/RESULTS.md, "Overrides kept"): should an upgrade stop reading it, workers close
    their connections around every task again."""
    assert DjangoWorkerFixup(app).db_reuse_max == settings.CELERY_DB_REUSE_MAX
