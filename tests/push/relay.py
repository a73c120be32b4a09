"""A TCP relay on loopback in front of a partner, which a test can cut and restore.

A partner process that is restarted forgets what it held (the extrawest peer keeps its
registrations and objects in memory); a relay lets the partner stay up while the network path
to it goes away: `stop()` closes the listener and every open connection, so requests are
refused; `start()` listens again on the same port. Bytes pass through unchanged.
"""

import contextlib
import socket
import threading
from types import TracebackType
from typing import Self

from tests.push.ports import reusable_port

ACCEPT_POLL = 0.05


class TcpRelay:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = reusable_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(ACCEPT_POLL)
        self._stopping.clear()
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()

    def stop(self) -> None:
        """Cut: close the listener (new connections are refused) and every live connection."""
        self._stopping.set()
        if self._accepting is not None:
            self._accepting.join()
        if self._listener is not None:
            self._listener.close()
        self._listener = self._accepting = None
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            _close(connection)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                _close(client)
                continue
            for sock in (client, upstream):
                sock.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)
        except OSError:
            _close(target)
        finally:
            # The other direction may still run; the last one out closes both.
            with self._lock:
                self._open.discard(source)
                last = target not in self._open
            if last:
                _close(source)
                _close(target)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected any more
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
