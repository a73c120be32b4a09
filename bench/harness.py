"""What the benchmarks share: the bench database, seeding, server processes, timing.

Every benchmark runs against PostgreSQL (database `ocpi_bench`, recreated by each run) and
Redis (database 11), serves the platform with uvicorn in a process of its own, and compares
its figures with a baseline measured in the same run on the same machine.
"""

import base64
import contextlib
import copy
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE_NAME = os.environ.get("BENCH_DATABASE", "ocpi_bench")
DATABASE_URL = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE_NAME
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
PARTNER_TOKEN = "bench-emsp-token"  # noqa: S105 (a benchmark's fixed credentials token)
EXAMPLE = ROOT / "tests" / "locations" / "examples" / "location_example.json"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of every process of a run: PostgreSQL, Redis, no debug, quiet logs."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "OCPI_ALLOW_PRIVATE_URLS": "1",
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(ROOT / "var" / "bench"),
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


def setup_django(**extra: str) -> None:
    """Configure this process like the served platform and set Django up."""
    os.environ.update(bench_env(**extra))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def recreate_database() -> None:
    """Drop and create `ocpi_bench`, then migrate it. Call before setup_django()."""
    import psycopg

    with psycopg.connect(
        PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=bench_env(),
        check=True,
    )
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def authorization(token: str = PARTNER_TOKEN) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


# --- data ---------------------------------------------------------------------------------


def make_partner(name: str, token: str, *, receiver_url: str = "", party: str = "MSP") -> Any:
    """A registered eMSP platform (DE*party) calling us with `token`; with a locations
    Receiver endpoint at `receiver_url` when given (push targets). The tests' factory."""
    from tests.partners import registered_emsp

    endpoints = (("locations", "RECEIVER", receiver_url),) if receiver_url else ()
    return registered_emsp(name, token, ("DE", party), endpoints=endpoints)


def location_payload(
    location_id: str, *, evses: int, country_code: str = "NL", party_id: str = "TNM"
) -> dict[str, Any]:
    """The spec's location_example.json as a location of ours with `evses` EVSEs, each with
    the example's first EVSE's two connectors."""
    from ocpi import json as ocpi_json

    payload: dict[str, Any] = ocpi_json.loads(EXAMPLE.read_text())
    template = payload["evses"][0]
    payload.update(country_code=country_code, party_id=party_id, id=location_id)
    payload["evses"] = [
        {**copy.deepcopy(template), "uid": f"{location_id}-E{n}", "evse_id": ""}
        for n in range(evses)
    ]
    payload["opening_times"] = {"twentyfourseven": True}
    payload["facilities"] = ["CAFE", "WIFI"]
    return payload


def upsert_location(payload: dict[str, Any], **kwargs: Any) -> Any:
    from locations.serializers import LocationSerializer
    from locations.services import location_upsert

    serializer = LocationSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    return location_upsert(data=dict(serializer.validated_data), **kwargs)


def _columns(obj: Any, *, skip: Sequence[str]) -> dict[str, Any]:
    return {
        field.attname: getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if field.attname not in ("id", *skip)
    }


def seed_locations(start: int, stop: int, *, evses: int = 5, batch: int = 1000) -> None:
    """Locations BENCH-{start}…BENCH-{stop-1} of NL*TNM with `evses` EVSEs of two connectors.

    Written with bulk inserts, copying the rows the services wrote for one template location
    (so they are exactly what the services store); last_updated a second apart.
    """
    from django.db import transaction

    from locations.models import EVSE, Connector, Location

    with transaction.atomic():
        template = upsert_location(location_payload("TEMPLATE", evses=1, party_id="TMP"))
        evse = template.evses.get()
        location_values = _columns(template, skip=["ocpi_id", "last_updated", "created_at"])
        location_values["party_id"] = "TNM"
        evse_values = _columns(evse, skip=["location_id", "uid", "last_updated"])
        connector_values = [
            _columns(c, skip=["evse_id", "last_updated"]) for c in evse.connectors.order_by("pk")
        ]
        transaction.set_rollback(True)
    for first in range(start, stop, batch):
        numbers = range(first, min(first + batch, stop))
        with transaction.atomic():
            locations = Location.objects.bulk_create(
                Location(
                    **location_values,
                    ocpi_id=f"BENCH-{n}",
                    last_updated=T0 + timedelta(seconds=n),
                )
                for n in numbers
            )
            new_evses = EVSE.objects.bulk_create(
                EVSE(
                    **evse_values,
                    location_id=location.pk,
                    uid=f"{location.ocpi_id}-E{e}",
                    last_updated=location.last_updated,
                )
                for location in locations
                for e in range(evses)
            )
            Connector.objects.bulk_create(
                Connector(**values, evse_id=new.pk, last_updated=new.last_updated)
                for new in new_evses
                for values in connector_values
            )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def flush_cache() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


# --- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def peak_rss_mb(self) -> float:
        return proc_status_kb(self.process.pid, "VmHWM") / 1024

    def rss_mb(self) -> float:
        return proc_status_kb(self.process.pid, "VmRSS") / 1024


def proc_status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


@contextlib.contextmanager
def uvicorn(app: str, **env: str) -> Iterator[Server]:
    """Serve `app` as the platform is served (Procfile: uvicorn, --lifespan off), one worker
    process, so that its memory and the client's CPU are measured apart."""
    port = free_port()
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "uvicorn",
            app,
            "--lifespan",
            "off",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=bench_env(OCPI_BASE_URL=f"http://127.0.0.1:{port}", **env),
    )
    try:
        wait_for_port(port, process)
        yield Server(process, port)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- figures ------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def verdict(value: float, target: float, *, at_least: bool) -> str:
    met = value >= target if at_least else value <= target
    return f"{'MET' if met else 'MISSED'} (target {'≥' if at_least else '≤'} {target:g})"


def report(title: str, rows: Sequence[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n## {title}")
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str))


def hammer(
    url: str, *, headers: dict[str, str], seconds: float, connections: int = 4
) -> dict[str, float]:
    """GET `url` over `connections` keep-alive connections for `seconds`; requests/s."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    done: list[int] = []
    failures: list[int] = []
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=30
        )
        count = errors = 0
        mine: list[float] = []
        while (begun := time.perf_counter()) < deadline:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - begun)
            if response.status == 200:
                count += 1
            else:
                errors += 1
        connection.close()
        done.append(count)
        failures.append(errors)
        latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "rps": sum(done) / elapsed,
        "errors": float(sum(failures)),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


@contextlib.contextmanager
def counted() -> Iterator[list[int]]:
    """The statements this thread's connection runs meanwhile: [their count] (Django set up)."""
    from django.db import connection

    count = [0]

    def wrapper(execute: Any, *args: Any) -> Any:
        count[0] += 1
        return execute(*args)

    with connection.execute_wrapper(wrapper):
        yield count


def load_average() -> str:
    """The 1-minute load average: this machine's 2 cores may be shared with other work."""
    return Path("/proc/loadavg").read_text().split()[0]
