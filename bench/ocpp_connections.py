"""One gateway process holding many charge points at realistic rates: memory per connection
and CPU, against the floor holding the same load.

    python bench/ocpp_connections.py [--charge-points 10000] [--seconds 60] [--speed 1]
                                     [--heartbeat 300] [--status 900] [--meter 60]
                                     [--charging-every 3] [--ocpp 1.6] [--clients 2]
                                     [--ping-interval 30] [--floor-only]

Simulated charge points (bench/ocpp_load.py, --clients processes) connect (Basic auth),
boot, report their connector, and every --charging-every-th starts a transaction (a token of
its own in our cache). Then, for --seconds, each sends a Heartbeat every --heartbeat s, a
StatusNotification every --status s (Available ↔ Unavailable; Charging for those charging)
and, charging, MeterValues every --meter s, each from a random phase; the server pings
each connection every --ping-interval s (the gateway's OCPP_PING_INTERVAL_SECONDS).
--speed N divides every interval by N (time compressed N×: N times the messages per second
of the stated rates; the header says so).

Measured on the server process (/proc): RSS after 20 warm-up connections, after all are set
up, and at the end: KiB per connection = (RSS − RSS before) / N (target ≤ 24 KiB at the
end); its CPU over the window in % of one core (target ≤ 25 %); response times by message.
First the floor (bench/ocpp_floor.py: the `ocpp` library answering at once), then
`manage.py ocpp_gateway` (OCPP_MESSAGE_LOG=0) on a fresh database with the demo estate.

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

WARM_UP = 20


def spec(
    url: str, identities: list[str], args: argparse.Namespace, password: str, first: int
) -> dict[str, Any]:
    return {
        "url": url,
        "identities": identities,
        "first_index": first,
        "version": args.ocpp,
        "password": password,
        "work": "rates",
        "speed": args.speed,
        "heartbeat_seconds": args.heartbeat,
        "status_seconds": args.status,
        "meter_seconds": args.meter,
        "charging_every": args.charging_every,
        "id_tag": ocpp_platform.ID_TAG,
    }


def hold(
    server: ocpp_platform.Process,
    identities: list[str],
    args: argparse.Namespace,
    password: str,
) -> dict[str, Any]:
    """The first WARM_UP identities connect and leave, then the others hold for --seconds."""
    warm, held = identities[:WARM_UP], identities[WARM_UP:]
    warm_up = {**spec(server.url, warm, args, password, 0), "work": "idle", "charging_every": 0}
    with Load(warm_up) as load:
        load.ready()
    time.sleep(1)
    before = server.rss_kib()
    with Load(spec(server.url, held, args, password, 0), args.clients) as load:
        ready = load.ready()
        set_up = server.rss_kib()
        load.go()
        cpu = ocpp_platform.cpu_percent(server, args.seconds)
        result = load.stop()
        end = server.rss_kib()
    return {
        "ready": ready,
        "result": result,
        "before_mib": before / 1024,
        "set_up_kib": (set_up - before) / len(held),
        "end_kib": (end - before) / len(held),
        "end_mib": end / 1024,
        "cpu_percent": cpu,
    }


def report(name: str, figures: dict[str, Any], floor: dict[str, Any] | None) -> None:
    result, ready = figures["result"], figures["ready"]

    def times(floor_value: float, value: float) -> str:
        return f" ({value / floor_value:.2f}× the floor)" if floor else ""

    rows = [
        ("connected and set up", f"{ready['ready']} ({ocpp_platform.lost(ready)})"),
        ("RSS before", f"{figures['before_mib']:.1f} MB; at the end {figures['end_mib']:.1f} MB"),
        (
            "KiB per connection, set up",
            f"{figures['set_up_kib']:.1f}"
            + times(floor["set_up_kib"] if floor else 1, figures["set_up_kib"]),
        ),
        (
            "KiB per connection, end",
            f"{figures['end_kib']:.1f} {harness.verdict(figures['end_kib'], 24, at_least=False)}"
            + times(floor["end_kib"] if floor else 1, figures["end_kib"]),
        ),
        (
            "CPU, % of one core",
            f"{figures['cpu_percent']:.1f} "
            f"{harness.verdict(figures['cpu_percent'], 25, at_least=False)}"
            + times(floor["cpu_percent"] if floor else 1, figures["cpu_percent"]),
        ),
    ]
    seconds = result.get("seconds", 0) or 1
    for action, values in sorted(result["latencies"].items()):
        rows.append((f"{action} ({len(values) / seconds:.1f}/s)", ocpp_platform.summary(values)))
    rows.append(("lost", ocpp_platform.lost(result)))
    rows.append(("CALLs from the server answered", str(dict(result.get("calls_answered", {})))))
    for sample in [*ready.get("error_samples", []), *result.get("error_samples", [])][:3]:
        rows.append(("error", sample))
    harness.report(f"{name} (load {ocpp_platform.load_average()})", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--charge-points", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--speed", type=float, default=1.0, help="time compression")
    parser.add_argument("--heartbeat", type=float, default=300.0, help="seconds")
    parser.add_argument("--status", type=float, default=900.0, help="seconds")
    parser.add_argument("--meter", type=float, default=60.0, help="seconds")
    parser.add_argument("--charging-every", type=int, default=3)
    parser.add_argument("--ocpp", choices=["1.6", "2.0.1"], default="1.6")
    parser.add_argument("--clients", type=int, default=2, help="load processes")
    parser.add_argument(
        "--ping-interval", type=float, default=30.0, help="s (OCPP_PING_INTERVAL_SECONDS)"
    )
    parser.add_argument("--floor-only", action="store_true")
    args = parser.parse_args()
    with_gateway = ocpp_platform.gateway_available() and not args.floor_only
    count = args.charge_points
    charging = -(-count // args.charging_every) if args.charging_every else 0
    per_second = args.speed * (count / args.heartbeat + count / args.status + charging / args.meter)
    print(
        f"# {count} charge points (OCPP {args.ocpp}), {charging} charging; heartbeat "
        f"{args.heartbeat:g} s, status {args.status:g} s, meter values {args.meter:g} s"
        f"{f', time compressed {args.speed:g}×' if args.speed != 1 else ''} "
        f"(~{per_second:.0f} CALLs/s); {args.seconds:g} s; {args.clients} load process(es); "
        f"{ocpp_platform.describe_database() if with_gateway else 'floor only: no gateway'} "
        f"(load {ocpp_platform.load_average()})"
    )
    total = count + WARM_UP
    with ocpp_platform.floor(ping_interval=args.ping_interval) as server:
        floor_identities = [f"FLOOR-{n:05d}" for n in range(total)]
        floor = hold(server, floor_identities, args, "")
    report("floor (ocpp library)", floor, None)
    if not with_gateway:
        return
    identities = ocpp_platform.prepare(total, version=args.ocpp, tokens=count)
    ping = str(args.ping_interval)
    with ocpp_platform.gateway("bench-1", OCPP_PING_INTERVAL_SECONDS=ping) as server:
        gateway = hold(server, identities, args, ocpp_platform.PASSWORD)
    report("gateway", gateway, floor)


if __name__ == "__main__":
    main()
