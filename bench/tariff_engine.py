"""Tariff engine throughput: CDRs priced per second on one core.

    python bench/tariff_engine.py [--seconds 5] [--record]

Two sessions of 100 charging periods, priced with tariffs/engine (price_session, tariff and
timeline already parsed; and once more including tariff_from_ocpi/timeline_from_ocpi on the
JSON):

- energy: the spec's one-component tariff (0.25/kWh, tariff_8_simple_025kwh.json);
- complex: the spec's complex tariff (T10, tariff_4_complex.json: FLAT, TIME by current and
  weekday, PARKING_TIME by time of day), a Monday from 04:31, 100 periods of 3 minutes with the
  current alternating below and above 32 A and the last 20 periods (from 08:31) parked: the
  weekday parking price starting at 09:00 splits a period.

The engine needs no Django: the benchmark runs without settings. The process is pinned to one
CPU where the OS allows it. `--record` appends the figures as a new section to
bench/RESULTS.md.
"""

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import simplejson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocpi.time import format_datetime  # noqa: E402
from tariffs.engine import (  # noqa: E402
    price_session,
    tariff_from_ocpi,
    timeline_from_ocpi,
)

VECTORS = ROOT / "tests" / "tariffs" / "engine" / "vectors"
PERIODS = 100
PARKED = 20
MINUTES = 3


def cdr_json(start: datetime) -> dict[str, Any]:
    """A CDR's timeline: 80 charging periods of alternating current, then 20 parked."""
    periods = []
    for index in range(PERIODS):
        moment = start + timedelta(minutes=MINUTES * index)
        hours = Decimal(MINUTES) / 60
        if index < PERIODS - PARKED:
            current = Decimal(16 if index % 2 else 40)
            dimensions = [
                {"type": "ENERGY", "volume": current * Decimal("0.23") * hours},
                {"type": "TIME", "volume": hours},
                {"type": "MAX_CURRENT", "volume": current},
                {"type": "MIN_CURRENT", "volume": current},
            ]
        else:
            dimensions = [
                {"type": "ENERGY", "volume": Decimal(0)},
                {"type": "PARKING_TIME", "volume": hours},
            ]
        periods.append({"start_date_time": format_datetime(moment), "dimensions": dimensions})
    end = start + timedelta(minutes=MINUTES * PERIODS)
    return {"end_date_time": format_datetime(end), "charging_periods": periods}


def _parse_and_price(tariff: dict[str, Any], cdr: dict[str, Any], zone: ZoneInfo) -> object:
    return price_session(tariff_from_ocpi(tariff), timeline_from_ocpi(cdr), zone)


def rate(work: Callable[[], object], seconds: float) -> float:
    """Calls per second of `work`, over at least `seconds` after a short warm-up."""
    for _ in range(20):
        work()
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(20):
            work()
        done += 20
    return done / elapsed


def pin_to_one_core() -> str:
    try:
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
    except (AttributeError, OSError):
        return "not pinned"
    return f"pinned to CPU {core}"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args()
    pinning = pin_to_one_core()
    berlin = ZoneInfo("Europe/Berlin")
    cdr = cdr_json(datetime(2024, 6, 3, 2, 31, tzinfo=UTC))  # Monday 04:31 in Berlin
    timeline = timeline_from_ocpi(cdr)
    rows = []
    for label, name in (
        ("energy, 1 component", "tariff_8_simple_025kwh.json"),
        ("complex (T10)", "tariff_4_complex.json"),
    ):
        tariff_json = simplejson.loads((VECTORS / name).read_text(), use_decimal=True)
        tariff = tariff_from_ocpi(tariff_json)
        cost = price_session(tariff, timeline, berlin)
        priced = rate(partial(price_session, tariff, timeline, berlin), args.seconds)
        parsed = rate(partial(_parse_and_price, tariff_json, cdr, berlin), args.seconds)
        rows.append((label, priced, parsed, len(cost.charging_periods), cost.total_cost))
    lines = [
        f"| {label} | {PERIODS} | {out} | {priced:,.0f} | {parsed:,.0f} | {total.excl_vat} |"
        for label, priced, parsed, out, total in rows
    ]
    table = [
        "| tariff | periods in | periods out | CDRs/s priced | CDRs/s parsed + priced "
        "| total_cost excl |",
        "|---|---|---|---|---|---|",
        *lines,
    ]
    print("\n".join(table))
    if args.record:
        command = "python bench/tariff_engine.py" + (
            f" --seconds {args.seconds:g}" if args.seconds != 5.0 else ""
        )
        section = [
            "",
            f"## Tariff engine: CDRs priced per second ({datetime.now(tz=UTC):%Y-%m-%d})",
            "",
            f"Command: `{command}` — one process, {pinning}; {cpu_name()}, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end.",
            f"Each figure is {args.seconds:g} s of back-to-back calls after a warm-up. Sessions of "
            f"{PERIODS} charging periods of {MINUTES} min ({PARKED} parked); 'periods out' are "
            "the CDR periods after splitting at price-component changes.",
            "",
            *table,
            "",
        ]
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as results:
            results.write("\n".join(section))


if __name__ == "__main__":
    main()
