"""A reconnect storm: N charge points connect within a few seconds, each booting and reporting
every connector; how long until every status is recorded, response times, nothing lost.

    python bench/ocpp_storm.py [--charge-points 10000] [--within 10] [--connectors 2]
                               [--ocpp 1.6] [--clients 2] [--timeout 600]
                               [--expect-status INOPERATIVE] [--floor-only] [--no-floor]
                               [--profile DIR]

Each simulated charge point (bench/ocpp_load.py) waits a random moment in [0, --within) s,
connects (Basic auth), sends BootNotification and then a StatusNotification "Unavailable" for
each of its --connectors connectors (one CALL outstanding at a time, as OCPP-J requires),
and stays connected. Against the floor (bench/ocpp_floor.py), then `manage.py ocpp_gateway`
(one process, OCPP_MESSAGE_LOG=0) on a fresh database whose benchmark EVSEs are AVAILABLE
(bench/ocpp_platform.py): time from the storm's start to the last answer, and until every
EVSE is recorded --expect-status (polled every 50 ms; OCPP "Unavailable" is OCPI
INOPERATIVE); p50/p99 of each message's response and of the handshake (connect: from the
charge point's moment to its websocket open); lost = EVSEs never recorded, plus CALLs never
answered, plus handshakes that failed. A charge point the gateway refuses with HTTP 503 and a
Retry-After (its admission control, chargers.gateway.arrivals) comes back then, as a charge
point would: not lost; the refusals and the wait from first try to connected are printed (the
handshake's time is that of the one that succeeded). The load processes' CPU is printed beside
the server's (they share its cores: a client near a whole core would be what is measured).
With --profile DIR, py-spy (bench/pyspy.py) samples the gateway from the storm's start until
every status is recorded: DIR/gateway.txt and its summary.

Passwords are hashed as the platform hashes them (bench/ocpp_platform.py): the cost of one
check is printed, which a gateway checking a password at each connection pays N times.

SQLite by default; PostgreSQL + Redis with BENCH_DATABASE (and BENCH_REDIS_URL) set.
Until `chargers/management/commands/ocpp_gateway.py` exists only the floor runs.
"""

import argparse
import contextlib
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, ocpp_platform, pyspy  # noqa: E402
from bench.ocpp_load import CONNECT, Load  # noqa: E402

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
    profile: Path | None = None,
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
        clients = [process.pid for process in load.processes]
        cpu = server.cpu_seconds()
        clients_cpu = [ocpp_platform.cpu_seconds_of(pid) for pid in clients]
        overflows = ocpp_platform.listen_overflows()
        started = load.go()
        # py-spy for at most --timeout, stopped (SIGINT: it writes what it has) once recorded
        spy = None if profile is None else pyspy.record(server.process.pid, args.timeout, profile)
        all_recorded = None
        if in_database:
            deadline = time.time() + args.timeout
            while time.time() < deadline:
                if recorded(identities, args.expect_status) >= expected:
                    all_recorded = time.time() - started
                    break
                time.sleep(0.05)
        done = load.wait()
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            with contextlib.suppress(Exception):
                spy.wait(60)
        clients_cpu = [
            ocpp_platform.cpu_seconds_of(pid) - before
            for pid, before in zip(clients, clients_cpu, strict=True)
        ]
        overflows = ocpp_platform.listen_overflows() - overflows
        result = load.stop()
        cpu = server.cpu_seconds() - cpu
    answered = {
        action: len(values) for action, values in result["latencies"].items() if action != CONNECT
    }
    return {
        "result": result,
        "answered": answered,
        "last_answer": result["last_answer_at"] - started,
        "done": done - started,
        "all_recorded": all_recorded,
        "recorded": recorded(identities, args.expect_status) if in_database else None,
        "expected": expected,
        "cpu": cpu,
        "clients_cpu": clients_cpu,
        "overflows": overflows,
        "rss_mib": server.rss_kib() / 1024,
        "profile": profile,
    }


def report(name: str, figures: dict[str, Any], count: int, args: argparse.Namespace) -> None:
    result = figures["result"]
    unanswered = count * (1 + args.connectors) - sum(figures["answered"].values())
    done = figures["done"]
    clients = ", ".join(
        f"{seconds:.1f} s ({100 * seconds / done:.0f} %)" for seconds in figures["clients_cpu"]
    )
    rows = [
        ("last answer after the start", f"{figures['last_answer']:.2f} s"),
        ("CPU of the server", f"{figures['cpu']:.1f} s; RSS after {figures['rss_mib']:.0f} MB"),
        (f"CPU of each load process (% of a core over {done:.1f} s)", clients),
        ("connected", f"{result.get('connected', 0)} of {count}"),
        (
            "refused with HTTP 503, came back at their Retry-After",
            f"{result.get('refused', 0)} refusals; first try → connected for those: "
            + ocpp_platform.summary(result.get("waited", [])),
        ),
        ("SYNs dropped for a full accept queue", f"{figures['overflows']} (the machine's)"),
    ]
    for action in (CONNECT, "BootNotification", "StatusNotification"):
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
    if figures["profile"] is not None and figures["profile"].exists():
        lines = pyspy.summary(figures["profile"])
        figures["profile"].with_suffix(".summary").write_text("\n".join(lines) + "\n")
        print(f"# profile of the storm ({figures['profile']}):")
        print("\n".join(f"#   {line}" for line in lines[:40]))


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
    parser.add_argument("--no-floor", action="store_true", help="the gateway alone")
    parser.add_argument("--profile", type=Path, help="directory: py-spy over the gateway's storm")
    args = parser.parse_args()
    with_gateway = ocpp_platform.gateway_available() and not args.floor_only
    count = args.charge_points
    print(
        f"# Reconnect storm, {count} charge points × {args.connectors} connectors "
        f"(OCPP {args.ocpp}) within {args.within:g} s, {args.clients} load process(es); "
        f"{ocpp_platform.describe_database() if with_gateway else 'floor only: no gateway'} "
        f"(load {ocpp_platform.load_average()})"
    )
    floor = None
    if not args.no_floor:
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
    profile = None
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        profile = args.profile / "gateway.txt"
    with ocpp_platform.gateway("bench-1") as server:
        gateway = storm(
            server, identities, args, ocpp_platform.PASSWORD, in_database=True, profile=profile
        )
    report("gateway", gateway, count, args)
    print(f"  final EVSE statuses: {statuses(identities)}")
    if floor is None:
        return
    print(
        f"  gateway / floor: last answer {gateway['last_answer'] / floor['last_answer']:.2f}×, "
        f"CPU {gateway['cpu'] / max(floor['cpu'], 1e-9):.2f}×"
    )


if __name__ == "__main__":
    main()
