"""The platform side of the OCPP benchmarks: its database, the estate and charge points the
gateway serves, gateway and floor processes, and what /proc says about a process.

SQLite (var/bench-ocpp/db.sqlite3, recreated) by default, as `make run` serves; with
BENCH_DATABASE set, PostgreSQL database BENCH_DATABASE (recreated) and Redis BENCH_REDIS_URL,
as the other benchmarks (bench/harness.py).

Charge points are provisioned with their password hashed as the platform hashes it
(chargers.connections.set_password: PBKDF2 with OCPP_PASSWORD_ITERATIONS), Django's
make_password where that does not exist; bench/ocpp_storm.py prints what one check costs.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402
from bench.ocpp_load import Load, raise_fd_limit  # noqa: E402

ROOT = harness.ROOT
VAR = ROOT / "var" / "bench-ocpp"
PASSWORD = "bench-password-1"  # noqa: S105 (every simulated charge point's)
IDENTITY = "BENCH-CP-{:05d}"
ID_TAG = "BENCH{index:07d}"  # a token per charge point that charges
GATEWAY_COMMAND = ROOT / "chargers" / "management" / "commands" / "ocpp_gateway.py"
TICKS = os.sysconf("SC_CLK_TCK")


def on_postgres() -> bool:
    return bool(os.environ.get("BENCH_DATABASE"))


def describe_database() -> str:
    if on_postgres():
        return f"PostgreSQL {harness.DATABASE_NAME} + Redis {harness.REDIS_URL}"
    return f"SQLite {VAR / 'db.sqlite3'} (no Redis)"


def env(**extra: str) -> dict[str, str]:
    """The environment of every process of a run."""
    values = harness.bench_env(**extra)
    if not on_postgres():
        values.pop("DATABASE_URL")
        values.pop("REDIS_URL")
        values["VAR_DIR"] = str(VAR)
    return values


def setup_django() -> None:
    os.environ.update(env())
    if not on_postgres():
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def recreate_database() -> None:
    """An empty, migrated database (and cache) for this run. Call before setup_django()."""
    if on_postgres():
        harness.recreate_database()
        return
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    subprocess.run(
        [harness.PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env(),
        check=True,
    )


def gateway_available() -> bool:
    return GATEWAY_COMMAND.exists()


# --- the estate and its charge points --------------------------------------------------------


def seed_estate(evses_needed: int) -> None:
    """Demo locations (`manage.py seed_demo`, through the services) with at least
    `evses_needed` EVSEs; more locations are added until there are enough."""
    from locations.models import EVSE

    locations = max(10, evses_needed // 3)
    while True:
        subprocess.run(
            [harness.PYTHON, "manage.py", "seed_demo", "--locations", str(locations)],
            cwd=ROOT,
            env=env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        if EVSE.objects.count() >= evses_needed:
            return
        locations = int(locations * 1.5) + 10


def add_emsp() -> None:
    """The eMSP of the benchmark's token (DE*TNM): Receiver endpoints for sessions, CDRs and
    locations, so that every change the gateway makes writes its delivery to the outbox
    (never sent: no worker runs), as it would on a platform with one roaming partner."""
    url = "http://127.0.0.1:9/ocpi/emsp/2.2.1"
    from tests.partners import registered_emsp

    registered_emsp(
        "Bench eMSP",
        "bench-emsp-token",
        ("DE", "TNM"),
        endpoints=tuple(
            (module, "RECEIVER", f"{url}/{module}") for module in ("sessions", "cdrs", "locations")
        ),
    )


def cache_tokens(count: int) -> None:
    """Tokens ID_TAG.format(index=n), n < count, of DE*TNM in our cache, which our cache
    alone allows (whitelist ALWAYS): a StartTransaction is authorized without asking the eMSP.
    Through tokens.services.token_put, as an eMSP's PUT (tests/tokens/conftest.py)."""
    import json

    from tokens.serializers import TokenSerializer
    from tokens.services import token_put

    example = ROOT / "tests" / "tokens" / "examples" / "token_example_2_full_rfid.json"
    template = json.loads(example.read_text())
    for n in range(count):
        serializer = TokenSerializer(
            data={**template, "uid": ID_TAG.format(index=n), "whitelist": "ALWAYS", "valid": True}
        )
        serializer.is_valid(raise_exception=True)
        token_put(data=dict(serializer.validated_data))


