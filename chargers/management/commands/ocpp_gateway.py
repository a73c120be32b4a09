"""python manage.py ocpp_gateway [--host H] [--port P] [--id GATEWAY_ID]"""

import asyncio
import signal
from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from websockets.asyncio.server import Server

from chargers.gateway.server import Gateway


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed (uvicorn[standard] brings it): the gateway's
    loop holds every connection and its pings, at about three quarters of asyncio's CPU;
    else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


class Command(BaseCommand):
    help = (
        "Serve OCPP-J charge points at ws(s)://HOST:PORT/ocpp/<identity> until SIGTERM or "
        "SIGINT; then close their connections (1001) and mark them disconnected."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default=settings.OCPP_HOST)
        parser.add_argument("--port", type=int, default=settings.OCPP_PORT, help="0: any free one")
        parser.add_argument(
            "--id",
            dest="gateway_id",
            default="",
            help="This gateway's name in the charge points' rows (OCPP_GATEWAY_ID; hostname:pid).",
        )

    def handle(self, *args: Any, host: str, port: int, gateway_id: str, **options: Any) -> None:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(self._serve(Gateway(gateway_id), host, port))

    async def _serve(self, gateway: Gateway, host: str, port: int) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signal_number, stop.set)

        def started(server: Server) -> None:
            scheme = "wss" if settings.OCPP_TLS_CERT else "ws"
            bound = server.sockets[0].getsockname()[1]
            self.stdout.write(
                f"OCPP gateway {gateway.id} listening on {scheme}://{host}:{bound}/ocpp/<identity>"
            )
            self.stdout.flush()

        await gateway.run(host, port, stop, started)
        self.stdout.write(f"OCPP gateway {gateway.id} stopped")
