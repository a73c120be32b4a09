"""A command's round trip: a call from the service (`chargers.calls.call`, as a web request or
a Celery task makes it) to a charge point held by another process, until its answer is
recorded; against the floor's own round trip, in one run.

    python bench/ocpp_command_roundtrip.py [--charge-points 10] [--calls 200] [--ocpp 1.6]
                                           [--gateways 2] [--env KEY=VALUE ...]
                                           [--floor-only]

Simulated charge points (bench/ocpp_load.py) connect, boot and idle; each answers every
CALL it gets {"status": "Accepted"}. The floor (bench/ocpp_floor.py --control) sends
--calls TriggerMessage (requestedMessage Heartbeat) one after another, round robin over its
charge points, from its own process: the websocket and library's round trip alone. Then
--gateways `manage.py ocpp_gateway` processes (bench-1, bench-2, …; OCPP_MESSAGE_LOG=0)
share the charge points round robin, and this process (neither of them) makes the same
calls one after another with `chargers.calls.call(charge_point, "TriggerMessage", {...})`,
which returns once the answer is recorded (the call's row final): p50/p99 of that, per
holding gateway too, and how many ended ANSWERED. --env passes settings to the gateways
(e.g. OCPP_GATEWAY_POLL_SECONDS, which bounds the round trip without Redis).

SQLite by default; PostgreSQL + Redis with BENCH_DATABASE (and BENCH_REDIS_URL) set.
Until `chargers/management/commands/ocpp_gateway.py` exists only the floor runs.
"""

import argparse
import contextlib
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, ocpp_platform  # noqa: E402
from bench.ocpp_load import Load  # noqa: E402

WARM_UP = 10
GIVE_UP_AFTER = 3  # calls in a row not ANSWERED (each waits for its deadline): stop there
PAYLOAD = {"requestedMessage": "Heartbeat"}


def idle(url: str, identities: list[str], version: str, password: str) -> dict[str, Any]:
    return {
        "url": url,
        "identities": identities,
        "version": version,
        "password": password,
        "work": "idle",
    }


def floor_round_trips(args: argparse.Namespace) -> tuple[list[float], dict[str, Any]]:
    with ocpp_platform.floor(control=True) as server:
        identities = [f"FLOOR-{n:04d}" for n in range(args.charge_points)]
        with Load(idle(server.url, identities, args.ocpp, "")) as load:
            load.ready()
            load.go()
            stdin, stdout = server.process.stdin, server.process.stdout
            assert stdin is not None
            assert stdout is not None
            stdin.write(f"calls {WARM_UP + args.calls} Heartbeat\n")
            stdin.flush()
            times: list[float] = json.loads(stdout.readline())[WARM_UP:]
            result = load.stop()
    return times, result


def trigger(point: Any) -> Any:
    """The service's call (another helper's chargers.calls): returns the call's final row."""
    from chargers.calls import call

    return call(point, "TriggerMessage", PAYLOAD)


def wait_connected(identities: list[str], timeout: float = 60) -> int:
    """How many of them a gateway holds (their rows say so), once all are or at `timeout`."""
    from chargers.models import ChargePoint

    deadline = time.monotonic() + timeout
    while True:
        held = ChargePoint.objects.filter(identity__in=identities).exclude(gateway="").count()
        if held == len(identities) or time.monotonic() > deadline:
            return held
        time.sleep(0.1)


def gateway_round_trips(
    args: argparse.Namespace, identities: list[str]
) -> tuple[list[float], dict[str, list[float]], Counter[str], dict[str, Any]]:
    from chargers.models import ChargePoint

    extra = dict(item.split("=", 1) for item in args.env)
    names = [f"bench-{n + 1}" for n in range(args.gateways)]
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(ocpp_platform.gateway(name, **extra)) for name in names]
        loads = []
        for n, server in enumerate(servers):
            mine = identities[n :: len(servers)]
            load = stack.enter_context(
                Load(idle(server.url, mine, args.ocpp, ocpp_platform.PASSWORD))
            )
            ready = load.ready()
            if ready["ready"] != len(mine):
                raise RuntimeError(f"{server.name}: {ocpp_platform.lost(ready)} {ready}")
            load.go()
            loads.append(load)
        held = wait_connected(identities)
        print(f"  {held} of {len(identities)} charge points held by a gateway")
        points = list(ChargePoint.objects.filter(identity__in=identities).order_by("identity"))
        times: list[float] = []
        by_gateway: dict[str, list[float]] = {name: [] for name in names}
        states: Counter[str] = Counter()
        failed_in_a_row = 0
        for n in range(WARM_UP + args.calls):
            point = points[n % len(points)]
            started = time.perf_counter()
            row = trigger(point)
            elapsed = time.perf_counter() - started
            failed_in_a_row = 0 if row.state == "ANSWERED" else failed_in_a_row + 1
            if failed_in_a_row == GIVE_UP_AFTER:
                print(f"  given up: {GIVE_UP_AFTER} calls in a row ended {row.state}")
                break
            if n >= WARM_UP:
                times.append(elapsed)
                by_gateway[point.gateway].append(elapsed)
                states[row.state] += 1
        results = [load.stop() for load in loads]
    answered: Counter[str] = Counter()
    for result in results:
        answered.update(result.get("calls_answered", {}))
    return times, by_gateway, states, {"calls_answered": dict(answered)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--charge-points", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--ocpp", choices=["1.6", "2.0.1"], default="1.6")
    parser.add_argument("--gateways", type=int, default=2)
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--floor-only", action="store_true")
    args = parser.parse_args()
    with_gateway = ocpp_platform.gateway_available() and not args.floor_only
    print(
        f"# TriggerMessage round trips, {args.calls} one after another over "
        f"{args.charge_points} charge points (OCPP {args.ocpp}); "
        f"{ocpp_platform.describe_database() if with_gateway else 'floor only: no gateway'} "
        f"(load {ocpp_platform.load_average()})"
    )
    floor, floor_result = floor_round_trips(args)
    rows = [("floor (in the process holding the websocket)", ocpp_platform.summary(floor))]
    rows.append(("  answered by the charge points", str(dict(floor_result["calls_answered"]))))
    if with_gateway:
        identities = ocpp_platform.prepare(args.charge_points, version=args.ocpp)
        times, by_gateway, states, result = gateway_round_trips(args, identities)
        p50, p99 = (harness.percentile(times, q) for q in (0.5, 0.99))
        f50, f99 = (harness.percentile(floor, q) for q in (0.5, 0.99))
        rows.append(("service → another gateway → recorded", ocpp_platform.summary(times)))
        rows.append(("  / floor", f"p50 {p50 / f50:.1f}×  p99 {p99 / f99:.1f}×"))
        for name, values in by_gateway.items():
            rows.append((f"  held by {name}", ocpp_platform.summary(values)))
        rows.append(("  calls' final states", str(dict(states))))
        rows.append(("  answered by the charge points", str(result["calls_answered"])))
    harness.report(f"Command round trip (load {ocpp_platform.load_average()})", rows)


if __name__ == "__main__":
    main()
