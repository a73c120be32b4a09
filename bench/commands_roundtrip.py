"""START_SESSION to CommandResult: what the platform adds to a charge point's own answer.

    BENCH_DATABASE=ocpi_bench python bench/commands_roundtrip.py [--commands 200]
        [--charge-points 20] [--concurrent 1000] [--ocpp 1.6]

The whole platform in its own processes, as deployed: the web server (uvicorn) takes the
eMSP's POST /ocpi/cpo/2.2.1/commands/START_SESSION, a gateway (`manage.py ocpp_gateway`)
holds the simulated charge points (bench/ocpp_load.py, idle: each answers every CALL at once
{"status": "Accepted"}), a Celery worker (prefork, concurrency 2) runs the call's follow-up
and sends the CommandResult through the outbox to the eMSP's response_url, a sink of its own
(bench/sinks.py) that records when each arrives. PostgreSQL + Redis (the worker needs a
broker): BENCH_DATABASE, BENCH_REDIS_URL as the other benchmarks (bench/harness.py).

1. Round trip: --commands START_SESSIONs one after another, round robin over
   --charge-points, each waited for: from the POST to the CommandResult received at the
   sink, p50/p99 (target p99 < 1 s), and the POST's own answer time.
2. Concurrent: --concurrent START_SESSIONs, one per charge point, each sent twice at once
   (an eMSP's retry), from 64 threads: none lost (a result per response_url), none
   duplicated (one result and one RemoteStartTransaction per command), p50/p99 and the time
   to the last result.
"""

import argparse
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, ocpp_platform  # noqa: E402
from bench.ocpp_command_roundtrip import idle, wait_connected  # noqa: E402
from bench.ocpp_load import Load  # noqa: E402
from bench.push_status import Sinks, start_worker  # noqa: E402

WARM_UP = 10
THREADS = 64
RESULT_TIMEOUT = 60.0


def token(n: int) -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": "TNM",
        "uid": f"APP{n:07d}",
        "type": "APP_USER",
        "contract_id": f"DE-TNM-C{n:07d}",
        "issuer": "Bench eMSP",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2026-01-01T00:00:00Z",
    }


def targets(identities: list[str]) -> list[tuple[str, str]]:
    """(location id, EVSE uid) of each charge point's EVSE, in the identities' order."""
    from chargers.models import ChargePointEvse

    links = {
        identity: (location, evse)
        for identity, location, evse in ChargePointEvse.objects.filter(
            charge_point__identity__in=identities, ocpp_evse_id=1
        ).values_list("charge_point__identity", "evse__location__ocpi_id", "evse__uid")
    }
    return [links[identity] for identity in identities]


def emsp_to(sinks: Sinks) -> None:
    """The bench's eMSP receives its pushes (sessions, locations, …) at the sink too: nothing
    of it fails, so its outbox never backs off (push.window's breaker)."""
    from credentials.models import PartnerEndpoint

    for endpoint in PartnerEndpoint.objects.filter(partner__name="Bench eMSP"):
        endpoint.url = f"{sinks.url(0)}/{endpoint.identifier}"
        endpoint.save(update_fields=["url"])


class Emsp:
    """The eMSP's side: POSTs commands to our web server, reads what reached its sink."""

    def __init__(self, web_url: str, sinks: Sinks) -> None:
        self.url = f"{web_url}/ocpi/cpo/2.2.1/commands/START_SESSION"
        self.sinks = sinks
        self.http = requests.Session()
        self.headers = {
            "Authorization": harness.authorization(),
            "Content-Type": "application/json",
        }

    def result_url(self, run: str, n: int) -> str:
        return f"{self.sinks.url(0)}/results/{run}/{n}"

    def start(self, run: str, n: int, target: tuple[str, str], http: Any = None) -> float:
        """POST a START_SESSION; its answer time (s). Raises unless answered ACCEPTED."""
        body = {
            "response_url": self.result_url(run, n),
            "token": token(n),
            "location_id": target[0],
            "evse_uid": target[1],
        }
        started = time.perf_counter()
        answer = (http or self.http).post(self.url, json=body, headers=self.headers, timeout=30)
        elapsed = time.perf_counter() - started
        data = answer.json().get("data") or {}
        if data.get("result") != "ACCEPTED":
            raise RuntimeError(f"START_SESSION {n} answered {answer.status_code} {answer.text}")
        return elapsed

    def results(self, run: str) -> list[dict[str, Any]]:
        prefix = f"/results/{run}/"
        return [row for row in self.sinks.dump() if row["path"].startswith(prefix)]


