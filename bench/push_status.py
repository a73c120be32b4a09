"""EVSE status changes pushed to 20 partners by 2 Celery worker processes.

    python bench/push_status.py [--quick] [--rate 60]

Twenty partner receivers listen on loopback (bench/sinks.py, a process of their own); the
platform's outbox is sent by a real Celery worker (prefork, concurrency 2) on Redis db 11,
against PostgreSQL `ocpi_bench`. Status changes are made with locations.services
(evse_set_status), each committing its PATCH to every partner in its transaction.

1. Capacity: 1,000 changes on 1,000 EVSEs (200 locations of 5) committed at once (one
   transaction), 20,000 PATCHes to deliver: deliveries/s from the commit to the last one
   received, against a direct pusher (2 processes × PUSH_CONCURRENCY threads, plain
   `requests`) sending the same 20,000 requests (target ≥ 0.7×).
2. Latency: 1,000 changes, one transaction each, at --rate changes/s (60/s = 1,200
   deliveries/s, the peak issue 3 names), cycling over 250 EVSEs so each changes 4 times:
   commit-to-receipt p50/p99 (target p99 < 2 s), zero reordering (per partner and EVSE the
   last_updated received only grows, and every partner ends with each EVSE's last status).
"""

import argparse
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

PARTNERS = 20
STATUSES = ["AVAILABLE", "BLOCKED", "CHARGING", "OUTOFORDER"]  # each unlike the one before


class Sinks:
    def __init__(self, count: int) -> None:
        self.record_file = Path(tempfile.mkstemp(suffix=".jsonl")[1])
        self.process = subprocess.Popen(
            [harness.PYTHON, str(harness.BENCH / "sinks.py"), str(count), str(self.record_file)],
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        self.ports: list[int] = json.loads(self.process.stdout.readline())
        self.control = requests.Session()

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index]}"

    def count(self) -> int:
        return int(self.control.get(self.url(0) + "/__count", timeout=10).text)

    def dump(self) -> list[dict[str, Any]]:
        self.control.get(self.url(0) + "/__dump", timeout=60)
        rows = [json.loads(line) for line in self.record_file.read_text().splitlines()]
        for row in rows:
            row["body"] = json.loads(row["body"]) if row["body"] else None
        return rows

    def reset(self) -> None:
        self.control.get(self.url(0) + "/__reset", timeout=10)

    def close(self) -> None:
        harness.stop(self.process)  # type: ignore[arg-type]
        self.record_file.unlink(missing_ok=True)


def start_worker() -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            harness.PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=harness.ROOT,
        env=harness.bench_env(),
    )
    from config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return process
    raise TimeoutError("the Celery worker did not answer")


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.02)


def stamp(moments: list[float]) -> None:
    moments.append(time.time())


def span(rows: list[dict[str, Any]]) -> float:
    return max(row["at"] for row in rows) - min(row["at"] for row in rows)


