"""A full pull of our locations by an eMSP, page by page, following Link.

    python bench/pull_locations.py [--quick]

Seeds N locations of 5 EVSEs (two connectors each) in a fresh PostgreSQL database
`ocpi_bench`, serves the platform with uvicorn in its own process, and pulls every page as
an eMSP would (requests, keep-alive, the body parsed, the Link followed). Figures, each
against its target (issue 3):

- locations/s against a floor: the same pages (the bytes we served), served by a bare ASGI
  app under uvicorn (bench/floor_asgi.py) and pulled by the same client (target ≥ 0.5×);
  also against the same pages from a bare Django view (bench/floor_django.py). Measured
  cold (the JSON cache emptied first) and warm (the pull repeated);
- time of the last pages against the first, medians of 20 pages (target ≤ 1.2×);
- the cost of X-Total-Count against one page (target ≤ 1.1×), timed in-process;
- queries per page, first and last page;
- peak memory (VmHWM) of the web process for N = 5k, 10k, 20k (target: flat).

The platform runs as configured (psycopg's connection pool on PostgreSQL; DATABASE_POOL=0 in
the environment measures without it).
"""

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

URL = "/ocpi/cpo/2.2.1/locations"
LINK = re.compile(r"<(?P<url>[^>]+)>;\s*rel=\"next\"")
EDGE_PAGES = 20  # pages at each end for the last/first ratio (their median: the machine is shared)
LIMIT = 100


def pull(base_url: str, path: str, *, follow: bool = True, keep: bool = False) -> dict[str, Any]:
    """GET `path` and follow Link to the end; time each page as the client sees it."""
    session = requests.Session()
    session.headers["Authorization"] = harness.authorization()
    url: str | None = base_url + path
    times: list[float] = []
    kept: list[dict[str, Any]] = []
    count = 0
    started = time.perf_counter()
    while url is not None:
        begun = time.perf_counter()
        response = session.get(url, timeout=60)
        body = response.content
        data = json.loads(body)["data"]
        times.append(time.perf_counter() - begun)
        if keep:
            total = int(response.headers["X-Total-Count"])
            kept.append({"offset": count, "body": body.decode(), "total": total})
        count += len(data)
        match = LINK.search(response.headers.get("Link", ""))
        url = None if match is None or not follow else _absolute(base_url, match["url"])
    elapsed = time.perf_counter() - started
    return {"count": count, "seconds": elapsed, "page_times": times, "pages": kept}


def _absolute(base_url: str, link: str) -> str:
    return link if link.startswith("http") else base_url + link


def edge_ratio(times: list[float]) -> tuple[float, float, float]:
    first = statistics.median(times[:EDGE_PAGES])
    last = statistics.median(times[-EDGE_PAGES:])
    return first, last, last / first


def announce_seed() -> None:
    """Bulk seeding bypasses the services: announce it as they would (ocpi.pagination)."""
    from ocpi import pagination

    note = getattr(pagination, "note_list_change", None)
    if note is not None:
        note("locations", key=0, membership=True)


def best_ms(action: Any, repeat: int = 20) -> float:
    action()
    runs = []
    for _ in range(repeat):
        begun = time.perf_counter()
        action()
        runs.append(time.perf_counter() - begun)
    return min(runs) * 1000