def round_trips(emsp: Emsp, points: list[tuple[str, str]], count: int) -> dict[str, Any]:
    sent_at: dict[int, float] = {}
    answer_times = []
    for n in range(WARM_UP + count):
        before = emsp.sinks.count()
        sent_at[n] = time.time()
        answer_times.append(emsp.start("seq", n, points[n % len(points)]))
        deadline = time.monotonic() + RESULT_TIMEOUT
        while emsp.sinks.count() == before:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no CommandResult for command {n}")
            time.sleep(0.002)
    received = {int(row["path"].rsplit("/", 1)[1]): row for row in emsp.results("seq")}
    times = [received[n]["at"] - sent_at[n] for n in range(WARM_UP, WARM_UP + count)]
    results = Counter(received[n]["body"]["result"] for n in received)
    return {"times": times, "answers": answer_times[WARM_UP:], "results": results}


def concurrent(emsp: Emsp, points: list[tuple[str, str]]) -> dict[str, Any]:
    """Each command sent twice at once, from THREADS threads."""
    from chargers.models import ChargePointCall

    calls_before = ChargePointCall.objects.count()
    work = [n for n in range(len(points)) for _ in range(2)]
    sent_at: dict[int, float] = {}
    sessions = [requests.Session() for _ in range(THREADS)]

    def send(index: int) -> None:
        n = work[index]
        sent_at.setdefault(n, time.time())
        emsp.start("conc", n, points[n], sessions[index % THREADS])

    began = time.time()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(send, range(len(work))))
    deadline = time.monotonic() + RESULT_TIMEOUT * 3
    while len(emsp.results("conc")) < len(points) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # anything duplicated would arrive by now
    rows = emsp.results("conc")
    per_url = Counter(row["path"] for row in rows)
    received = {int(row["path"].rsplit("/", 1)[1]): row["at"] for row in rows}
    times = [received[n] - sent_at[n] for n in received]
    calls = ChargePointCall.objects.count() - calls_before
    return {
        "times": times,
        "lost": len(points) - len(per_url),
        "duplicated": sum(count - 1 for count in per_url.values()),
        "calls": calls,
        "results": Counter(row["body"]["result"] for row in rows),
        "last": max(received.values(), default=began) - began,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--charge-points", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=1000)
    parser.add_argument("--ocpp", choices=["1.6", "2.0.1"], default="1.6")
    args = parser.parse_args()
    if not ocpp_platform.on_postgres():
        sys.exit("Set BENCH_DATABASE (PostgreSQL) and BENCH_REDIS_URL: the worker needs Redis.")
    count = max(args.charge_points, args.concurrent)
    print(
        f"# START_SESSION → CommandResult, OCPP {args.ocpp}, {count} charge points; "
        f"{ocpp_platform.describe_database()} (load {ocpp_platform.load_average()})"
    )
    identities = ocpp_platform.prepare(count, version=args.ocpp)
    points = targets(identities)
    sinks = Sinks(1)
    emsp_to(sinks)
    worker = None
    rows: list[tuple[str, str]] = []
    try:
        with (
            harness.uvicorn("config.asgi:application") as web,
            ocpp_platform.gateway("bench-1") as gateway,
            Load(idle(gateway.url, identities, args.ocpp, ocpp_platform.PASSWORD)) as load,
        ):
            ready = load.ready()
            if ready["ready"] != len(identities):
                raise RuntimeError(f"{ocpp_platform.lost(ready)} {ready}")
            load.go()
            print(f"  {wait_connected(identities)} of {len(identities)} charge points held")
            worker = start_worker()
            sinks.reset()
            emsp = Emsp(web.url, sinks)
            sequential = round_trips(emsp, points[: args.charge_points], args.commands)
            rows.append(
                (
                    "one after another: POST → CommandResult",
                    ocpp_platform.summary(sequential["times"]),
                )
            )
            p99 = harness.percentile(sequential["times"], 0.99)
            rows.append(("  target p99 < 1 s", harness.verdict(p99, 1.0, at_least=False)))
            rows.append(("  the POST's own answer", ocpp_platform.summary(sequential["answers"])))
            rows.append(("  results", str(dict(sequential["results"]))))
            if args.concurrent:
                both = concurrent(emsp, points[: args.concurrent])
                rows.append(
                    (f"{args.concurrent} at once, each twice", ocpp_platform.summary(both["times"]))
                )
                rows.append(("  last result after", f"{both['last']:.1f} s"))
                rows.append(
                    (
                        "  lost / duplicated / calls sent",
                        f"{both['lost']} / {both['duplicated']} / {both['calls']}",
                    )
                )
                rows.append(("  results", str(dict(both["results"]))))
            load.stop()
    finally:
        if worker is not None:
            harness.stop(worker)
        sinks.close()
    harness.report("Commands round trip", rows)


if __name__ == "__main__":
    main()
