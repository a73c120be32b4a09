"""Load management: time per re-plan of a site of 200 EVSEs, against a trivial baseline.

    python bench/load_planning.py [--evses 200] [--seconds 3] [--database]

The site: 200 sessions behind one grid connection of 400 kW and 600 A per phase (the phases
bind), a mix of AC 3-phase 22 kW (half), AC 1-phase 7.4 kW (a quarter) and DC 50-150 kW (a
quarter); a fifth capped by an eMSP profile, a tenth with a minimum (charging preferences or
min_charging_rate), priorities mixed. Timed, each in the same run:

- plan: chargingprofiles.planning.plan (water-filling under the total and per-phase limits,
  minimums, drop order), what every re-plan of the site computes;
- equal split: chargingprofiles.planning.equal_split, the limit divided evenly (no ranges, no
  phases), the baseline the ratio is taken against;
- starved: the same site whose minimums exceed the limit (sessions left out, then taken back).

The planner needs no Django: the benchmark runs without settings. The process is pinned to one
CPU where the OS allows it.

`--database` times chargingprofiles.loadmanagement.replan on PostgreSQL (bench.harness: the
database BENCH_DATABASE, default `ocpi_bench`, recreated; Redis database 11): one location of
`--evses` EVSEs on one connected OCPP 1.6 charge point, an ACTIVE session on an open transaction
at each, a grid limit of 400 kW. Timed, each in the same run:

- unchanged: replan of the site when nothing changed (reads, plans, compares, sends nothing);
- changed: the limit alternates between 400 and 300 kW, so every session is sent a new
  TxProfile (a SetChargingProfile call stored per session);
- read: only reading the sessions behind the limit (sessions_behind), the baseline.
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chargingprofiles.planning import Demand, Limit, equal_split, plan  # noqa: E402

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def site(evses: int, rng: random.Random) -> list[Demand]:
    demands = []
    for n in range(evses):
        kind = n % 4
        if kind in (0, 1):
            upper, volts, phases = Decimal(22_080), Decimal(230), 3
        elif kind == 2:
            upper, volts, phases = Decimal(7_360), Decimal(230), 1
        else:
            upper, volts, phases = Decimal(rng.choice([50_000, 100_000, 150_000])), Decimal(230), 3
        if n % 5 == 0:
            upper = min(upper, Decimal(rng.randrange(2_000, 11_000)))
        lower = Decimal(rng.randrange(1_000, 4_000)) if n % 10 == 0 else Decimal(0)
        demands.append(
            Demand(
                key=f"S{n:04d}",
                upper_w=upper,
                lower_w=lower,
                volts=volts,
                phases=phases,
                priority=rng.choice([0, 1, 1, 2]),
                started_at=START + timedelta(seconds=rng.randrange(0, 7200)),
            )
        )
    return demands


def timed(work: Callable[[], Any], seconds: float) -> tuple[int, list[float]]:
    """Runs of `work` for about `seconds`: (count, each run's seconds)."""
    durations = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        begun = time.perf_counter()
        work()
        durations.append(time.perf_counter() - begun)
    return len(durations), durations


def describe(name: str, durations: list[float]) -> float:
    median = statistics.median(durations)
    p99 = sorted(durations)[int(len(durations) * 0.99) - 1] if len(durations) > 1 else median
    print(
        f"{name:<12} {len(durations):>7} runs  "
        f"median {median * 1e3:8.3f} ms  p99 {p99 * 1e3:8.3f} ms"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evses", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rng = random.Random(13)  # noqa: S311 (a benchmark's data)
    demands = site(args.evses, rng)
    limit = Limit(total_w=Decimal(400_000), phase_a=Decimal(600))
    tight = Limit(total_w=Decimal(30_000), phase_a=Decimal(100))

    result = plan(demands, limit)
    assert result.total_w() <= limit.total_w
    assert plan(demands, limit) == result  # stable: a re-plan without changes changes nothing
    starved = plan(demands, tight)

    print(
        f"load planning: {args.evses} sessions, Python {platform.python_version()}, "
        f"{platform.machine()}; shared {result.total_w() / 1000:.1f} kW of 400 kW, "
        f"{len(starved.starved)} left out under 30 kW"
    )
    plan_median = describe("plan", timed(lambda: plan(demands, limit), args.seconds)[1])
    split_median = describe(
        "equal split", timed(lambda: equal_split(demands, limit), args.seconds)[1]
    )
    describe("starved", timed(lambda: plan(demands, tight), args.seconds)[1])
    print(f"plan / equal split: {plan_median / split_median:.1f}x")


def database(evses: int, seconds: float) -> None:
    from bench import harness

    harness.recreate_database()
    harness.setup_django()
    from chargers.models import ChargePoint, ChargePointEvse, ChargerTransaction
    from chargingprofiles.loadmanagement import replan, sessions_behind
    from chargingprofiles.models import GridLimit
    from locations.models import EVSE, Connector
    from ocpi.time import now
    from sessions.services import session_start
    from tests.partners import only_local_party

    only_local_party("NL", "TNM")
    location = harness.upsert_location(harness.location_payload("LM1", evses=evses))
    point = ChargePoint.objects.create(
        identity="BENCH-LM", ocpp_version="1.6", connected_version="1.6", gateway="bench"
    )
    moment = now()
    for n, evse in enumerate(EVSE.objects.filter(location=location).order_by("pk"), start=1):
        ChargePointEvse.objects.create(charge_point=point, ocpp_evse_id=n, evse=evse)
        connector = Connector.objects.filter(evse=evse).order_by("pk").first()
        assert connector is not None
        session = session_start(
            connector=connector,
            token={
                "country_code": "DE",
                "party_id": "MSP",
                "uid": f"CARD-{n}",
                "type": "RFID",
                "contract_id": f"DE-MSP-C{n}",
            },
            auth_method="WHITELIST",
            at=moment - timedelta(minutes=n % 60),
            status="ACTIVE",
        )
        ChargerTransaction.objects.create(
            charge_point=point,
            transaction_id=str(n),
            ocpp_evse_id=n,
            connector_id=1,
            session=session,
            started_at=session.start_date_time,
        )
    grid = GridLimit.objects.create(name="Site", location=location, max_kw=Decimal(400))
    replan(grid.pk)
    print(
        f"load planning on PostgreSQL: {evses} sessions, {ChargerTransaction.objects.count()} open"
    )

    flip = [Decimal(300), Decimal(400)]

    def changed() -> None:
        flip.reverse()
        GridLimit.objects.filter(pk=grid.pk).update(max_kw=flip[0])
        replan(grid.pk)

    read_median = describe("read", timed(lambda: list(sessions_behind(grid)), seconds)[1])
    GridLimit.objects.filter(pk=grid.pk).update(max_kw=Decimal(400))
    replan(grid.pk)
    unchanged_median = describe("unchanged", timed(lambda: replan(grid.pk), seconds)[1])
    changed_median = describe("changed", timed(changed, seconds)[1])
    print(
        f"unchanged / read: {unchanged_median / read_median:.1f}x; "
        f"changed / read: {changed_median / read_median:.1f}x"
    )


if __name__ == "__main__":
    if "--database" in sys.argv:
        parsed = argparse.ArgumentParser()
        parsed.add_argument("--evses", type=int, default=200)
        parsed.add_argument("--seconds", type=float, default=3.0)
        parsed.add_argument("--database", action="store_true")
        options = parsed.parse_args()
        database(options.evses, options.seconds)
    else:
        main()
