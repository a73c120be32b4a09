"""A reconnect storm: N charge points connect within a few seconds, each booting and reporting
every connector; how long until every status is recorded, response times, nothing lost.

    python bench/ocpp_storm.py [--charge-points 10000] [--within 10] [--connectors 2]
                               [--ocpp 1.6] [--clients 2] [--timeout 600]
                               [--expect-status INOPERATIVE] [--floor-only]

Each simulated charge point (bench/ocpp_load.py) waits a random moment in [0, --within) s,
connects (Basic auth), sends BootNotification and then a StatusNotification "Unavailable" for
each of its --connectors connectors (one CALL outstanding at a time, as OCPP-J requires),
and stays connected. Against the floor (bench/ocpp_floor.py), then `manage.py ocpp_gateway`
(one process, OCPP_MESSAGE_LOG=0) on a fresh database whose benchmark EVSEs are AVAILABLE
(bench/ocpp_platform.py): time from the storm's start to the last answer, and until every
EVSE is recorded --expect-status (polled every 50 ms; OCPP "Unavailable" is OCPI
INOPERATIVE); p50/p99 of each message's response; lost = EVSEs never recorded, plus CALLs
never answered.

Passwords are hashed as the platform hashes them (bench/ocpp_platform.py): the cost of one
check is printed, which a gateway checking a password at each connection pays N times.

SQLite by default; PostgreSQL + Redis with BENCH_DATABASE (and BENCH_REDIS_URL) set.
Until `chargers/management/commands/ocpp_gateway.py` exists only the floor runs.
"""

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, ocpp_platform  # noqa: E402
from bench.ocpp_load import Load  # noqa: E402

STATUS = "Unavailable"


def recorded(identities: list[str], status: str) -> int:
    from locations.models import EVSE

    return EVSE.objects.filter(
        charge_point_link__charge_point__identity__in=identities, status=status
    ).count()


def statuses(identities: list[str]) -> dict[str, int]:
    from django.db.models import Count

    from locations.models import EVSE

    rows = (
        EVSE.objects.filter(charge_point_link__charge_point__identity__in=identities)
        .values("status")
        .annotate(n=Count("pk"))
    )
    return {r["status"]: r["n"] for r in rows}


def storm(
    server: ocpp_platform.Process,
    identities: list[str],
    args: argparse.Namespace,
    password: str,
    in_database: bool,
) -> dict[str, Any]:
    spec = {
        "url": server.url,
        "identities": identities,
        "version": args.ocpp,
        "password": password,
        "connectors": args.connectors,
        "status": STATUS,
        "work": "storm",
        "storm_seconds": args.within,
    }
    expected = len(identities) * args.connectors
    with Load(spec, args.clients) as load:
        load.ready()
        cpu = server.cpu_seconds()
        started = load.go()
        all_recorded = None
        if in_database:
            deadline = time.time() + args.timeout
            while time.time() < deadline:
                if recorded(identities, args.expect_status) >= expected:
                    all_recorded = time.time() - started
                    break
                time.sleep(0.05)
        done = load.wait()
        result = load.stop()
        cpu = server.cpu_seconds() - cpu
    answered = {action: len(values) for action, values in result["latencies"].items()}
    return {
        "result": result,
        "answered": answered,
        "last_answer": result["last_answer_at"] - started,
        "done": done - started,
        "all_recorded": all_recorded,
        "recorded": recorded(identities, args.expect_status) if in_database else None,
        "expected": expected,
        "cpu": cpu,
        "rss_mib": server.rss_kib() / 1024,
    }


def report(name: str, figures: dict[str, Any], count: int, args: argparse.Namespace) -> None:
    result = figures["result"]
    unanswered = count * (1 + args.connectors) - sum(figures["answered"].values())
    rows = [
        ("last answer after the start", f"{figures['last_answer']:.2f} s"),
        ("CPU of the server", f"{figures['cpu']:.1f} s; RSS after {figures['rss_mib']:.0f} MB"),
    ]
    for action in ("BootNotification", "StatusNotification"):
        rows.append((action, ocpp_platform.summary(result["latencies"].get(action, []))))
    rows.append(("CALLs unanswered", f"{unanswered} ({ocpp_platform.lost(result)})"))
    if figures["recorded"] is not None:
        until = figures["all_recorded"]
        rows.append(
            (
                f"every EVSE {args.expect_status} after",
                f"{until:.2f} s" if until is not None else f"never (within {args.timeout:g} s)",
            )
        )
        lost = figures["expected"] - figures["recorded"]
        rows.append(("EVSE statuses lost", f"{lost} of {figures['expected']}"))
    for sample in result.get("error_samples", [])[:3]:
        rows.append(("error", sample))
    harness.report(f"{name}: {count} charge points within {args.within:g} s", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--charge-points", type=int, default=10_000)
    parser.add_argument("--within", type=float, default=10.0, help="seconds")
    parser.add_argument("--connectors", type=int, default=2)
    parser.add_argument("--ocpp", choices=["1.6", "2.0.1"], default="1.6")
    parser.add_argument("--clients", type=int, default=2, help="load processes")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--expect-status", default="INOPERATIVE")
    parser.add_argument("--floor-only", action="store_true")
    args = parser.parse_args()
    with_gateway = ocpp_platform.gateway_available() and not args.floor_only
    count = args.charge_points
    print(
        f"# Reconnect storm, {count} charge points × {args.connectors} connectors "
        f"(OCPP {args.ocpp}) within {args.within:g} s, {args.clients} load process(es); "
        f"{ocpp_platform.describe_database() if with_gateway else 'floor only: no gateway'} "
        f"(load {ocpp_platform.load_average()})"
    )
    with ocpp_platform.floor() as server:
        floor_identities = [f"FLOOR-{n:05d}" for n in range(count)]
        floor = storm(server, floor_identities, args, "", in_database=False)
    report("floor (ocpp library)", floor, count, args)
    if not with_gateway:
        return
    identities = ocpp_platform.prepare(count, connectors=args.connectors, version=args.ocpp)
    from chargers.models import ChargePoint

    encoded = ChargePoint.objects.get(identity=identities[0]).password_hash
    print(
        f"  password hash {encoded.split('$')[0]} {encoded.split('$')[1]}: "
        f"{ocpp_platform.check_cost(encoded) * 1000:.2f} ms a check"
    )
    with ocpp_platform.gateway("bench-1") as server:
        gateway = storm(server, identities, args, ocpp_platform.PASSWORD, in_database=True)
    report("gateway", gateway, count, args)
    print(f"  final EVSE statuses: {statuses(identities)}")
    print(
        f"  gateway / floor: last answer {gateway['last_answer'] / floor['last_answer']:.2f}×, "
        f"CPU {gateway['cpu'] / max(floor['cpu'], 1e-9):.2f}×"
    )


if __name__ == "__main__":
    main()
