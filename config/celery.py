"""The Celery app. Workers push to partners, pull from them and run periodic upkeep."""

import os
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ocpi_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["chargers"], related_name="transaction_tasks")


@task_prerun.connect
@task_postrun.connect
def give_back_database_connections(sender: Task, **kwargs: Any) -> None:
    """Around each task what Django does around each request: close the connections that
    are broken or past CONN_MAX_AGE, which with the pool (always past it) gives them back.

    Celery's own Django fixup would close every connection, and in a prefork child the
    whole pool, around each task: a new PostgreSQL backend process for each of the many
    short push tasks. CELERY_DB_REUSE_MAX (settings) keeps it from doing that but rarely.
    An eager task runs inside its caller's transaction: left alone, as the fixup does.
    """
    if getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
