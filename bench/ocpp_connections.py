"""One gateway process holding many charge points at realistic rates: memory per connection
and CPU, against the floor holding the same load.

    python bench/ocpp_connections.py [--charge-points 10000] [--seconds 60] [--speed 1]
                                     [--heartbeat 300] [--status 900] [--meter 60]
                                     [--charging-every 3] [--ocpp 1.6] [--clients 2]
                                     [--ping-interval 30] [--floor-only] [--no-floor]
                                     [--settle-below 8] [--per-action 0] [--profile DIR]

Simulated charge points (bench/ocpp_load.py, --clients processes) connect (Basic auth),
boot, report their connector, and every --charging-every-th starts a transaction (a token of
its own in our cache). Then, for --seconds, each sends a Heartbeat every --heartbeat s, a
StatusNotification every --status s (Available ↔ Unavailable; Charging for those charging)
and, charging, MeterValues every --meter s, each from a random phase; the server pings
each connection every --ping-interval s (the gateway's OCPP_PING_INTERVAL_SECONDS).
--speed N divides every interval by N (time compressed N×: N times the messages per second
of the stated rates; the header says so).

Once all are set up, the server settles: the window starts when its CPU over SETTLE_SECONDS
is at most --settle-below % of a core (the set-up's work behind it: statuses, pushes,
connection history), or after SETTLE_MAX_SECONDS; its CPU is then read over IDLE_SECONDS of
idle connections (pings, polls) before the load starts.
Measured on the server process (/proc): RSS after 20 warm-up connections, after all are set
up, and at the end: KiB per connection = (RSS − RSS before) / N (target ≤ 24 KiB at the
end); its CPU over the window in % of one core (target ≤ 25 %) and per CALL (gross, and net
of the idle CPU); response times by message. With --per-action S, each action is then sent
alone at its rate for S seconds: CPU per CALL by action, net of idle. With --profile DIR,
py-spy (bench/pyspy.py) samples the server over the window: DIR/<server>.txt.
First the floor (bench/ocpp_floor.py: the `ocpp` library answering at once), then
`manage.py ocpp_gateway` (OCPP_MESSAGE_LOG=0) on a fresh database with the demo estate.

SQLite by default; PostgreSQL + Redis with BENCH_DATABASE (and BENCH_REDIS_URL) set.
Until `chargers/management/commands/ocpp_gateway.py` exists only the floor runs.
"""

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, ocpp_platform, pyspy  # noqa: E402
from bench.ocpp_load import Load  # noqa: E402

WARM_UP = 20
SETTLE_SECONDS = 3.0
SETTLE_MAX_SECONDS = 900.0
IDLE_SECONDS = 10.0
ACTIONS = ("Heartbeat", "StatusNotification", "Meter")


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


def settle(server: ocpp_platform.Process, below: float) -> tuple[float, float]:
    """Wait until the server's CPU over SETTLE_SECONDS is at most `below` % of a core (or
    SETTLE_MAX_SECONDS passed): seconds waited, the last interval's CPU."""
    started = time.monotonic()
    while True:
        cpu = ocpp_platform.cpu_percent(server, SETTLE_SECONDS)
        waited = time.monotonic() - started
        if cpu <= below or waited >= SETTLE_MAX_SECONDS:
            return waited, cpu


def calls_of(result: dict[str, Any]) -> int:
    return sum(len(values) for values in result["latencies"].values())


def window(
    server: ocpp_platform.Process, load: Load, seconds: float, only: str = "", profile: Any = None
) -> tuple[float, dict[str, Any]]:
    """The load's work (`only`: one action) for `seconds`: the server's CPU % and the result."""
    load.go(only)
    spy = None if profile is None else pyspy.record(server.process.pid, seconds, profile)
    cpu = ocpp_platform.cpu_percent(server, seconds)
    result = load.stop()
    if spy is not None:
        with contextlib.suppress(Exception):
            spy.wait(30)
    return cpu, result


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
    profile = None
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        profile = args.profile / f"{server.name.split()[0]}.txt"
    with Load(spec(server.url, held, args, password, 0), args.clients) as load:
        ready = load.ready()
        set_up = server.rss_kib()
        settled, last = settle(server, args.settle_below)
        idle = ocpp_platform.cpu_percent(server, IDLE_SECONDS)
        cpu, result = window(server, load, args.seconds, profile=profile)
        end = server.rss_kib()
        by_action = {}
        for action in ACTIONS if args.per_action else ():
            alone, alone_result = window(server, load, args.per_action, only=action)
            by_action[action] = (alone, alone_result)
    return {
        "ready": ready,
        "result": result,
        "before_mib": before / 1024,
        "set_up_kib": (set_up - before) / len(held),
        "end_kib": (end - before) / len(held),
        "end_mib": end / 1024,
        "cpu_percent": cpu,
        "settled": (settled, last),
        "idle_percent": idle,
        "by_action": by_action,
        "profile": profile,
    }


