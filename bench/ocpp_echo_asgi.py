"""The platform's ASGI application (config/asgi.py) with an echo mounted at /ocpp/, for
bench/ocpp_placement.py: what a charge point's websocket costs when the web process holds it.

The echo accepts the first OCPP subprotocol offered and sends every frame back; the rest is
config.asgi's application as served (ocpi.asgi's handler, Django set up, the middleware chain
loaded), so the process holds what a web process holds.
"""

import os
import resource
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from ocpi.asgi import Receive, Scope, Send, get_asgi_application  # noqa: E402 (after settings)

_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (_hard, _hard))  # a socket per charge point


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    offered = [p for p in scope.get("subprotocols", []) if p.startswith("ocpp")]
    accept: dict[str, Any] = {"type": "websocket.accept"}
    if offered:
        accept["subprotocol"] = offered[0]
    await send(accept)
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        await send({"type": "websocket.send", "text": message.get("text")})


application = get_asgi_application(websockets={"/ocpp/": echo})
