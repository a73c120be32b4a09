"""What applying a round of meter messages costs the gateway when their sessions' progress
PATCHes are due, in-process: CPU and SQL statements per transaction, the PATCHes of a chunk
together (sessions.services.sessions_progress) against each sent alone (the way before),
measured in the same run.

    python bench/ocpp_apply_cpu.py [--transactions 100] [--rounds 3]
    BENCH_DATABASE=ocpi_x_bench BENCH_REDIS_URL=redis://127.0.0.1:6379/N \\
        python bench/ocpp_apply_cpu.py …

SQLite by default (a chunk is one transaction there: both ways are the same), PostgreSQL +
Redis with BENCH_DATABASE (bench/ocpp_platform.py): the demo estate and its tariffs, one eMSP
receiving sessions (its PATCHes queued, never sent). Each round and way gets `--transactions`
fresh OCPP 1.6 charge points, each with a transaction started through the gateway's handler
(StartTransaction, a cached token) ten minutes ago and one MeterValues stored now (as the
gateway's store round stores it), its progress PATCH due. Measured: applying them, as the
gateway's applier does (chargers.transactions.apply_stored, the whole round), with
`time.thread_time()` around it (the database's own CPU is not in it) and statements counted.
Figures: the median round.
"""

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, ocpp_platform  # noqa: E402

WAYS = ("together", "alone")
METER_START = 1_000_000
ENERGY_WH = 500  # in ten minutes: 3 kW, what every EVSE of the estate can deliver


class Pool:
    """Charge points provisioned once (ocpp_platform.prepare), handed out by groups."""

    def __init__(self, count: int) -> None:
        ocpp_platform.prepare(count, tokens=count)
        from chargers.models import ChargePoint

        self.free = list(ChargePoint.objects.order_by("pk").values_list("pk", flat=True))
        self.used = 0

    def group(self, count: int) -> list[tuple[int, str]]:
        """(charge point pk, its token) of `count` charge points not used yet."""
        taken = [(pk, self.used + n) for n, pk in enumerate(self.free[:count])]
        self.free, self.used = self.free[count:], self.used + count
        return [(pk, ocpp_platform.ID_TAG.format(index=index)) for pk, index in taken]


def start_transactions(group: list[tuple[int, str]]) -> list[tuple[int, int]]:
    """A transaction on each, ten minutes ago: (charge point pk, its transactionId)."""
    from ocpp.messages import Call

    from chargers.gateway import dispatch
    from ocpi.time import format_datetime, now

    at = now() - timedelta(minutes=10)
    started = []
    for pk, id_tag in group:
        payload = {
            "connectorId": 1,
            "idTag": id_tag,
            "meterStart": METER_START,
            "timestamp": format_datetime(at),
        }
        answer = dispatch.answer(pk, "1.6", Call(f"start-{pk}", "StartTransaction", payload), at)
        _, _, result = json.loads(answer.frame)
        assert result["idTagInfo"]["status"] == "Accepted", answer.frame
        started.append((pk, int(result["transactionId"])))
    return started


def store_meter_values(started: list[tuple[int, int]]) -> list[int]:
    """One MeterValues of each transaction (ENERGY_WH since its start, now), stored as the
    gateway's store round stores them: the transactions to apply."""
    from ocpp.messages import Call

    from chargers.gateway import meters
    from chargers.gateway.batches import Incoming
    from ocpi.time import format_datetime, now

    at = now()
    calls = []
    for pk, number in started:
        sampled = [
            {"value": str(METER_START + ENERGY_WH), "measurand": "Energy.Active.Import.Register"},
            {"value": "3000", "measurand": "Power.Active.Import", "unit": "W"},
        ]
        payload = {
            "connectorId": 1,
            "transactionId": number,
            "meterValue": [{"timestamp": format_datetime(at), "sampledValue": sampled}],
        }
        calls.append(Incoming(pk, "1.6", Call(f"meter-{pk}", "MeterValues", payload), at))
    _, waiting = meters.answer_all(calls)
    return sorted(waiting)


def apply(pks: Sequence[int], way: str) -> tuple[float, int]:
    """CPU seconds and statements of applying `pks` (one round), `way` as WAYS says."""
    from chargers import transactions
    from ocpi.time import now

    together = transactions._progress_together

    def alone(progressing: Sequence[Any]) -> None:
        for one in progressing:
            together([one])

    transactions._progress_together = together if way == "together" else alone  # type: ignore[assignment]
    try:
        with harness.counted() as statements:
            started = time.thread_time()
            failed = transactions.apply_stored(pks, now())
            cpu = time.thread_time() - started
    finally:
        transactions._progress_together = together  # type: ignore[assignment]
    assert failed == [], failed
    return cpu, statements[0]


def check(started: list[tuple[int, int]]) -> None:
    """Every session progressed to ENERGY_WH, each with its PATCH queued."""
    from chargers.models import ChargerTransaction
    from push.models import Change

    rows = ChargerTransaction.objects.filter(
        charge_point_id__in=[pk for pk, _ in started]
    ).select_related("session")
    sessions = [row.session for row in rows]
    kwh = [s.kwh if s is not None else None for s in sessions]
    assert kwh == [Decimal(ENERGY_WH) / 1000] * len(started), kwh
    keys = [s.object_key for s in sessions if s is not None]
    patched = Change.objects.filter(module="sessions", method="PATCH", object_key__in=keys)
    assert patched.values("object_key").distinct().count() == len(started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transactions", type=int, default=100, help="per round and way")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    count = args.transactions
    pool = Pool(count * len(WAYS) * (args.rounds + 1))
    if ocpp_platform.on_postgres():
        harness.flush_cache()
    figures: dict[str, list[tuple[float, float]]] = {way: [] for way in WAYS}
    for round_ in range(args.rounds + 1):  # round 0 warms up (imports, schemas, caches)
        for way in WAYS:
            started = start_transactions(pool.group(count))
            pks = store_meter_values(started)
            assert len(pks) == count
            cpu, statements = apply(pks, way)
            check(started)
            if round_:
                figures[way].append((cpu * 1000 / count, statements / count))
    medians = {way: statistics.median(cpu for cpu, _ in values) for way, values in figures.items()}
    harness.report(
        f"applying meter messages with a progress PATCH due ({count} transactions a round; "
        f"{ocpp_platform.describe_database()}; load {ocpp_platform.load_average()})",
        [
            *(
                (
                    f"{way}, per transaction",
                    f"CPU {medians[way]:.2f} ms (rounds "
                    f"{', '.join(f'{cpu:.2f}' for cpu, _ in values)}); statements "
                    f"{statistics.median(s for _, s in values):.2f}",
                )
                for way, values in figures.items()
            ),
            ("together / alone, CPU", f"{medians['together'] / medians['alone']:.2f}"),
        ],
    )


if __name__ == "__main__":
    main()
