"""ASGI entry point: the web process (uvicorn config.asgi:application)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from ocpi.asgi import ASGIApp, get_asgi_application  # noqa: E402 (after the settings module is chosen)

# Path prefix → the ASGI application of the websocket connections under it (ocpi/asgi.py).
# None yet: every websocket handshake is refused; the OCPP gateway mounts "/ocpp/" here.
WEBSOCKETS: dict[str, ASGIApp] = {}

application = get_asgi_application(websockets=WEBSOCKETS)
