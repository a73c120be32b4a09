"""The callers cache with 60 partners calling: how often a request finds its caller kept.

    python bench/caller_cache.py [--partners 60] [--rate 300] [--quick]

Seeds `--partners` registered eMSPs (the tests' factory) in a fresh PostgreSQL database
`ocpi_bench_callers`, their last contacts spread over the past minute so that, as in steady
operation, one partner's last contact falls due about every second
(credentials.authentication.LAST_CONTACT_RESOLUTION: once a minute each). Then it
authenticates their requests in turn, `--rate` a second, in this process, through the
platform's own OcpiTokenAuthentication (caller lookup and last-contact bookkeeping), and
counts per request the SELECTs run: one (the credentials generation) is a hit; more (the
caller and our parties read anew) a miss. Figures: hit ratio, how often the generation
moved, how long the cache lived on average, the CPU time per authentication.
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BENCH_DATABASE", "ocpi_bench_callers")

from bench import harness  # noqa: E402


def seed(partners: int) -> list[str]:
    """Registered partners whose last contacts fall due one every 60/`partners` s."""
    from credentials.models import PartnerPlatform
    from ocpi.time import now

    tokens = [f"bench-caller-{n}" for n in range(partners)]
    start = now() - timedelta(minutes=1)
    for n, token in enumerate(tokens):
        made = harness.make_partner(f"Caller {n}", token, party=f"C{n:02d}")
        due = start + timedelta(seconds=60 * (n + 1) / partners)
        PartnerPlatform.objects.filter(pk=made.pk).update(last_contact_at=due)
    return tokens


def measure(tokens: list[str], *, rate: float, seconds: float) -> dict[str, Any]:
    from django.db import connection
    from django.test import RequestFactory
    from rest_framework.request import Request

    from credentials.authentication import OcpiTokenAuthentication

    authentication = OcpiTokenAuthentication()
    factory = RequestFactory()
    headers = [harness.authorization(token) for token in tokens]
    selects: list[int] = []
    generations: set[Any] = set()
    cpu = 0.0
    begun = time.perf_counter()
    n = 0
    while (elapsed := time.perf_counter() - begun) < seconds:
        pause = n / rate - elapsed
        if pause > 0:
            time.sleep(pause)
        header = headers[n % len(headers)]
        request = Request(factory.get("/ocpi/versions", HTTP_AUTHORIZATION=header))
        selects.append(0)
        with connection.execute_wrapper(_counter(selects)):
            started = time.thread_time()
            found = authentication.authenticate(request)
            cpu += time.thread_time() - started
        assert found is not None
        generations.add(_generation())
        n += 1
    hits = sum(1 for s in selects if s == 1)
    moves = len(generations) - 1
    return {
        "requests": n,
        "seconds": seconds,
        "hits": hits,
        "hit_ratio": hits / n,
        "generation_moves": moves,
        "cache_life_s": seconds / max(moves, 1),
        "cpu_us": cpu / n * 1e6,
    }


def _counter(selects: list[int]) -> Any:
    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("SELECT"):
            selects[-1] += 1
        return execute(sql, params, many, context)

    return count


def _generation() -> Any:
    """The credentials generation now (outside the counted statements)."""
    from ocpi.models import ListGeneration

    return tuple(
        sorted(ListGeneration.objects.filter(name="credentials").values_list("value", flat=True))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partners", type=int, default=60)
    parser.add_argument("--rate", type=float, default=300.0, help="requests a second, all partners")
    parser.add_argument("--quick", action="store_true", help="10 s instead of 30 s")
    args = parser.parse_args()
    load_before = harness.load_average()
    harness.recreate_database()
    harness.setup_django()
    tokens = seed(args.partners)
    figures = measure(tokens, rate=args.rate, seconds=10.0 if args.quick else 30.0)
    harness.report(
        f"Callers cache, {args.partners} partners calling, {args.rate:g} requests/s",
        [
            ("requests", str(figures["requests"])),
            ("hits (1 SELECT)", f"{figures['hits']} ({figures['hit_ratio']:.1%})"),
            (
                "generation moved",
                f"{figures['generation_moves']} times in {figures['seconds']:g} s",
            ),
            ("cache lived", f"{figures['cache_life_s']:.1f} s on average"),
            ("CPU per authentication", f"{figures['cpu_us']:.0f} µs"),
            ("load average before", load_before),
        ],
    )


if __name__ == "__main__":
    main()