def prepare(count: int, *, connectors: int = 1, version: str = "1.6", tokens: int = 0) -> list[str]:
    """A fresh database with the estate, the eMSP, `tokens` tokens and `count` charge points
    (their identities); Django set up in this process."""
    recreate_database()
    setup_django()
    seed_estate(count * connectors)
    add_emsp()
    cache_tokens(tokens)
    return provision(count, connectors=connectors, version=version)


def provision(count: int, *, connectors: int, version: str) -> list[str]:
    """Charge points BENCH-CP-00000…, each mapped to `connectors` EVSEs of the estate
    (OCPP connector / EVSE id n ↔ its n-th; AVAILABLE), security profile 1 with PASSWORD.

    Rows written directly (chargers.models), as provisioning writes them."""
    from django.db import transaction

    from chargers.models import ChargePoint, ChargePointEvse
    from locations.models import EVSE

    evses = list(
        EVSE.objects.filter(charge_point_link__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[: count * connectors]
    )
    if len(evses) < count * connectors:
        raise RuntimeError(f"{len(evses)} EVSEs free, {count * connectors} needed")
    password_hash = hash_password()
    identities = [IDENTITY.format(n) for n in range(count)]
    with transaction.atomic():
        points = ChargePoint.objects.bulk_create(
            ChargePoint(
                identity=identity,
                ocpp_version=version,
                security_profile=1,
                password_hash=password_hash,
            )
            for identity in identities
        )
        ChargePointEvse.objects.bulk_create(
            ChargePointEvse(charge_point=point, ocpp_evse_id=k + 1, evse_id=evse)
            for n, point in enumerate(points)
            for k, evse in enumerate(evses[n * connectors : (n + 1) * connectors])
        )
        # The demo's statuses are random (PLANNED, OUTOFORDER, …): these start AVAILABLE, as
        # after their charge points' last report (written as a bulk set-up, without pushes).
        EVSE.objects.filter(pk__in=evses).update(status="AVAILABLE")
    return identities


def hash_password() -> str:
    """PASSWORD hashed as the platform hashes a charge point's (the same for all of them)."""
    from chargers.models import ChargePoint

    try:
        from chargers.connections import set_password  # type: ignore[attr-defined]
    except ImportError:
        from django.contrib.auth.hashers import make_password

        return make_password(PASSWORD)
    unsaved = ChargePoint()
    set_password(unsaved, PASSWORD)
    return unsaved.password_hash


def check_cost(encoded: str) -> float:
    """Seconds of one check of PASSWORD against `encoded` (a gateway's cost a connection)."""
    from django.contrib.auth.hashers import check_password

    started = time.perf_counter()
    check_password(PASSWORD, encoded)
    return time.perf_counter() - started


# --- processes --------------------------------------------------------------------------------


@dataclass
class Process:
    """A server process of the run, with what /proc says of it."""

    process: subprocess.Popen[Any]
    port: int
    name: str

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/"

    def rss_kib(self) -> int:
        return harness.proc_status_kb(self.process.pid, "VmRSS")

    def cpu_seconds(self) -> float:
        """User + system CPU of all its threads so far."""
        return cpu_seconds_of(self.process.pid)


def listen_overflows() -> int:
    """Connections the kernel refused so far for a full accept queue (TcpExt ListenOverflows,
    this network namespace's: other processes' count too)."""
    lines = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines()]
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names[0] == "TcpExt:" and "ListenOverflows" in names:
            return int(values[names.index("ListenOverflows")])
    return 0


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU of all the threads of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@contextlib.contextmanager
def serving(
    name: str, command: list[str], environment: dict[str, str], *, control: bool = False
) -> Iterator[Process]:
    """Run `command` (which must listen on the port given as {port}) until the block ends;
    with `control`, its stdin and stdout are pipes (text)."""
    raise_fd_limit()  # inherited: each server may hold as many sockets as the hard limit
    port = harness.free_port()
    pipe = subprocess.PIPE if control else None
    process = subprocess.Popen(
        [part.format(port=port) for part in command],
        cwd=ROOT,
        env=environment,
        stdin=pipe,
        stdout=pipe,
        text=control,
    )
    try:
        harness.wait_for_port(port, process, timeout=60)
        yield Process(process, port, name)
    finally:
        harness.stop(process)


