"""The gateway's worker threads and their database connections.

Django opens a connection per request and closes it after (CONN_MAX_AGE 0, the default), which
suits request threads that come and go. The gateway's threads live as long as the process and
each runs thousands of tasks: a connection per task cost more than the work itself in a
reconnect storm (SQLite opens its file, sets its pragmas and reads the schema anew each time;
closing may checkpoint the WAL). So each thread keeps its connection between tasks; one that
breaks is still replaced before the next task (close_old_connections). With psycopg's pool
(PostgreSQL, DATABASE_POOL) connections are already cheap to take and give back, and Django
refuses persistent ones beside a pool: those stay per task.
"""

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import close_old_connections, connections

T = TypeVar("T")

# How long closing the threads' connections at shutdown waits for a thread still busy.
CLOSE_TIMEOUT_SECONDS = 10.0


def worker_pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(threads, thread_name_prefix="ocpp", initializer=_keep_connections)


def with_database(function: Callable[..., T], *args: Any) -> T:
    """Run `function` in a pool thread as Django runs a request: a connection that broke (or
    outlived CONN_MAX_AGE, where it applies) is closed before and after."""
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


async def close_connections(pool: ThreadPoolExecutor, threads: int) -> None:
    """Close the connections the pool's threads keep: one task in each thread (a barrier holds
    each until all `threads` run one), before the pool shuts down. Left to the garbage collector,
    a PostgreSQL connection would outlive the gateway in a process that goes on (a test)."""
    barrier = threading.Barrier(threads)

    def close() -> None:
        connections.close_all()
        # Broken: a thread is stuck in a task, and its connection stays.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(CLOSE_TIMEOUT_SECONDS)

    await asyncio.gather(*(asyncio.wrap_future(pool.submit(close)) for _ in range(threads)))


def _keep_connections() -> None:
    """Pool initializer: this thread's connections (made lazily, from a settings dict of their
    own) are not closed for their age."""
    for connection in connections.all():
        if not connection.settings_dict.get("OPTIONS", {}).get("pool"):
            connection.settings_dict = {**connection.settings_dict, "CONN_MAX_AGE": None}
