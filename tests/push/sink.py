"""A partner's receiver endpoint on loopback that records what it is sent.

Answers are scripted: by default `200 {"status_code": 1000}`; `script` maps a request
number (1-based) to (HTTP status, OCPI status) or to "drop" (close without answering).
`headers(received)` adds response headers, e.g. the `Location` a CDR POST is answered with.
"""

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Sink:
    url: str
    received: list[Received] = field(default_factory=list)
    script: dict[int, Any] = field(default_factory=dict)
    default: tuple[int, int] = (200, 1000)
    headers: Callable[[Received], dict[str, str]] = lambda received: {}
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_for(self, number: int) -> Any:
        return self.script.get(number, self.default)


@contextmanager
def running_sink() -> Iterator[Sink]:
    sink = Sink(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            received = Received(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                json.loads(raw) if raw else None,
            )
            with sink.lock:
                sink.received.append(received)
                answer = sink.answer_for(len(sink.received))
            extra = sink.headers(received)
            if answer == "drop":
                self.close_connection = True
                self.connection.close()
                return
            http_status, ocpi_status = answer
            body = json.dumps({"status_code": ocpi_status, "timestamp": "2026-01-01T00:00:00Z"})
            self.send_response(http_status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body.encode())

        do_PUT = do_PATCH = do_POST = do_DELETE = do_GET = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
