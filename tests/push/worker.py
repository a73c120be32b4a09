"""Real Celery worker processes on the test database, for end-to-end push tests.

A worker started here is configured like the test process itself (same settings module, same
VAR_DIR, same REDIS_URL, same secret keys), except that its DATABASE_URL names the database
pytest-django created for this run: the SQLite TEST NAME file, or PostgreSQL's `test_<name>`.
So it takes the tasks the test queues (Redis when REDIS_URL is set, else the file-system broker
under VAR_DIR/celery), reads the rows the test commits (use `transactional_db`: rows of the
`db` fixture stay in a transaction no other process sees), and shares the cache that holds
the kick markers of push.services.kick (VAR_DIR/cache or Redis): a marker the test process
sets is the one the worker's task deletes. (So two test runs with the file-system broker in
one checkout at the same time could take each other's tasks: give each its own VAR_DIR.)

Pool: `threads`. One process, so SIGKILL ends every delivery in flight at once: with prefork
the killed parent would leave its children to finish the request, and the "worker died
mid-delivery" test would prove nothing. Deliveries are I/O (HTTP and database), where threads
are enough; four of them let two partners' tasks run side by side.
"""

import itertools
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlunsplit

from django.conf import settings
from django.db import connection

from tests.live import LiveProcess

STARTUP_TIMEOUT = 30.0
READY_MARKER = " ready."

# Short timings so retries and stale-claim recovery happen within a test's seconds.
FAST_PUSH = {
    "PUSH_RETRY_BASE_SECONDS": "0.2",
    "PUSH_RETRY_MAX_SECONDS": "1",
    "PUSH_CLAIM_LEASE_SECONDS": "3",
}

_numbers = itertools.count(1)


def run_database_url() -> str:
    """DATABASE_URL of the database this test run writes to (after pytest-django set it up)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    netloc = f"{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return urlunsplit(("postgres", netloc, "/" + quote(db["NAME"]), "", ""))


def worker_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": run_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "VAR_DIR": str(settings.VAR_DIR),
        # Partner tokens are sealed with these (credentials/crypto.py): the worker must open
        # the ones the test stored.
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "OCPI_TOKEN_KEY": settings.OCPI_TOKEN_KEY,
        "OCPI_ALLOW_PRIVATE_URLS": "1",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        **FAST_PUSH,
        **(extra or {}),
    }


class CeleryWorker:
    """One `celery worker` process; its log is a file in `log_dir`."""

    def __init__(self, log_dir: Path, env: Mapping[str, str] | None = None) -> None:
        number = next(_numbers)
        self.name = f"push-worker-{os.getpid()}-{number}"
        self.process = LiveProcess(
            self.name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=threads",
                "--concurrency=4",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname={self.name}@%h",
            ],
            worker_environment(env),
            log_dir / f"{self.name}.log",
            # Whatever it still does belongs to a test that is over; its rows are flushed
            # next. A warm shutdown would wait for deliveries held by a sink.
            stop_signal=signal.SIGKILL,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while READY_MARKER not in self.process.log_path.read_text(errors="replace"):
            if not self.process.running():
                raise self.process.fail(f"exited with code {self.process.popen.returncode}")
            if time.monotonic() > deadline:
                raise self.process.fail(f"was not ready within {STARTUP_TIMEOUT:.0f} s")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost machine would: no task gets to finish."""
        self.process.popen.send_signal(signal.SIGKILL)
        self.process.popen.wait(timeout=10)

    def log(self) -> str:
        return self.process.log()

    def stop(self) -> None:
        self.process.stop()


class CeleryWorkers:
    """Starts workers on demand; every one is stopped when the `with` block ends."""

    def __init__(self, log_dir: Path, env: Mapping[str, str] | None) -> None:
        self._log_dir = log_dir
        self._env = env
        self.started: list[CeleryWorker] = []

    def start(self) -> CeleryWorker:
        worker = CeleryWorker(self._log_dir, self._env)
        self.started.append(worker)
        worker.wait_ready()
        return worker


@contextmanager
def celery_workers(log_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[CeleryWorkers]:
    workers = CeleryWorkers(log_dir, env)
    try:
        yield workers
    finally:
        for worker in workers.started:
            worker.stop()
