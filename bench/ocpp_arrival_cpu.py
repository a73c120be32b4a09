"""What a charge point costs the gateway on arrival, in-process: CPU and SQL statements per
charge point for each step from its connection to its connectors' first statuses, as in a
reconnect storm.

    python bench/ocpp_arrival_cpu.py [--charge-points 200] [--connectors 2] [--rounds 3]
    BENCH_DATABASE=ocpi_x_bench BENCH_REDIS_URL=redis://127.0.0.1:6379/N \\
        python bench/ocpp_arrival_cpu.py …

SQLite by default, PostgreSQL + Redis with BENCH_DATABASE (bench/ocpp_platform.py). Each round
and OCPP version (1.6, 2.0.1) gets two fresh groups of `--charge-points` charge points, each
mapped to `--connectors` EVSEs (AVAILABLE, as after their last report), one eMSP receiving
the locations pushes (queued, never sent). Every charge point of a group, step by step:
- connection: what the gateway's worker thread does when it holds a websocket
  (chargers.gateway.server._connected: the connection, its line of history, presence);
- BootNotification: chargers.gateway.dispatch.answer (the row's read, the schema check, the
  handler), as the gateway answers it;
- first statuses: each connector's first StatusNotification (Available). The first group's
  go together through the status batch (chargers.gateway.statuses.answer_all, STATUS_BATCH
  of them at a time: one status of each of that many charge points, as a storm brings them);
  the second group's one at a time (dispatch.answer), the baseline measured in the same run.
CPU is `time.thread_time()` of this thread around the step (the database's own CPU is not in
it), statements counted by an execute wrapper. Figures: the median round.
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, ocpp_platform  # noqa: E402

VERSIONS = ("1.6", "2.0.1")
EVSES_PER_LOCATION = 5

# What one step over a group measured: how many it did (charge points, or statuses), its CPU
# seconds, its statements.
Measure = tuple[int, float, int]
Step = Callable[[list[int]], Measure]


class Estate:
    """Locations with enough free EVSEs, handed out group by group."""

    def __init__(self, evses: int) -> None:
        from locations.models import EVSE

        harness.seed_locations(0, -(-evses // EVSES_PER_LOCATION), evses=EVSES_PER_LOCATION)
        harness.make_partner("Emsp", "tok-1", receiver_url="http://127.0.0.1:9/1", party="MS1")
        self.free = list(EVSE.objects.order_by("pk").values_list("pk", flat=True))
        EVSE.objects.update(status="AVAILABLE")

    def group(self, name: str, count: int, connectors: int, version: str) -> list[int]:
        """`count` charge points (accepted before, now disconnected), each mapped to
        `connectors` EVSEs of their own."""
        from chargers.models import ChargePoint, ChargePointEvse, RegistrationStatus

        taken, self.free = self.free[: count * connectors], self.free[count * connectors :]
        if len(taken) < count * connectors:
            raise RuntimeError("not enough EVSEs seeded")
        charge_points = ChargePoint.objects.bulk_create(
            ChargePoint(
                identity=f"{name}-{n:05d}",
                ocpp_version=version,
                registration_status=RegistrationStatus.ACCEPTED,
                boot_status=RegistrationStatus.ACCEPTED,
            )
            for n in range(count)
        )
        ChargePointEvse.objects.bulk_create(
            ChargePointEvse(charge_point=cp, ocpp_evse_id=k + 1, evse_id=evse)
            for n, cp in enumerate(charge_points)
            for k, evse in enumerate(taken[n * connectors : (n + 1) * connectors])
        )
        return [cp.pk for cp in charge_points]


def connect(version: str) -> Step:
    def step(pks: list[int]) -> Measure:
        from chargers.gateway.server import _connected
        from chargers.models import ChargePoint

        charge_points = ChargePoint.objects.in_bulk(pks)  # the gateway has it from admission
        with harness.counted() as statements:
            started = time.thread_time()
            for pk in pks:
                _connected(
                    charge_points[pk], gateway="bench:1", version=version, remote_address="::1"
                )
            return _done(started, statements, len(pks))

    return step


def boot(version: str) -> Step:
    def step(pks: list[int]) -> Measure:
        from ocpp.messages import Call

        from chargers.gateway import dispatch
        from ocpi.time import now

        if version == "1.6":
            payload: dict[str, Any] = {"chargePointVendor": "Bench", "chargePointModel": "B1"}
        else:
            payload = {
                "reason": "PowerUp",
                "chargingStation": {"vendorName": "Bench", "model": "B1"},
            }
        with harness.counted() as statements:
            started = time.thread_time()
            answers = [
                dispatch.answer(pk, version, Call(f"boot-{pk}", "BootNotification", payload), now())
                for pk in pks
            ]
            done = _done(started, statements, len(pks))
        _all_results(answers)
        return done

    return step


def status_call(version: str, pk: int, connector: int) -> Any:
    from ocpp.messages import Call

    from ocpi.time import format_datetime, now

    at = format_datetime(now())
    if version == "1.6":
        payload = {
            "connectorId": connector,
            "errorCode": "NoError",
            "status": "Available",
            "timestamp": at,
        }
    else:
        payload = {
            "timestamp": at,
            "connectorStatus": "Available",
            "evseId": connector,
            "connectorId": 1,
        }
    return Call(f"status-{pk}-{connector}", "StatusNotification", payload)


def first_statuses(version: str, connectors: int, *, batched: bool) -> Step:
    def step(pks: list[int]) -> Measure:
        from chargers.gateway import dispatch, statuses
        from chargers.gateway.batches import Incoming
        from ocpi.time import now

        # Connector by connector, every charge point's status for it: each charge point's
        # come one after the other (its CALLs wait for their answers), many charge points'
        # together.
        rounds = [
            [(pk, status_call(version, pk, connector)) for pk in pks]
            for connector in range(1, connectors + 1)
        ]
        answers: list[Any] = []
        with harness.counted() as statements:
            started = time.thread_time()
            for calls in rounds:
                if not batched:
                    answers += [dispatch.answer(pk, version, call, now()) for pk, call in calls]
                    continue
                for first in range(0, len(calls), statuses.STATUS_BATCH):
                    chunk = calls[first : first + statuses.STATUS_BATCH]
                    answers += statuses.answer_all(
                        [Incoming(pk, version, call, now()) for pk, call in chunk]
                    )
            done = _done(started, statements, len(pks) * connectors)
        _all_results(answers)
        return done

    return step


class Figures:
    """CPU ms and statements per unit of each step, one pair a round."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[float, float]]] = {}

    def run(self, name: str, step: Step, pks: list[int]) -> None:
        units, cpu, statements = step(pks)
        self.rows.setdefault(name, []).append((cpu * 1000 / units, statements / units))

    def report(self, title: str) -> None:
        harness.report(
            title,
            [
                (
                    name,
                    f"CPU {statistics.median(f[0] for f in values):.2f} ms "
                    f"(rounds {', '.join(f'{f[0]:.2f}' for f in values)}); statements "
                    f"{statistics.median(f[1] for f in values):.2f}",
                )
                for name, values in self.rows.items()
            ],
        )