def gateway(
    gateway_id: str, *, message_log: bool = False, **extra: str
) -> contextlib.AbstractContextManager[Process]:
    """`manage.py ocpp_gateway` (the gateway of issue 12) as its own process; `extra`: more
    environment (settings)."""
    command = [harness.PYTHON, "manage.py", "ocpp_gateway", "--host", "127.0.0.1"]
    command += ["--port", "{port}", "--id", gateway_id]
    environment = env(OCPP_MESSAGE_LOG="1" if message_log else "0", **extra)
    return serving(f"gateway {gateway_id}", command, environment)


def floor(
    validation: str = "executor", *, control: bool = False, ping_interval: float = 20.0
) -> contextlib.AbstractContextManager[Process]:
    """bench/ocpp_floor.py: the `ocpp` library answering every CALL, doing nothing else."""
    command = [harness.PYTHON, str(ROOT / "bench" / "ocpp_floor.py"), "--port", "{port}"]
    command += ["--validation", validation, "--ping-interval", str(ping_interval)]
    command += ["--control"] if control else []
    return serving(f"floor ({validation})", command, env(), control=control)


def cpu_percent(server: Process, seconds: float) -> float:
    """Its CPU over the next `seconds`, in % of one core."""
    before, started = server.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    return 100 * (server.cpu_seconds() - before) / (time.monotonic() - started)


def closed_loop(
    server: Process, spec: dict[str, Any], seconds: float, clients: int
) -> dict[str, float]:
    """spec's charge points (set up as it says) each sending spec's `action` as soon as the
    last is answered: after a 1 s warm-up, `seconds` of answers/s, the server's CPU per
    answer and in % of a core, response times (ms), errors."""
    action = spec["action"]
    with Load({**spec, "work": "loop"}, clients) as load:
        ready = load.ready()
        if ready["ready"] != len(spec["identities"]):
            raise RuntimeError(f"{server.name}: set-up failed: {lost(ready)} {ready}")
        load.go()
        time.sleep(1)  # warm-up
        load.stop()
        cpu, started = server.cpu_seconds(), time.monotonic()
        load.go()
        time.sleep(seconds)
        result = load.stop()
        cpu, elapsed = server.cpu_seconds() - cpu, time.monotonic() - started
    latencies = result["latencies"].get(action, [])
    return {
        "rate": len(latencies) / result["seconds"],
        "answered": len(latencies),
        "cpu_us": 1e6 * cpu / max(len(latencies), 1),
        "cpu_percent": 100 * cpu / elapsed,
        "p50": harness.percentile(latencies, 0.5) * 1000,
        "p99": harness.percentile(latencies, 0.99) * 1000,
        "errors": float(sum(result["errors"].values()) + result.get("dropped", 0)),
    }


def summary(values: list[float]) -> str:
    """p50 / p99 / max of seconds, in ms."""
    if not values:
        return "none"
    p50, p99 = harness.percentile(values, 0.5), harness.percentile(values, 0.99)
    return f"p50 {p50 * 1000:.1f} ms  p99 {p99 * 1000:.1f} ms  max {max(values) * 1000:.1f} ms"


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def lost(result: dict[str, Any]) -> str:
    errors = dict(result.get("errors", {}))
    return (
        f"errors {errors or 0}, connect failures {result.get('connect_failures', 0)}, "
        f"dropped {result.get('dropped', 0)}"
    )
