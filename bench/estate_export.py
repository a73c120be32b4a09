"""The estate's CSV export with a large estate: time and peak memory per file.

    python bench/estate_export.py [--locations 2000] [--evses 5] [--rounds 3]

Seeds a fresh PostgreSQL database `ocpi_bench` (BENCH_DATABASE to name another) with
locations of `--evses` EVSEs of two connectors each, then streams the three export files
(locations, EVSEs, connectors: rendered by the OCPI serializers, as the admin's export links
do) to the end, and, in the same run, a baseline per file: the same table's rows as a plain
`.values_list()` dump through the same CSV writer. Time is the median of `--rounds`; peak
memory is what tracemalloc saw allocated at most during one more pass of each. A streamed
export's peak stays the same whatever the size; a file built in memory grows with it.
"""

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402


def drain(chunks: Iterable[bytes]) -> int:
    """Consume a streamed file to the end, as a client download would; its size in bytes."""
    return sum(len(chunk) for chunk in chunks)


def exports() -> dict[str, tuple[Callable[[], Iterable[bytes]], Callable[[], Iterable[bytes]]]]:
    """Per file: (our export, the baseline dump), each a fresh stream of lines."""
    from locations.estate_csv import (
        CONNECTOR_COLUMNS,
        EVSE_COLUMNS,
        LOCATION_COLUMNS,
        connector_rows,
        evse_rows,
        location_rows,
    )
    from locations.models import EVSE, Connector, Location
    from ocpi.csv_cells import csv_lines
    from ocpi.estate_csv import csv_response

    def ours(columns: Any, rows: Callable[[Any], Any], queryset: Callable[[], Any]) -> Any:
        return lambda: csv_response("x.csv", columns, rows(queryset())).streaming_content

    def baseline(model: Any) -> Any:
        names = [f.attname for f in model._meta.concrete_fields]
        rows = lambda: (  # noqa: E731
            [str(value) for value in row]
            for row in model.objects.order_by("pk").values_list(*names).iterator(2000)
        )
        # Encoded as the response encodes each line of ours.
        return lambda: (line.encode() for line in csv_lines(names, rows()))

    return {
        "locations": (
            ours(LOCATION_COLUMNS, location_rows, Location.objects.all),
            baseline(Location),
        ),
        "EVSEs": (ours(EVSE_COLUMNS, evse_rows, EVSE.objects.all), baseline(EVSE)),
        "connectors": (
            ours(CONNECTOR_COLUMNS, connector_rows, EVSE.objects.all),
            baseline(Connector),
        ),
    }


def timed(stream: Callable[[], Iterable[bytes]], rounds: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        size = drain(stream())
        times.append(time.perf_counter() - started)
    return statistics.median(times), size


def peak(stream: Callable[[], Iterable[bytes]]) -> int:
    tracemalloc.start()
    try:
        drain(stream())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--locations", type=int, default=2000)
    parser.add_argument("--evses", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    harness.recreate_database()
    harness.setup_django()
    from tests.partners import only_local_party

    only_local_party("NL", "TNM")
    harness.seed_locations(0, args.locations, evses=args.evses, batch=1000)
    print(f"{args.locations} locations × {args.evses} EVSEs × 2 connectors; PostgreSQL")
    print("| file | rows | export | MB | peak | baseline | peak | time × | peak × |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (ours, baseline) in exports().items():
        ours_time, size = timed(ours, args.rounds)
        base_time, _ = timed(baseline, args.rounds)
        ours_peak, base_peak = peak(ours), peak(baseline)
        rows = sum(len(chunk.splitlines()) for chunk in baseline()) - 1  # one line per row
        print(
            f"| {name} | {rows:,} | {ours_time * 1000:,.0f} ms | {size / 1e6:.1f} | "
            f"{ours_peak / 1e6:.1f} MB | {base_time * 1000:,.0f} ms | {base_peak / 1e6:.1f} MB | "
            f"{ours_time / base_time:.1f} | {ours_peak / base_peak:.1f} |"
        )


if __name__ == "__main__":
    main()