def _done(started: float, statements: list[int], units: int) -> Measure:
    return units, time.thread_time() - started, statements[0]


def _all_results(answers: Sequence[Any]) -> None:
    """Every CALL answered with a CALLRESULT (an accepted boot, a recorded status)."""
    assert all(answer.message_type == 3 for answer in answers), answers[:3]
    assert all('"Rejected"' not in answer.frame for answer in answers), answers[:3]


def check(pks: list[int], connectors: int) -> None:
    """Every charge point connected and booted, every connector's status stored."""
    from chargers.models import ChargePoint, ConnectorStatus

    connected = ChargePoint.objects.filter(pk__in=pks, connection=1, booted_at__isnull=False)
    assert connected.count() == len(pks)
    stored = ConnectorStatus.objects.filter(charge_point__in=pks, status="Available")
    assert stored.count() == len(pks) * connectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--charge-points", type=int, default=200, help="per group")
    parser.add_argument("--connectors", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    count, connectors = args.charge_points, args.connectors
    ocpp_platform.recreate_database()
    ocpp_platform.setup_django()
    if ocpp_platform.on_postgres():
        harness.flush_cache()
    estate = Estate(count * connectors * 2 * len(VERSIONS) * (args.rounds + 1))
    measured = Figures()
    for round_ in range(args.rounds + 1):  # round 0 warms up (imports, schemas, caches)
        figures = measured if round_ else Figures()
        for version in VERSIONS:
            for mode, batched in (("batched", True), ("one by one", False)):
                pks = estate.group(f"R{round_}-{version}-{mode[0]}", count, connectors, version)
                figures.run(f"{version} connection, per charge point", connect(version), pks)
                figures.run(f"{version} BootNotification, per charge point", boot(version), pks)
                figures.run(
                    f"{version} first status {mode}, per status",
                    first_statuses(version, connectors, batched=batched),
                    pks,
                )
                check(pks, connectors)
    title = (
        f"a charge point's arrival ({count} charge points a group, {connectors} connectors "
        f"each, status batches of ≤ 100; {ocpp_platform.describe_database()}; "
        f"load {ocpp_platform.load_average()})"
    )
    measured.report(title)


if __name__ == "__main__":
    main()