def per_call_ms(cpu_percent: float, idle_percent: float, result: dict[str, Any]) -> str:
    """CPU per CALL (ms), gross and net of the idle CPU."""
    calls = calls_of(result)
    if not calls:
        return "no CALLs"
    seconds = result.get("seconds", 0) or 1
    gross = 10 * cpu_percent * seconds / calls
    net = 10 * (cpu_percent - idle_percent) * seconds / calls
    return f"{gross:.2f} ms gross, {net:.2f} ms net of idle ({calls} CALLs)"


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
    settled, last = figures["settled"]
    rows.append(("settled", f"after {settled:.0f} s (CPU {last:.1f} % over {SETTLE_SECONDS:g} s)"))
    rows.append(
        (f"CPU idle ({IDLE_SECONDS:g} s, pings and polls)", f"{figures['idle_percent']:.1f} %")
    )
    rows.append(
        ("CPU per CALL", per_call_ms(figures["cpu_percent"], figures["idle_percent"], result))
    )
    for action, (alone, alone_result) in figures["by_action"].items():
        rows.append(
            (
                f"{action} alone: CPU % of a core; per CALL",
                f"{alone:.1f}; {per_call_ms(alone, figures['idle_percent'], alone_result)}",
            )
        )
    seconds = result.get("seconds", 0) or 1
    for action, values in sorted(result["latencies"].items()):
        rows.append((f"{action} ({len(values) / seconds:.1f}/s)", ocpp_platform.summary(values)))
    rows.append(("lost", ocpp_platform.lost(result)))
    rows.append(("CALLs from the server answered", str(dict(result.get("calls_answered", {})))))
    for sample in [*ready.get("error_samples", []), *result.get("error_samples", [])][:3]:
        rows.append(("error", sample))
    harness.report(f"{name} (load {ocpp_platform.load_average()})", rows)
    if figures["profile"] is not None and figures["profile"].exists():
        lines = pyspy.summary(figures["profile"])
        figures["profile"].with_suffix(".summary").write_text("\n".join(lines) + "\n")
        print(f"# profile of the window ({figures['profile']}):")
        print("\n".join(f"#   {line}" for line in lines[:40]))


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
    parser.add_argument(
        "--no-floor", action="store_true", help="the gateway alone (a floor of another run)"
    )
    parser.add_argument(
        "--settle-below", type=float, default=8.0, help="%% of a core: the window starts then"
    )
    parser.add_argument(
        "--per-action", type=float, default=0.0, help="s of each action alone (0: none)"
    )
    parser.add_argument("--profile", type=Path, help="directory: py-spy over the window")
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
    floor = None
    if not (args.no_floor and with_gateway):
        with ocpp_platform.floor(ping_interval=args.ping_interval) as server:
            floor_identities = [f"FLOOR-{n:05d}" for n in range(total)]
            floor = hold(server, floor_identities, args, "")
        report("floor (ocpp library)", floor, None)
    if not with_gateway:
        return
    identities = ocpp_platform.prepare(total, version=args.ocpp, tokens=count)
    ping = str(args.ping_interval)
    # The set-up of 10,000 takes longer than the idle limit (900 s) and its charge points send
    # nothing once set up: the first would be closed as idle before the window.
    with ocpp_platform.gateway(
        "bench-1", OCPP_PING_INTERVAL_SECONDS=ping, OCPP_IDLE_TIMEOUT_SECONDS="0"
    ) as server:
        gateway = hold(server, identities, args, ocpp_platform.PASSWORD)
    report("gateway", gateway, floor)


if __name__ == "__main__":
    main()
