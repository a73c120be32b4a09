"""Run our own platform as separate server processes, for tests over real HTTP.

`LivePlatform` starts one instance of this project the way an operator would: its own VAR_DIR,
its own database, `manage.py migrate`, then `uvicorn config.asgi:application` on a free
loopback port, and optionally a real Celery worker and beat. Two instances with different
parties and roles (a CPO and an eMSP) can then run the credentials handshake with each other.

Database: a SQLite file in the instance's VAR_DIR, or, when the environment's DATABASE_URL
points at PostgreSQL, a fresh database `<dbname>_live_<pid>_<n>` created here and dropped on
exit. Broker: the file-system broker under VAR_DIR, or, when REDIS_URL is set, a Redis database
number of its own (flushed at start, so no task of an earlier run is picked up).

    with LivePlatform(name="emsp", country_code="DE", party_id="EMS", role="EMSP") as emsp:
        invitation = json.loads(emsp.manage("ocpi_invite", "CPO", "--json").stdout)
"""

import itertools
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, ClassVar, Self
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
COMMAND_TIMEOUT = 60.0
# Redis has databases 0-15: instances take the ones after the environment's own, in turn.
REDIS_DATABASES = 16

_instance_numbers = itertools.count(1)


class LiveProcessFailed(RuntimeError):
    """A process of a live instance did not start, or a management command failed."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"}


def _with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


def _maintenance_connection(database_url: str) -> psycopg.Connection[tuple[object, ...]]:
    parts = urlsplit(database_url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    )


def _tail(path: Path, lines: int = 80) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class LiveProcess:
    """A child process whose stdout and stderr go to a log file under the instance's VAR_DIR."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: Mapping[str, str],
        log_path: Path,
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.log_path = log_path
        self._stop_signal = stop_signal
        self._log: IO[bytes] = log_path.open("ab")
        self.popen = subprocess.Popen(
            args, cwd=REPO_ROOT, env=dict(env), stdout=self._log, stderr=subprocess.STDOUT
        )

    def running(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return _tail(self.log_path)

    def fail(self, why: str) -> LiveProcessFailed:
        """Print the process's log (pytest shows it with the failure) and return the error."""
        report = f"{self.name} {why}; last lines of {self.log_path}:\n{self.log()}"
        print(report, file=sys.stderr)  # noqa: T201
        return LiveProcessFailed(report)

    def stop(self) -> None:
        """Stop the process (again is harmless) and close its log."""
        if self.running():
            self.popen.send_signal(self._stop_signal)
            try:
                self.popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(STOP_TIMEOUT)
        self._log.close()


class LivePlatform:
    """One instance of our platform in its own processes (see the module docstring)."""

    # Started and not yet stopped, so a failing test's report can show their logs.
    running: ClassVar[list["LivePlatform"]] = []

    def __init__(
        self,
        *,
        name: str = "cpo",
        country_code: str = "NL",
        party_id: str = "CPO",
        business_name: str = "Live CPO",
        role: str = "CPO",
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.number = next(_instance_numbers)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.var_dir = Path(tempfile.mkdtemp(prefix=f"ocpi-live-{name}-"))
        self._party = {
            "OCPI_COUNTRY_CODE": country_code,
            "OCPI_PARTY_ID": party_id,
            "OCPI_BUSINESS_NAME": business_name,
            "OCPI_ROLE": role,
        }
        self._extra_env = dict(env or {})
        self._postgres_database: str | None = None
        self._processes: list[LiveProcess] = []
        self.env = self._environment()

    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/ocpi/versions"

    # --- set-up ---------------------------------------------------------------------------

    def _database_url(self) -> str:
        outer = os.environ.get("DATABASE_URL", "")
        if not _is_postgres(outer):
            return f"sqlite:///{self.var_dir / 'db.sqlite3'}"
        base = urlsplit(outer).path.lstrip("/") or "postgres"
        self._postgres_database = f"{base}_live_{os.getpid()}_{self.number}"
        return _with_path(outer, f"/{self._postgres_database}")

    def _redis_url(self) -> str:
        outer = os.environ.get("REDIS_URL", "")
        if not outer:
            return ""
        base = int(urlsplit(outer).path.lstrip("/") or 0)
        offset = 1 + (self.number - 1) % (REDIS_DATABASES - 1)
        return _with_path(outer, f"/{(base + offset) % REDIS_DATABASES}")

    def _environment(self) -> dict[str, str]:
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("OCPI_", "CELERY_", "DJANGO_", "PYTEST_"))
        }
        return {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "VAR_DIR": str(self.var_dir),
            "DATABASE_URL": self._database_url(),
            "REDIS_URL": self._redis_url(),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "OCPI_BASE_URL": self.base_url,
            "OCPI_ALLOW_PRIVATE_URLS": "1",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **self._party,
            **self._extra_env,
        }

    def _create_database(self) -> None:
        if self._postgres_database is None:
            return
        with _maintenance_connection(os.environ["DATABASE_URL"]) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self._postgres_database}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{self._postgres_database}"')

    def _drop_database(self) -> None:
        if self._postgres_database is None:
            return
        with _maintenance_connection(os.environ["DATABASE_URL"]) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self._postgres_database}" WITH (FORCE)')

    def _flush_redis(self) -> None:
        if self.env["REDIS_URL"]:
            redis.Redis.from_url(self.env["REDIS_URL"]).flushdb()

    def _spawn(
        self,
        name: str,
        args: list[str],
        stop_signal: signal.Signals = signal.SIGTERM,
        env: Mapping[str, str] | None = None,
    ) -> LiveProcess:
        process = LiveProcess(
            f"{self.name} {name}",
            args,
            {**self.env, **(env or {})},
            self.var_dir / f"{name}.log",
            stop_signal,
        )
        self._processes.append(process)
        return process

    def _wait_healthy(self, server: LiveProcess) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if not server.running():
                raise server.fail(f"exited with code {server.popen.returncode}")
            try:
                if requests.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass  # Not listening yet (or someone else is on the port: caught above).
            time.sleep(0.05)
        raise server.fail(f"did not answer /healthz within {STARTUP_TIMEOUT:.0f} s")

    def _wait_for_log(self, process: LiveProcess, marker: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if not process.running():
                raise process.fail(f"exited with code {process.popen.returncode}")
            if marker in process.log_path.read_text(errors="replace"):
                return
            time.sleep(0.05)
        raise process.fail(f"did not log {marker!r} within {STARTUP_TIMEOUT:.0f} s")

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        LivePlatform.running.append(self)
        try:
            self._create_database()
            self._flush_redis()
            self.manage("migrate", "--no-input", "--verbosity", "0")
            server = self._spawn(
                "server",
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "config.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--lifespan",
                    "off",
                ],
            )
            self._wait_healthy(server)
        except BaseException:
            self.stop()
            raise
        return self

    def start_worker(self) -> LiveProcess:
        """Start a Celery worker for this instance (stopped with it); wait until it is ready."""
        worker = self._spawn(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=live-{self.name}-{self.number}@%h",
            ],
            # The instance goes away with its database and broker, so no task is left to
            # finish; even Celery's cold shutdown takes seconds on the file-system broker.
            stop_signal=signal.SIGKILL,
        )
        self._wait_for_log(worker, " ready.")
        return worker

    def start_beat(self, env: Mapping[str, str] | None = None) -> LiveProcess:
        """Start Celery beat for this instance (stopped with it, or earlier by `.stop()`).

        `env` adds to the instance's environment, e.g. a short OCPI_PARTNER_CHECK_SECONDS.
        """
        beat = self._spawn(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                f"--schedule={self.var_dir / 'celerybeat-schedule'}",
            ],
            env=env,
        )
        self._wait_for_log(beat, "beat: Starting...")
        return beat

    def stop(self) -> None:
        # The last started first (worker and beat, then the server), all before the database.
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()
        self._drop_database()
        shutil.rmtree(self.var_dir, ignore_errors=True)
        if self in LivePlatform.running:
            LivePlatform.running.remove(self)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- working with the instance --------------------------------------------------------

    def manage(
        self, *args: str, check: bool = True, timeout: float = COMMAND_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        """Run `manage.py ARGS` against this instance; with `check`, fail on a non-zero exit.

        Logging is at WARNING, so stderr holds what the command itself reports.
        """
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env={**self.env, "LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise LiveProcessFailed(
                f"{self.name}: manage.py {' '.join(args)} exited with {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def shell(self, code: str) -> str:
        """Run Python `code` in `manage.py shell` of this instance and return its stdout."""
        return self.manage("shell", "--verbosity", "0", "--command", code).stdout

    def logs(self) -> str:
        """The last lines of every process's log, for a failing test's report."""
        return "\n".join(f"--- {p.name} ---\n{p.log()}" for p in self._processes)
