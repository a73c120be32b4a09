"""A partner's receiver on loopback that can go down, come back on the same port, and hold.

Unlike tests/push/sink.py it keeps one port for its whole life: `stop()` closes the listener,
so the platform's requests are refused as by a partner that is down, and `start()` listens
again at the same URL. `hold()` makes it record requests but answer none until `release()`,
like a partner that accepts connections and then hangs. Every answer is HTTP 200 with
OCPI status 1000.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from tests.push.ports import reusable_port

# A held request is answered after this long at the latest, so no thread hangs forever.
HOLD_LIMIT = 60.0


@dataclass(frozen=True)
class Arrival:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float  # time.monotonic() when it arrived


class SwitchableSink:
    def __init__(self) -> None:
        self.port = reusable_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.received: list[Arrival] = []
        self._arrived = threading.Condition()
        self._open = threading.Event()
        self._open.set()
        self._server: ThreadingHTTPServer | None = None

    # --- state --------------------------------------------------------------------------

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        self._server = server

    def stop(self) -> None:
        """Stop listening: connections are refused from now on."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
        self.stop()

    # --- what it got --------------------------------------------------------------------

    def wait_for_requests(self, count: int, timeout: float = 15.0) -> list[Arrival]:
        """Block until at least `count` requests arrived; return all of them."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(
                    f"{len(self.received)} of {count} requests arrived within {timeout:.0f} s"
                )
            return list(self.received)

    def _record(self, arrival: Arrival) -> None:
        with self._arrived:
            self.received.append(arrival)
            self._arrived.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                sink._record(
                    Arrival(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        json.loads(raw) if raw else None,
                        time.monotonic(),
                    )
                )
                sink._open.wait(HOLD_LIMIT)
                body = json.dumps(
                    {"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"}
                ).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # The caller is gone (a killed worker): nobody to answer.

            do_PUT = do_PATCH = do_POST = do_DELETE = do_GET = _handle

        return Handler
