"""The Celery app. Workers push to partners, pull from them and run periodic upkeep."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("ocpi_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
