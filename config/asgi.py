"""ASGI entry point: the web process (uvicorn config.asgi:application)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from ocpi.asgi import get_asgi_application  # noqa: E402 (after the settings module is chosen)

application = get_asgi_application()
