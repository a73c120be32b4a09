"""The platform served by Django's own ASGIHandler instead of ocpi.asgi's (bench/overrides.py):
the same settings, middleware and views, each request as Django runs it."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.asgi import get_asgi_application  # noqa: E402 (after the settings module)

application = get_asgi_application()
