"""Round trip of a call to a charge point: calls.call() → gateway → fake charge point → answer
recorded → the waiter returns.

    python bench/ocpp_calls.py --backend sqlite|postgres [--calls 200] [--poll 1.0]

One process: OutgoingCalls runs in an event loop of its own thread (as in a gateway process)
and holds one charge point with a fake link that answers every CALL at once with a valid
CALLRESULT; the main thread makes `--calls` calls one after the other (after 10 warm-up ones),
the way a web request would. sqlite: a fresh file database, no Redis, so the gateway finds each
call by its database poll (every `--poll` s, OCPP_CALL_POLL_SECONDS) and the waiter polls its
row; each call is made after a random pause of up to one poll interval, as independent callers
would (back to back, each call would start just after a poll and wait for nearly the whole next
one). postgres: database `ocpi_bench_calls` (recreated) and Redis (BENCH_REDIS_URL, default
database 11), so wake-ups and end notifications go through Pub/Sub.

Printed, in ms, p50 / p99 / max: the whole call as the caller sees it, and from the rows:
created → sent (the wake-up), sent → answer recorded (the charge point and our recording).
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE_NAME = os.environ.get("BENCH_DATABASE", "ocpi_bench_calls")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
WARM_UP = 10


def setup(backend: str, poll: float) -> None:
    """Environment, a fresh migrated database, then Django in this process."""
    var_dir = Path(tempfile.mkdtemp(prefix="ocpp-calls-"))
    if backend == "postgres":
        import psycopg
        import redis

        database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE_NAME
        with psycopg.connect(
            PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
        ) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        redis.Redis.from_url(REDIS_URL).flushdb()
        redis_url = REDIS_URL
    else:
        database_url = f"sqlite:///{var_dir / 'db.sqlite3'}"
        redis_url = ""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        VAR_DIR=str(var_dir),
        DJANGO_DEBUG="0",
        LOG_LEVEL="WARNING",
        OCPP_CALL_POLL_SECONDS=str(poll),
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def percentiles(values: list[float]) -> str:
    ms = sorted(value * 1000 for value in values)
    p99 = statistics.quantiles(ms, n=100)[98]
    return f"{statistics.median(ms):8.1f} {p99:8.1f} {ms[-1]:8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--poll", type=float, default=1.0)
    args = parser.parse_args()
    setup(args.backend, args.poll)

    from chargers import calls
    from chargers.models import CallState, ChargePoint
    from tests.chargers.test_calls_gateway import AnsweringLink, Gateway

    charge_point = ChargePoint.objects.create(
        identity="BENCH-1", gateway="bench-gw", connected_version="1.6"
    )
    gateway = Gateway("bench-gw")
    gateway.hold(AnsweringLink("BENCH-1", charge_point.pk, delay=0))
    whole: list[float] = []
    to_sent: list[float] = []
    to_answer: list[float] = []
    try:
        for n in range(WARM_UP + args.calls):
            if args.backend == "sqlite":
                time.sleep(random.uniform(0, args.poll))
            started = time.perf_counter()
            done = calls.trigger_message(charge_point, "Heartbeat")
            done = calls.wait(done)
            elapsed = time.perf_counter() - started
            assert done.state == CallState.ANSWERED, done.error_description
            assert done.sent_at is not None
            assert done.finished_at is not None
            if n >= WARM_UP:
                whole.append(elapsed)
                to_sent.append((done.sent_at - done.created_at).total_seconds())
                to_answer.append((done.finished_at - done.sent_at).total_seconds())
    finally:
        gateway.stop()

    wake = "Redis Pub/Sub" if args.backend == "postgres" else f"database poll every {args.poll} s"
    print(f"{args.backend}, {args.calls} calls, wake-up by {wake}; load {os.getloadavg()[0]:.1f}")
    print(f"{'ms':26} {'p50':>8} {'p99':>8} {'max':>8}")
    print(f"{'call() as the caller sees':26} {percentiles(whole)}")
    print(f"{'created → sent':26} {percentiles(to_sent)}")
    print(f"{'sent → answer recorded':26} {percentiles(to_answer)}")


if __name__ == "__main__":
    main()
