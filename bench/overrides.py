"""Each override of framework internals against the framework's own way, in one run.

    python bench/overrides.py authorize [--requests 1000] [--delay-ms 20]
    python bench/overrides.py asgi [--seconds 3] [--rounds 3]
    python bench/overrides.py audit [--requests 1000]

bench/RESULTS.md, "Overrides kept", keeps an override only where it is worth more than 10 %
of its benchmark target's margin; this measures what each is worth, alternating the variants
(call by call, or server by server) so that the machine's load falls on all of them alike.
Overrides removed are measured by the commit that still had them (bench/RESULTS.md).

- authorize (target of bench/authorize_latency.py, p99 of ours − D ≤ 10 ms): tokens.services.
  authorize() as it is; with a session that reads the proxy environment and ~/.netrc before
  every request as requests does (still pinned: ocpi.pinning); with a new
  AuthorizationInfoSerializer(data=…) per answer; and the bare requests.Session.post floor.
- asgi (bench/get_location.py, ours / bare ≥ 0.5): GET one location served by
  config.asgi (ocpi.asgi's handler), by Django's own ASGIHandler over the same settings
  (bench/stock_asgi.py), and by the bare Django view (the floor).
- audit (the status path of bench/ocpp_storm.py and bench/push_status.py): an EVSE status
  change (locations.services.evse_set_status) with audit.tracking's receivers, which skip
  auditlog outside an operator's scope, and with auditlog's own, which read the row back
  before each save and build the diff, then let audit veto the entry (auditlog's pre_log),
  as audit did before; queries and time per change, change by change.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import authorize_latency, harness  # noqa: E402


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def print_rows(title: str, rows: dict[str, list[float]], unit: str = "ms") -> None:
    print(f"\n## {title} (load {load()})")
    for name, values in rows.items():
        p50, p99 = harness.percentile(values, 0.5), harness.percentile(values, 0.99)
        print(f"  {name:40} p50 {p50:8.3f} {unit}   p99 {p99:8.3f} {unit}")


# --- authorize ------------------------------------------------------------------------------


def authorize(requests_count: int, delay_ms: float) -> None:
    port = authorize_latency.free_port()
    fake = subprocess.Popen(
        [
            sys.executable,
            authorize_latency.__file__,
            "--serve",
            str(port),
            "--delay-ms",
            str(delay_ms),
        ]
    )
    try:
        authorize_latency.wait_for_port(port, fake)
        tokens_url = f"http://127.0.0.1:{port}/ocpi/emsp/2.2.1/tokens"
        authorize_latency.setup_platform(tokens_url)
        rows = measure_authorize(tokens_url, requests_count, delay_ms / 1000)
    finally:
        fake.terminate()
        fake.wait(10)
    print_rows(f"authorize − D, D = {delay_ms:g} ms, {requests_count} calls each", rows)


def measure_authorize(url: str, count: int, delay: float) -> dict[str, list[float]]:
    import requests

    from ocpi.httpsession import KeptSession
    from ocpi.pinning import PinnedAdapter
    from ocpi.routing import PartyRef
    from tokens import realtime
    from tokens.authorization import LocationReferences
    from tokens.serializers import AuthorizationInfoSerializer
    from tokens.services import authorize

    class RequestsSession(requests.Session):
        """A session that calls partners as requests does: pinned, nothing else kept."""

        def __init__(self) -> None:
            super().__init__()
            self.mount("http://", PinnedAdapter())
            self.mount("https://", PinnedAdapter())

    def validate_public(data: Any) -> tuple[dict[str, Any] | None, str]:
        serializer = AuthorizationInfoSerializer(data=data)
        if serializer.is_valid():
            return dict(serializer.validated_data), ""
        return None, str(serializer.errors)

    kept, plain = KeptSession(), RequestsSession()
    validate_kept = realtime.validate_authorization_info
    variants: dict[str, Callable[[], Any]] = {
        "ours (both overrides)": lambda: (kept, validate_kept),
        "requests' own environment merge": lambda: (plain, validate_kept),
        "a new serializer per answer": lambda: (kept, validate_public),
    }
    where = LocationReferences("LOC1", ("LOC1-E1", "LOC1-E2"))
    party, operator = PartyRef("DE", "TNM"), PartyRef("NL", "CPO")
    bare = requests.Session()
    body = json.dumps(authorize_latency.LOCATION).encode()
    headers = {"Authorization": "Token YmVuY2gtb3V0", "Content-Type": "application/json"}
    uid = authorize_latency.TOKEN["uid"]
    rows: dict[str, list[float]] = {name: [] for name in [*variants, "bare requests (floor)"]}
    cpu: dict[str, list[float]] = {name: [] for name in rows}
    for n in range(100 + count):
        for name, variant in variants.items():
            session, validate = variant()
            realtime._local.session = session  # noqa: SLF001 (the variant's session)
            realtime.validate_authorization_info = validate
            started, thread_cpu = time.perf_counter(), time.thread_time()
            decision = authorize(party=party, uid=uid, location=where, cpo=operator)
            elapsed, used = time.perf_counter() - started, time.thread_time() - thread_cpu
            assert decision.allowed, decision.reason
            if n >= 100:
                rows[name].append((elapsed - delay) * 1000)
                cpu[name].append(used * 1000)
        started, thread_cpu = time.perf_counter(), time.thread_time()
        bare.post(f"{url}/{uid}/authorize", data=body, params={"type": "RFID"}, headers=headers)
        elapsed, used = time.perf_counter() - started, time.thread_time() - thread_cpu
        if n >= 100:
            rows["bare requests (floor)"].append((elapsed - delay) * 1000)
            cpu["bare requests (floor)"].append(used * 1000)
    realtime.validate_authorization_info = validate_kept
    print_rows("authorize, CPU of the calling thread", cpu)
    return rows


# --- asgi -----------------------------------------------------------------------------------

SERVED = {
    "ours (ocpi.asgi)": "config.asgi:application",
    "Django's ASGIHandler": "bench.stock_asgi:application",
}


def asgi(seconds: float, rounds: int) -> None:
    harness.recreate_database()
    harness.setup_django()
    harness.make_partner("Bench eMSP", harness.PARTNER_TOKEN)
    harness.seed_locations(0, 1000)
    import requests

    path = "/ocpi/cpo/2.2.1/locations/BENCH-500"
    headers = {"Authorization": harness.authorization()}
    runs: dict[str, list[float]] = {name: [] for name in [*SERVED, "bare Django view (floor)"]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as body_file:
        pass
    for _ in range(rounds):
        for name, app in SERVED.items():
            with harness.uvicorn(app) as server:
                response = requests.get(server.url + path, headers=headers, timeout=10)
                assert response.json()["data"]["id"] == "BENCH-500", response.text
                Path(body_file.name).write_text(response.text)
                harness.hammer(server.url + path, headers=headers, seconds=1)  # warm-up
                hammered = harness.hammer(server.url + path, headers=headers, seconds=seconds)
                runs[name].append(hammered["rps"])
        with harness.uvicorn("bench.bare_django:application", BENCH_BARE_BODY=body_file.name) as s:
            harness.hammer(s.url + path, headers=headers, seconds=1)
            hammered = harness.hammer(s.url + path, headers=headers, seconds=seconds)
            runs["bare Django view (floor)"].append(hammered["rps"])
    Path(body_file.name).unlink()
    floor = statistics.median(runs["bare Django view (floor)"])
    print(f"\n## GET one location, {rounds} rounds × {seconds:g} s (load {load()})")
    for name, values in runs.items():
        median = statistics.median(values)
        rounded = [round(value) for value in values]
        print(f"  {name:26} {median:7.0f} req/s  / floor {median / floor:.2f}   runs {rounded}")


def audit(changes: int) -> None:
    harness.recreate_database()
    harness.setup_django()
    from auditlog.signals import pre_log
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from audit.tracking import operator_scope
    from locations.models import EVSE
    from locations.services import evse_set_status

    harness.make_partner("Bench eMSP", harness.PARTNER_TOKEN, receiver_url="http://127.0.0.1:9")
    harness.seed_locations(0, 20)
    evses = list(EVSE.objects.all())

    def vetoed(**kwargs: Any) -> bool:
        return False

    def ours(evse: Any, status: str) -> None:
        evse_set_status(evse=evse, status=status)

    def auditlogs_own(evse: Any, status: str) -> None:
        # auditlog's receivers run (the scope), and audit vetoes the entry as it used to.
        with operator_scope():
            evse_set_status(evse=evse, status=status)

    pre_log.connect(vetoed, dispatch_uid="bench.vetoed")
    variants: dict[str, Callable[[Any, str], None]] = {
        "audit.tracking (ours)": ours,
        "auditlog's receivers + veto": auditlogs_own,
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    queries: dict[str, int] = {}
    current = {evse.pk: evse.status for evse in evses}
    for index in range(changes):
        evse = evses[index % len(evses)]
        for name, change in variants.items():  # each call changes the status: a real change
            status = "OUTOFORDER" if current[evse.pk] != "OUTOFORDER" else "AVAILABLE"
            reset_queries()  # the captured queries are a slice of a bounded log
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                change(evse, status)
                times[name].append((time.perf_counter() - started) * 1000)
            queries[name] = len(captured)
            current[evse.pk] = status
    pre_log.disconnect(dispatch_uid="bench.vetoed")
    print(f"\n## EVSE status change, {changes} per variant, alternating (load {load()})")
    base = statistics.median(times["auditlog's receivers + veto"])
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:28} {queries[name]:3d} queries  median {median:6.2f} ms  "
            f"p99 {harness.percentile(values, 0.99):6.2f} ms  / auditlog's {median / base:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["authorize", "asgi", "audit"])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.what == "authorize":
        authorize(args.requests, args.delay_ms)
    elif args.what == "audit":
        audit(args.requests)
    else:
        asgi(args.seconds, args.rounds)


if __name__ == "__main__":
    main()
