"""The gateway's worker threads and their database connections.

Django opens a connection per request and closes it after (CONN_MAX_AGE 0, the default), which
suits request threads that come and go. The gateway's threads live as long as the process and
each runs thousands of tasks: a connection per task cost more than the work itself in a
reconnect storm (SQLite opens its file, sets its pragmas and reads the schema anew each time;
closing may checkpoint the WAL). So each thread keeps its SQLite connection between tasks; one
that breaks is still replaced before the next task (close_old_connections). PostgreSQL
connections stay per task, as Django gives them to requests: cheap with psycopg's pool
(DATABASE_POOL), and kept ones left the test gateways unable to stop under the full suite.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import close_old_connections, connections
from django.db.backends.base.base import BaseDatabaseWrapper

T = TypeVar("T")


class Workers:
    """The pool of worker threads (`executor`), and the connections its threads keep."""

    def __init__(self, threads: int) -> None:
        self._kept: list[BaseDatabaseWrapper] = []
        self._lock = threading.Lock()
        self.executor = ThreadPoolExecutor(
            threads, thread_name_prefix="ocpp", initializer=self._keep_connections
        )

    def shutdown(self) -> None:
        """Wait for the threads to end, then close the connections they kept: left to the
        garbage collector, a PostgreSQL connection would outlive the gateway in a process that
        goes on (a test). Their threads are gone, so closing them here shares nothing."""
        self.executor.shutdown(wait=True)
        with self._lock:
            kept, self._kept = self._kept, []
        for connection in kept:
            connection.inc_thread_sharing()
            connection.close()

    def _keep_connections(self) -> None:
        """Pool initializer: this thread's connections (made lazily, from a settings dict of
        their own) are not closed for their age."""
        mine = [connection for connection in connections.all() if connection.vendor == "sqlite"]
        for connection in mine:
            connection.settings_dict = {**connection.settings_dict, "CONN_MAX_AGE": None}
        with self._lock:
            self._kept.extend(mine)


def with_database(function: Callable[..., T], *args: Any) -> T:
    """Run `function` in a pool thread as Django runs a request: a connection that broke (or
    outlived CONN_MAX_AGE, where it applies) is closed before and after."""
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()
