"""GET of one location: requests per second against a bare Django JSON view.

    python bench/get_location.py [--quick]

Seeds locations of 5 EVSEs (two connectors each) in a fresh PostgreSQL database
`ocpi_bench`, serves the platform with uvicorn (one worker process), and GETs one location
over keep-alive connections for a fixed time. The baseline is bench/bare_django.py: Django
with one view answering the same body with JsonResponse, served the same way, measured in
the same run. The two alternate (ours, bare, ours, bare) and each figure is the median.
Target (issue 3): ours ≥ 0.5× the bare view. The platform runs as configured (psycopg's
connection pool on PostgreSQL; DATABASE_POOL=0 in the environment measures without it).
"""

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

URL = "/ocpi/cpo/2.2.1/locations/BENCH-{n}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s runs instead of 10 s")
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    load_before = harness.load_average()
    seconds = 3.0 if args.quick else 10.0
    rounds = 2 if args.quick else 3

    harness.recreate_database()
    harness.setup_django()
    harness.make_partner("Bench eMSP", harness.PARTNER_TOKEN)
    harness.seed_locations(0, 1000)
    path = URL.format(n=500)
    headers = {"Authorization": harness.authorization()}

    ours: list[dict[str, float]] = []
    bare: list[dict[str, float]] = []
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as body_file:
        pass
    for _ in range(rounds):
        with harness.uvicorn("config.asgi:application") as server:
            response = requests.get(server.url + path, headers=headers, timeout=10)
            assert response.json()["data"]["id"] == "BENCH-500", response.text
            Path(body_file.name).write_text(response.text)
            harness.hammer(server.url + path, headers=headers, seconds=1)  # warm-up
            ours.append(
                harness.hammer(
                    server.url + path,
                    headers=headers,
                    seconds=seconds,
                    connections=args.connections,
                )
            )
        with harness.uvicorn(
            "bench.bare_django:application", BENCH_BARE_BODY=body_file.name
        ) as server:
            response = requests.get(server.url + path, timeout=10)
            assert json.loads(response.content) == json.loads(Path(body_file.name).read_text())
            harness.hammer(server.url + path, headers=headers, seconds=1)
            bare.append(
                harness.hammer(
                    server.url + path,
                    headers=headers,
                    seconds=seconds,
                    connections=args.connections,
                )
            )
    Path(body_file.name).unlink()

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    ratio = median(ours, "rps") / median(bare, "rps")

    def summary(runs: list[dict[str, float]]) -> str:
        return (
            f"{median(runs, 'rps'):.0f} req/s (p50 {median(runs, 'p50_ms'):.1f} ms, "
            f"p99 {median(runs, 'p99_ms'):.1f} ms), runs {[round(r['rps']) for r in runs]}"
        )

    harness.report(
        f"GET one location (5 EVSEs), {args.connections} connections, {rounds}×{seconds:g} s each",
        [
            ("load average before / after", f"{load_before} / {harness.load_average()}"),
            ("ours", summary(ours)),
            ("bare Django view", summary(bare)),
            ("errors", f"{sum(r['errors'] for r in ours + bare):.0f}"),
            ("ours / bare", f"{ratio:.2f}  {harness.verdict(ratio, 0.5, at_least=True)}"),
        ],
    )


if __name__ == "__main__":
    main()
