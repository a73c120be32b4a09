"""CPU of a StatusNotification that changes an EVSE, in-process: one at a time as the gateway's
worker thread answers a CALL (chargers.gateway.dispatch.answer: the charge point's read, the
schema check, the handler), and in batches as the gateway records those that arrive together
(chargers.gateway.statuses.answer_all, where the tree has it).

    BENCH_DATABASE=ocpi_x_bench BENCH_REDIS_URL=redis://127.0.0.1:6379/N \\
        python bench/ocpp_status_cpu.py [--statuses 300] [--batches 1 10 50] [--rounds 3]

A fresh database: `--statuses` charge points (OCPP 1.6), each with one EVSE of its own, five
EVSEs a location (bench.harness.seed_locations), two eMSP partners receiving the locations
pushes (a PATCH queued for each, none sent). Each round sends every charge point one changed
status (Available ↔ Unavailable, a second later than its last) per mode, modes alternating
round by round; CPU is `time.thread_time()` of this thread around the calls (the database's
own CPU is not in it), statements counted by an execute wrapper. Figures: the median round.
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

EVSES_PER_LOCATION = 5


def prepare(count: int) -> list[int]:
    """The estate, the partners, `count` charge points each reported Available once."""
    from chargers.models import ChargePoint, ChargePointEvse, RegistrationStatus
    from locations.models import EVSE

    harness.seed_locations(0, -(-count // EVSES_PER_LOCATION), evses=EVSES_PER_LOCATION)
    for n in (1, 2):
        harness.make_partner(
            f"Emsp{n}", f"tok-{n}", receiver_url=f"http://127.0.0.1:9/{n}", party=f"MS{n}"
        )
    evses = list(EVSE.objects.order_by("pk").values_list("pk", flat=True)[:count])
    charge_points = ChargePoint.objects.bulk_create(
        ChargePoint(
            identity=f"CPU-{n:05d}",
            ocpp_version="1.6",
            connected_version="1.6",
            boot_status=RegistrationStatus.ACCEPTED,
        )
        for n in range(count)
    )
    ChargePointEvse.objects.bulk_create(
        ChargePointEvse(charge_point=cp, ocpp_evse_id=1, evse_id=evse)
        for cp, evse in zip(charge_points, evses, strict=True)
    )
    return [cp.pk for cp in charge_points]


class Statuses:
    """The CALLs of each round: every charge point's next status, a second after its last."""

    def __init__(self, pks: list[int]) -> None:
        from ocpi.time import now

        self.pks = pks
        self.moment = now() - timedelta(days=1)
        self.sent = 0

    def round(self) -> list[tuple[int, Any]]:
        from ocpp.messages import Call

        from ocpi.time import format_datetime

        self.sent += 1
        self.moment += timedelta(seconds=1)
        status = ("Available", "Unavailable")[self.sent % 2]
        payload = {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": status,
            "timestamp": format_datetime(self.moment),
        }
        return [
            (pk, Call(unique_id=f"{self.sent}-{pk}", action="StatusNotification", payload=payload))
            for pk in self.pks
        ]


def one_by_one(calls: list[tuple[int, Any]]) -> list[Any]:
    from chargers.gateway import dispatch
    from ocpi.time import now

    return [dispatch.answer(pk, "1.6", call, now()) for pk, call in calls]


def in_batches(size: int) -> Callable[[list[tuple[int, Any]]], list[Any]]:
    def run(calls: list[tuple[int, Any]]) -> list[Any]:
        from chargers.gateway import statuses
        from ocpi.time import now

        try:
            from chargers.gateway.batches import Incoming
        except ImportError:  # a tree from before chargers.gateway.batches
            from chargers.gateway.statuses import Incoming  # type: ignore[attr-defined,no-redef]

        answers: list[Any] = []
        for first in range(0, len(calls), size):
            chunk = calls[first : first + size]
            incoming = [Incoming(pk, "1.6", call, now()) for pk, call in chunk]
            answers += statuses.answer_all(incoming)
        return answers

    return run


def batches_available() -> bool:
    return (harness.ROOT / "chargers" / "gateway" / "statuses.py").exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--statuses", type=int, default=300, help="charge points, per round")
    parser.add_argument("--batches", type=int, nargs="*", default=[1, 10, 50])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    harness.recreate_database()
    harness.setup_django()
    harness.flush_cache()
    from chargers.models import ChargePoint, ChargePointEvse
    from locations.models import EVSE
    from push.models import Change

    pks = prepare(args.statuses)
    statuses = Statuses(pks)
    modes: dict[str, Callable[[list[tuple[int, Any]]], list[Any]]] = {"one by one": one_by_one}
    if batches_available():
        modes.update({f"batches of {size}": in_batches(size) for size in args.batches})
    one_by_one(statuses.round())  # warm-up: each connector's row and first EVSE change
    figures: dict[str, list[tuple[float, float, float]]] = {mode: [] for mode in modes}
    for _ in range(args.rounds):
        for mode, run in modes.items():
            calls = statuses.round()
            changes = Change.objects.count()
            with harness.counted() as statements:
                started, cpu = time.perf_counter(), time.thread_time()
                answers = run(calls)
                cpu, wall = time.thread_time() - cpu, time.perf_counter() - started
            assert all(answer.message_type == 3 for answer in answers), answers[:3]
            assert Change.objects.count() - changes == len(calls), mode  # one PATCH each
            n = len(calls)
            figures[mode].append((cpu * 1000 / n, wall * 1000 / n, statements[0] / n))
    expected = ("AVAILABLE", "INOPERATIVE")[statuses.sent % 2]
    mapped = ChargePointEvse.objects.filter(charge_point__in=pks).values("evse")
    assert set(EVSE.objects.filter(pk__in=mapped).values_list("status", flat=True)) == {expected}
    rows = [
        (
            mode,
            f"CPU {statistics.median(f[0] for f in values):.2f} ms "
            f"(rounds {', '.join(f'{f[0]:.2f}' for f in values)}); wall "
            f"{statistics.median(f[1] for f in values):.2f} ms; statements "
            f"{statistics.median(f[2] for f in values):.2f}",
        )
        for mode, values in figures.items()
    ]
    title = (
        f"a changed StatusNotification, per status ({args.statuses} a round, "
        f"{ChargePoint.objects.count()} charge points, {harness.DATABASE_NAME}; "
        f"load {harness.load_average()})"
    )
    harness.report(title, rows)


if __name__ == "__main__":
    main()