def analyze() -> None:
    """Statistics on the outbox, as a platform that has been running has (a fresh table has
    none, and PostgreSQL then plans the claim query badly until autovacuum comes by)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE push_delivery")
        cursor.execute("ANALYZE push_change")


def open_deliveries() -> int:
    from push.models import OPEN_STATUSES, Delivery

    return Delivery.objects.filter(status__in=OPEN_STATUSES).count()


def evses(count: int) -> list[Any]:
    from locations.models import EVSE

    return list(EVSE.objects.select_related("location").order_by("pk")[:count])


# --- the direct pusher --------------------------------------------------------------------


def planned_requests() -> list[dict[str, Any]]:
    """Every delivery of the outbox as the request a pusher sends: same URL, body, headers."""
    from credentials.models import PartnerPlatform
    from ocpi import json as ocpi_json
    from ocpi.client import join_url
    from ocpi.context import new_id
    from ocpi.routing import PartyRef, RoutingHeaders
    from ocpi.tokens import encode_authorization
    from push.models import Delivery

    partners = {p.pk: p for p in PartnerPlatform.objects.all()}
    planned = []
    for delivery in Delivery.objects.select_related("change").order_by("pk"):
        change, partner = delivery.change, partners[delivery.partner_id]
        routing = RoutingHeaders(
            from_party=PartyRef.of(change.owner_country_code, change.owner_party_id),
            to_party=PartyRef.of(delivery.to_country_code, delivery.to_party_id),
        )
        planned.append(
            {
                "partner": partner.pk,
                "method": change.method,
                "url": join_url(partner.endpoint_url("locations", "RECEIVER") or "", *change.path),
                "body": ocpi_json.dumps(change.payload).encode(),
                "headers": {
                    "Authorization": encode_authorization(partner.outgoing_token),
                    "X-Request-ID": new_id(),
                    "X-Correlation-ID": new_id(),
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                    **routing.as_headers(),
                },
            }
        )
    return planned


def _push_share(share: list[dict[str, Any]], concurrency: int) -> None:
    sessions: dict[int, requests.Session] = {}
    for item in share:
        if item["partner"] not in sessions:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_maxsize=concurrency)
            session.mount("http://", adapter)
            sessions[item["partner"]] = session

    def send(item: dict[str, Any]) -> None:
        response = sessions[item["partner"]].request(
            item["method"], item["url"], data=item["body"], headers=item["headers"], timeout=30
        )
        response.json()
        assert response.status_code == 200

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, share))


def direct_push(planned: list[dict[str, Any]], processes: int, concurrency: int) -> None:
    """Send `planned` from `processes` processes, each partner's requests in one of them."""
    shares: list[list[dict[str, Any]]] = [[] for _ in range(processes)]
    for item in planned:
        shares[item["partner"] % processes].append(item)
    context = multiprocessing.get_context("spawn")  # fork would copy the parent's locks
    workers = [context.Process(target=_push_share, args=(s, concurrency)) for s in shares]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0


# --- checks -------------------------------------------------------------------------------


