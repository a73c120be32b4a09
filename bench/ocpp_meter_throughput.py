"""MeterValues through the whole path (the gateway, the database, the session's PATCH in the
outbox) against the floor's MeterValues, in one run.

    python bench/ocpp_meter_throughput.py [--charge-points 20] [--seconds 10] [--ocpp 1.6]
                                          [--clients 1] [--rounds 1] [--floor-only]

--charge-points simulated charge points (bench/ocpp_load.py) boot, report their connector
and start a transaction (StartTransaction, or TransactionEvent Started in 2.0.1) for a token
of their own that our cache allows (tokens.services.token_put, whitelist ALWAYS); then each
sends MeterValues (2.0.1: TransactionEvent Updated: energy register, power, SoC) as soon as
the last is answered, for --seconds after a 1 s warm-up. The same against the floor
(bench/ocpp_floor.py: the `ocpp` library with its default validation, answering at once),
then against `manage.py ocpp_gateway` (one process, OCPP_MESSAGE_LOG=0) on a fresh database
with the demo estate (seed_demo) and one eMSP with a sessions Receiver, so that every
session change writes its PATCH to the outbox (no worker sends it). Target: gateway ≥ 0.5×
the floor (messages/s). Also printed: the server's CPU per message, and what the gateway
stored (transactions, those with a session, transaction events: one per MeterValues
answered; session PATCHes: one per session each time the gateway applied what was stored,
about once a second, not one per message: chargers.gateway.meters).

SQLite by default; PostgreSQL + Redis with BENCH_DATABASE (a database name, made afresh on
the server of BENCH_PG_ADMIN_URL) and BENCH_REDIS_URL set.
Until `chargers/management/commands/ocpp_gateway.py` exists only the floor runs.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, ocpp_platform  # noqa: E402


def spec(
    url: str, identities: list[str], version: str, password: str, first: int
) -> dict[str, Any]:
    return {
        "url": url,
        "identities": identities,
        "first_index": first,
        "version": version,
        "password": password,
        "action": "Meter",
        "charging_every": 1,
        "id_tag": ocpp_platform.ID_TAG,
    }


def stored() -> dict[str, int]:
    """What the gateway wrote: transaction events, session PATCHes in the outbox, sessions."""
    from chargers.models import ChargerTransaction, TransactionEvent
    from push.models import Change

    return {
        "transactions": ChargerTransaction.objects.count(),
        "with a session": ChargerTransaction.objects.filter(session__isnull=False).count(),
        "transaction events": TransactionEvent.objects.count(),
        "session PATCHes": Change.objects.filter(module="sessions", method="PATCH").count(),
    }


def row(name: str, figures: dict[str, float], floor: dict[str, float] | None) -> str:
    ratio = f"{figures['rate'] / floor['rate']:6.2f}" if floor else f"{'':6}"
    cpu_ratio = f"{figures['cpu_us'] / floor['cpu_us']:6.2f}" if floor else f"{'':6}"
    return (
        f"  {name:34} {figures['rate']:8.0f} {ratio} {figures['cpu_us']:10.0f} {cpu_ratio}"
        f" {figures['cpu_percent']:6.0f} {figures['p50']:7.1f} {figures['p99']:7.1f}"
        f" {figures['errors']:6.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--charge-points", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ocpp", choices=["1.6", "2.0.1"], default="1.6")
    parser.add_argument("--clients", type=int, default=1, help="load processes")
    parser.add_argument("--rounds", type=int, default=1, help="floor, gateway, floor, ...")
    parser.add_argument("--floor-only", action="store_true")
    args = parser.parse_args()
    with_gateway = ocpp_platform.gateway_available() and not args.floor_only
    count = args.charge_points
    print(
        f"# MeterValues, {count} charge points (OCPP {args.ocpp}) each one CALL outstanding, "
        f"{args.seconds:g} s a figure, {args.clients} load process(es); "
        f"{ocpp_platform.describe_database() if with_gateway else 'floor only: no gateway'} "
        f"(load {ocpp_platform.load_average()})"
    )
    identities: list[str] = []
    if with_gateway:
        # Charge points and tokens of their own each round: a round's transactions stay open.
        identities = ocpp_platform.prepare(
            count * args.rounds, version=args.ocpp, tokens=count * args.rounds
        )
    floors: list[dict[str, float]] = []
    gateways: list[dict[str, float]] = []
    for n in range(args.rounds):
        with ocpp_platform.floor() as server:
            floor_identities = [f"FLOOR-{k:04d}" for k in range(count)]
            load = spec(server.url, floor_identities, args.ocpp, "", 0)
            floors.append(ocpp_platform.closed_loop(server, load, args.seconds, args.clients))
        if with_gateway:
            with ocpp_platform.gateway("bench-1") as server:
                mine = identities[n * count : (n + 1) * count]
                load = spec(server.url, mine, args.ocpp, ocpp_platform.PASSWORD, n * count)
                gateways.append(ocpp_platform.closed_loop(server, load, args.seconds, args.clients))
    print(f"\n## MeterValues throughput (load {ocpp_platform.load_average()})")
    print(
        f"  {'server':34} {'msg/s':>8} {'× fl':>6} {'CPU µs/msg':>10} {'× fl':>6}"
        f" {'CPU %':>6} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
    )
    for n, floor in enumerate(floors):
        print(row(f"floor (ocpp library), round {n + 1}", floor, None))
        if gateways:
            print(row(f"gateway, round {n + 1}", gateways[n], floor))
    if gateways:
        ratios = [g["rate"] / f["rate"] for g, f in zip(gateways, floors, strict=True)]
        print(f"  gateway / floor: {', '.join(f'{r:.2f}' for r in ratios)}  ", end="")
        print(harness.verdict(min(ratios), 0.5, at_least=True))
        print(f"  stored: {stored()}")
    print("  (× fl: ratio to the floor of the same round; CPU: the server process's)")


if __name__ == "__main__":
    main()