def in_process_costs() -> dict[str, Any]:
    """The page's row query (by OFFSET and by cursor), COUNT(*) plain and as served, a whole
    page served (Django's test client: no network), and the queries of a page."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from credentials.selectors import local_parties
    from locations import selectors
    from ocpi import pagination
    from ocpi.routing import PartyRef

    parties = [PartyRef.of(party.country_code, party.party_id) for party in local_parties()]
    lister = getattr(selectors, "location_rows", None) or selectors.location_list
    rows = lister(parties=parties)
    pks = list(rows.values_list("pk", flat=True))
    last_offset = (len(pks) - 1) // LIMIT * LIMIT
    cursor = pks[last_offset - 1]
    served_count = getattr(pagination, "total_count", None)
    client = Client(HTTP_AUTHORIZATION=harness.authorization())
    first_path = f"{URL}?offset=0&limit={LIMIT}"
    last_path = f"{URL}?offset={last_offset}&limit={LIMIT}"
    if served_count is not None:
        last_path += f"&after={cursor}"
    figures: dict[str, Any] = {
        "rows_offset_first_ms": best_ms(lambda: list(rows[: LIMIT + 1])),
        "rows_offset_last_ms": best_ms(lambda: list(rows[last_offset : last_offset + LIMIT + 1])),
        "rows_keyset_last_ms": best_ms(lambda: list(rows.filter(pk__gt=cursor)[: LIMIT + 1])),
        "count_plain_ms": best_ms(lambda: rows.count()),
        "count_served_ms": best_ms(
            (lambda: served_count(rows, name="locations", dated=False))
            if served_count is not None
            else (lambda: rows.count())
        ),
        "page_served_first_ms": best_ms(lambda: client.get(first_path), repeat=10),
        "page_served_last_ms": best_ms(lambda: client.get(last_path), repeat=10),
    }
    for name, path in (("first", first_path), ("last", last_path)):
        client.get(path)  # as a pull finds it: counted and rendered before
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        figures[f"queries_{name}_page"] = len(queries.captured_queries)
        figures[f"queries_{name}_page_sql"] = [q["sql"][:200] for q in queries.captured_queries]
        for kind, ms in database_times(queries.captured_queries).items():
            figures[f"db_{kind}_{name}_ms"] = ms
    return figures


def database_times(queries: list[dict[str, str]]) -> dict[str, float]:
    """PostgreSQL's own execution time (EXPLAIN ANALYZE, best of 5) of the page's queries:
    the one behind X-Total-Count, the one reading the page's locations, and the rest."""
    from django.db import connection

    times = {"count": 0.0, "page": 0.0, "other": 0.0}
    for query in queries:
        sql = query["sql"]
        if not sql.startswith("SELECT"):
            continue
        runs = []
        with connection.cursor() as cursor:
            for _ in range(5):
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                runs.append(cursor.fetchone()[0][0]["Execution Time"])
        if "COUNT(" in sql:
            kind = "count"
        elif 'FROM "locations_location"' in sql and "LIMIT" in sql and "evse" not in sql:
            kind = "page"
        else:
            kind = "other"
        times[kind] += min(runs)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k/2k/4k locations, not 5k/10k/20k")
    args = parser.parse_args()
    sizes = [1000, 2000, 4000] if args.quick else [5000, 10000, 20000]
    load_before = harness.load_average()

    harness.recreate_database()
    harness.setup_django()
    harness.make_partner("Bench eMSP", harness.PARTNER_TOKEN)

    seeded = 0
    memory: list[tuple[int, float]] = []
    cold: dict[str, Any] = {}
    warm: dict[str, Any] = {}
    for size in sizes:
        begun = time.perf_counter()
        harness.seed_locations(seeded, size)
        announce_seed()
        print(f"seeded {size - seeded} locations in {time.perf_counter() - begun:.1f} s")
        seeded = size
        harness.flush_cache()  # every location's JSON rendered afresh: a cold pull
        with harness.uvicorn("config.asgi:application") as server:
            pull(server.url, f"{URL}?limit=1", follow=False)  # imports, connections
            cold = pull(server.url, f"{URL}?limit={LIMIT}")
            memory.append((size, server.peak_rss_mb()))
            warm = pull(server.url, f"{URL}?limit={LIMIT}", keep=size == sizes[-1])
        assert cold["count"] == warm["count"] == size, (cold["count"], warm["count"], size)
        print(
            f"N={size}: cold {size / cold['seconds']:.0f} locations/s, "
            f"warm {size / warm['seconds']:.0f} locations/s, peak RSS {memory[-1][1]:.0f} MB"
        )

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as pages_file:
        for page in warm["pages"]:
            pages_file.write(json.dumps(page) + "\n")
    with harness.uvicorn("bench.floor_asgi:app", BENCH_FLOOR_PAGES=pages_file.name) as floor:
        pull(floor.url, "/pages?offset=0", follow=False)
        floor_run = pull(floor.url, "/pages?offset=0")
    with harness.uvicorn(
        "bench.floor_django:application", BENCH_FLOOR_PAGES=pages_file.name
    ) as floor:
        pull(floor.url, "/pages?offset=0", follow=False)
        django_run = pull(floor.url, "/pages?offset=0")
    Path(pages_file.name).unlink()
    assert floor_run["count"] == django_run["count"] == sizes[-1]

    costs = in_process_costs()
    total = sizes[-1]
    floor_rate = total / floor_run["seconds"]
    django_rate = total / django_run["seconds"]
    cold_rate, warm_rate = total / cold["seconds"], total / warm["seconds"]
    cold_edges, warm_edges = edge_ratio(cold["page_times"]), edge_ratio(warm["page_times"])
    floor_edges = edge_ratio(floor_run["page_times"])
    count_ms, rows_ms = costs["count_served_ms"], costs["rows_keyset_last_ms"]
    page_ms = costs["page_served_last_ms"]
    page_kib = sum(len(p["body"]) for p in warm["pages"]) / len(warm["pages"]) / 1024
    peaks = [peak for _, peak in memory]

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    def against(value: float, target: float, *, at_least: bool) -> str:
        return f"{value:.2f}  {harness.verdict(value, target, at_least=at_least)}"

    harness.report(
        f"Full pull of {total} locations ({5 * total} EVSEs), pages of {LIMIT}",
        [
            ("load average before / after", f"{load_before} / {harness.load_average()}"),
            ("pages", f"{len(warm['page_times'])} of {page_kib:.0f} KiB on average"),
            ("floor (same pages, bare ASGI)", f"{floor_rate:.0f} locations/s"),
            ("floor (same pages, bare Django)", f"{django_rate:.0f} locations/s"),
            ("ours, cold JSON cache", f"{cold_rate:.0f} locations/s"),
            ("ours, warm JSON cache", f"{warm_rate:.0f} locations/s"),
            ("ours / floor, cold", against(cold_rate / floor_rate, 0.5, at_least=True)),
            ("ours / floor, warm", against(warm_rate / floor_rate, 0.5, at_least=True)),
            ("ours / bare Django, cold", f"{cold_rate / django_rate:.2f}"),
            ("ours / bare Django, warm", f"{warm_rate / django_rate:.2f}"),
            ("first / last pages, cold", f"{ms(cold_edges[0])} / {ms(cold_edges[1])}"),
            ("first / last pages, warm", f"{ms(warm_edges[0])} / {ms(warm_edges[1])}"),
            ("first / last pages, floor", f"{ms(floor_edges[0])} / {ms(floor_edges[1])}"),
            ("last / first, cold", against(cold_edges[2], 1.2, at_least=False)),
            ("last / first, warm", against(warm_edges[2], 1.2, at_least=False)),
            ("page rows SQL: offset 0", f"{costs['rows_offset_first_ms']:.2f} ms"),
            ("page rows SQL: last page, OFFSET", f"{costs['rows_offset_last_ms']:.2f} ms"),
            ("page rows SQL: last page, cursor", f"{rows_ms:.2f} ms"),
            ("page served in-process: first", f"{costs['page_served_first_ms']:.2f} ms"),
            ("page served in-process: last", f"{page_ms:.2f} ms"),
            ("plain COUNT(*)", f"{costs['count_plain_ms']:.2f} ms"),
            ("X-Total-Count as served", f"{count_ms:.2f} ms"),
            ("count / page rows SQL", against(count_ms / rows_ms, 1.1, at_least=False)),
            ("count / page served", against(count_ms / page_ms, 1.1, at_least=False)),
            (
                "DB time of the count, first / last page",
                f"{costs['db_count_first_ms']:.3f} / {costs['db_count_last_ms']:.3f} ms",
            ),
            (
                "DB time of the page's rows, first / last",
                f"{costs['db_page_first_ms']:.3f} / {costs['db_page_last_ms']:.3f} ms",
            ),
            (
                "DB count / page, first page",
                against(
                    costs["db_count_first_ms"] / costs["db_page_first_ms"], 1.1, at_least=False
                ),
            ),
            (
                "DB count / page, last page",
                against(costs["db_count_last_ms"] / costs["db_page_last_ms"], 1.1, at_least=False),
            ),
            (
                "queries: first page, last page",
                f"{costs['queries_first_page']}, {costs['queries_last_page']}",
            ),
            *[
                (f"peak RSS of the web process, N={size}", f"{peak:.0f} MB")
                for size, peak in memory
            ],
            ("peak RSS max / min", f"{max(peaks) / min(peaks):.2f} (target: flat)"),
        ],
    )
    harness.write_json(
        harness.ROOT / "var" / "bench" / "pull_locations.json",
        {
            "sizes": sizes,
            "memory": memory,
            "costs": costs,
            "cold_page_times": cold["page_times"],
            "warm_page_times": warm["page_times"],
            "floor_page_times": floor_run["page_times"],
            "django_floor_page_times": django_run["page_times"],
        },
    )


if __name__ == "__main__":
    main()