def order_and_state(rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Count reorderings (a PATCH older than one received before it for the same partner
    and EVSE, or for the same location queue out of commit order) and partners whose last
    status of an EVSE differs from the database's."""
    from locations.models import EVSE

    reordered = 0
    latest: dict[tuple[int, str], str] = {}
    final: dict[tuple[int, str], str] = {}
    for row in sorted(rows, key=lambda r: r["at"]):
        key = (row["port"], row["path"])
        stamp = row["body"]["last_updated"]
        if key in latest and stamp <= latest[key]:
            reordered += 1
        latest[key] = stamp
        final[key] = row["body"]["status"]
    truth = {
        f"/locations/NL/TNM/{location}/{uid}": status
        for location, uid, status in EVSE.objects.values_list("location__ocpi_id", "uid", "status")
    }
    wrong = sum(1 for (_, path), status in final.items() if truth[path] != status)
    return reordered, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="250 changes instead of 1,000")
    parser.add_argument("--rate", type=float, default=60.0, help="changes/s in the latency run")
    args = parser.parse_args()
    changes = 250 if args.quick else 1000

    harness.recreate_database()
    harness.setup_django()
    from django.conf import settings
    from django.db import transaction

    from locations.services import evse_set_status
    from ocpi.time import format_datetime

    sinks = Sinks(PARTNERS)
    worker: subprocess.Popen[bytes] | None = None
    try:
        for n in range(PARTNERS):
            harness.make_partner(
                f"eMSP {n}", f"push-{n}", receiver_url=sinks.url(n) + "/locations", party=f"P{n:02}"
            )
        harness.seed_locations(0, changes // 5)

        # 1. Capacity: everything committed at once while no worker runs (the wake-ups wait
        # in the broker), then drained by the worker; timed from the first request received
        # to the last, as the direct pusher is.
        targets = evses(changes)
        with transaction.atomic():
            for evse in targets:
                evse_set_status(evse=evse, status="CHARGING")
        analyze()
        worker = start_worker()
        expected = changes * PARTNERS
        wait_until(lambda: sinks.count() >= expected, 600, "the outbox was not drained")
        pipeline_rows = sinks.dump()
        pipeline_seconds = span(pipeline_rows)
        pipeline_reordered, pipeline_wrong = order_and_state(pipeline_rows)
        wait_until(lambda: open_deliveries() == 0, 60, "deliveries left open")

        planned = planned_requests()
        sinks.reset()
        direct_push(planned, 2, settings.PUSH_CONCURRENCY)
        direct_rows = sinks.dump()
        assert len(direct_rows) == expected, len(direct_rows)
        direct_seconds = span(direct_rows)

        # 2. Latency: one transaction per change, paced.
        sinks.reset()
        cycle = evses(changes // 4)
        committed_at: dict[tuple[str, str], float] = {}
        begun = time.perf_counter()
        for n in range(changes):
            evse = cycle[n % len(cycle)]
            wait = begun + n / args.rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            moment: list[float] = []
            with transaction.atomic():
                # Registered first, so it runs first once the change is committed.
                transaction.on_commit(partial(stamp, moment))
                updated = evse_set_status(evse=evse, status=STATUSES[(n // len(cycle)) % 4])
            path = f"/locations/NL/TNM/{evse.location.ocpi_id}/{evse.uid}"
            committed_at[(path, format_datetime(updated.last_updated))] = moment[0]
        produced = time.perf_counter() - begun
        wait_until(lambda: open_deliveries() == 0, 600, "the outbox was not drained")
        latency_rows = sinks.dump()
        latencies = [
            row["at"] - committed_at[(row["path"], row["body"]["last_updated"])]
            for row in latency_rows
        ]
        latency_reordered, latency_wrong = order_and_state(latency_rows)
        from push.models import Delivery, DeliveryStatus

        superseded = Delivery.objects.filter(status=DeliveryStatus.SUPERSEDED).count()
        failed = Delivery.objects.filter(status=DeliveryStatus.FAILED).count()
    finally:
        if worker is not None:
            harness.stop(worker)
        sinks.close()

    pipeline_rate = expected / pipeline_seconds
    direct_rate = expected / direct_seconds
    ratio = pipeline_rate / direct_rate
    p99 = harness.percentile(latencies, 0.99)
    made = changes / produced
    in_order = latency_reordered == latency_wrong == pipeline_reordered == pipeline_wrong == 0
    harness.report(
        f"{changes} EVSE status changes to {PARTNERS} partners, Celery prefork concurrency 2",
        [
            (
                "capacity: outbox + Celery",
                f"{pipeline_rate:.0f} deliveries/s ({expected} in {pipeline_seconds:.2f} s)",
            ),
            (
                "capacity: direct pusher",
                f"{direct_rate:.0f} deliveries/s ({expected} in {direct_seconds:.2f} s)",
            ),
            ("outbox / direct", f"{ratio:.2f}  {harness.verdict(ratio, 0.7, at_least=True)}"),
            ("capacity run: reordered, wrong final", f"{pipeline_reordered}, {pipeline_wrong}"),
            (
                "latency run: rate asked / made",
                f"{args.rate:g}/s / {made:.0f}/s ({made * PARTNERS:.0f} deliveries/s offered)",
            ),
            (
                "latency run: delivered, superseded, failed",
                f"{len(latency_rows)}, {superseded}, {failed}",
            ),
            ("commit → receipt p50", f"{harness.percentile(latencies, 0.5) * 1000:.0f} ms"),
            (
                "commit → receipt p99",
                f"{p99 * 1000:.0f} ms  {harness.verdict(p99, 2.0, at_least=False)}",
            ),
            ("commit → receipt max", f"{max(latencies) * 1000:.0f} ms"),
            (
                "latency run: reordered, wrong final",
                f"{latency_reordered}, {latency_wrong}  "
                + ("MET (target 0 everywhere)" if in_order else "MISSED (target 0)"),
            ),
        ],
    )


if __name__ == "__main__":
    main()
