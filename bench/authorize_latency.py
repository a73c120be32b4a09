"""Real-time authorization: the latency we add on top of the eMSP's own answer time.

    python bench/authorize_latency.py [--delay-ms 20] [--requests 2000] [--quick]

A fake eMSP (a tiny ASGI app under uvicorn, in its own process) answers every POST
…/tokens/{uid}/authorize after a fixed delay D with a 1000 AuthorizationInfo. This process
is the CPO platform: Django on PostgreSQL (database `ocpi_bench_authorize`, recreated by each
run), one registered eMSP partner, its token cached with whitelist NEVER (so every call is
real time). Alternating, it times

- ours: tokens.services.authorize() for the token at a location, all of it (cache lookup,
  partner and endpoint lookup, the HTTP call with our client, parsing and validating the
  answer, the decision);
- bare: requests.Session.post() of the same request to the same server (the floor: HTTP on
  loopback plus the fake's own work).

Figures: p50/p99 of ours − D (target p99 ≤ 10 ms, issue 4) and of bare − D, ours − bare, and
the CPU time of each (this thread's, so other processes on the machine do not count).
Logging is at WARNING, as in the other benchmarks. The charge point's operator party is passed
(`cpo`), as the charge point side does: two database queries per authorization.
"""

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE_NAME = os.environ.get("BENCH_DATABASE", "ocpi_bench_authorize")
DATABASE_URL = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE_NAME
TOKEN: dict[str, Any] = {
    "country_code": "DE",
    "party_id": "TNM",
    "uid": "04A2B3C4D5E6F7",
    "type": "RFID",
    "contract_id": "DE-TNM-C12345678",
    "issuer": "TheNewMotion",
    "valid": True,
    "whitelist": "NEVER",
    "last_updated": "2026-03-01T12:00:00Z",
}
LOCATION: dict[str, Any] = {"location_id": "LOC1", "evse_uids": ["LOC1-E1", "LOC1-E2"]}
ANSWER = json.dumps(
    {
        "data": {
            "allowed": "ALLOWED",
            "token": TOKEN,
            "location": LOCATION,
            "authorization_reference": "8A2C1E60-5A3B-4F0E-9B1C-2D3E4F5A6B7C",
        },
        "status_code": 1000,
        "timestamp": "2026-03-01T12:00:00Z",
    }
).encode()


# --- the fake eMSP (its own process) -------------------------------------------------------


def serve(port: int, delay: float) -> None:
    """Answer every request after `delay` seconds with ANSWER."""
    import uvicorn

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await asyncio.sleep(delay)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": ANSWER})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the fake eMSP exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


# --- the platform (this process) -----------------------------------------------------------


def setup_platform(tokens_url: str) -> None:
    import psycopg

    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": "",
        "DJANGO_DEBUG": "0",
        "OCPI_ALLOW_PRIVATE_URLS": "1",
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(ROOT / "var" / "bench"),
        "OCPI_COUNTRY_CODE": "NL",
        "OCPI_PARTY_ID": "CPO",
    }
    os.environ.update(env)
    with psycopg.connect(
        PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from credentials.models import PartnerEndpoint, PartnerPlatform, PartnerRole, PartnerStatus
    from tokens.serializers import TokenSerializer
    from tokens.services import token_put

    partner = PartnerPlatform(
        name="eMSP", status=PartnerStatus.REGISTERED, versions_url=tokens_url, version="2.2.1"
    )
    partner.set_incoming_token("bench-in")
    partner.set_outgoing_token("bench-out")
    partner.save()
    PartnerRole.objects.create(
        partner=partner, role="EMSP", country_code="DE", party_id="TNM", business_details={}
    )
    PartnerEndpoint.objects.create(
        partner=partner, identifier="tokens", role="SENDER", url=tokens_url
    )
    serializer = TokenSerializer(data=TOKEN)
    serializer.is_valid(raise_exception=True)
    token_put(data=serializer.validated_data)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(tokens_url: str, requests_count: int, warmup: int) -> dict[str, list[float]]:
    import requests

    from ocpi.routing import PartyRef
    from tokens.authorization import LocationReferences
    from tokens.services import authorize

    party = PartyRef("DE", "TNM")
    operator = PartyRef("NL", "CPO")  # the charge point's operator, as its Location names it
    where = LocationReferences(LOCATION["location_id"], tuple(LOCATION["evse_uids"]))
    bare = requests.Session()
    url = f"{tokens_url}/{TOKEN['uid']}/authorize"
    headers = {"Authorization": "Token YmVuY2gtb3V0", "Content-Type": "application/json"}
    body = json.dumps(LOCATION).encode()
    times: dict[str, list[float]] = {"ours": [], "bare": [], "ours_cpu": [], "bare_cpu": []}
    for n in range(warmup + requests_count):
        started, cpu = time.perf_counter(), time.thread_time()
        decision = authorize(party=party, uid=TOKEN["uid"], location=where, cpo=operator)
        ours, ours_cpu = time.perf_counter() - started, time.thread_time() - cpu
        assert decision.allowed, decision.reason
        started, cpu = time.perf_counter(), time.thread_time()
        response = bare.post(url, data=body, params={"type": "RFID"}, headers=headers, timeout=5)
        response.json()
        floor, floor_cpu = time.perf_counter() - started, time.thread_time() - cpu
        if n >= warmup:
            times["ours"].append(ours)
            times["bare"].append(floor)
            times["ours_cpu"].append(ours_cpu)
            times["bare_cpu"].append(floor_cpu)
    return times


def summary(times: dict[str, list[float]], delay: float) -> dict[str, float]:
    ms = 1000
    ours = [t - delay for t in times["ours"]]
    bare = [t - delay for t in times["bare"]]
    paired = [a - b for a, b in zip(times["ours"], times["bare"], strict=True)]
    return {
        "ours - D, p50": percentile(ours, 0.5) * ms,
        "ours - D, p99": percentile(ours, 0.99) * ms,
        "bare - D, p50": percentile(bare, 0.5) * ms,
        "bare - D, p99": percentile(bare, 0.99) * ms,
        "p50(ours) - p50(bare)": (percentile(ours, 0.5) - percentile(bare, 0.5)) * ms,
        "p99(ours) - p99(bare)": (percentile(ours, 0.99) - percentile(bare, 0.99)) * ms,
        "ours - bare (paired), p50": percentile(paired, 0.5) * ms,
        "ours - bare (paired), p99": percentile(paired, 0.99) * ms,
        # CPU time of this thread alone: our work, whatever else the machine runs (the
        # database's share runs in its own process and is not in it).
        "CPU ours, p50": percentile(times["ours_cpu"], 0.5) * ms,
        "CPU bare, p50": percentile(times["bare_cpu"], 0.5) * ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--delay-ms", type=float, default=20.0, help="the eMSP's answer time D")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="200 requests")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    delay = args.delay_ms / 1000
    if args.serve:
        serve(args.serve, delay)
        return
    count = 200 if args.quick else args.requests
    port = free_port()
    fake = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--delay-ms", str(args.delay_ms)]
    )
    try:
        wait_for_port(port, fake)
        tokens_url = f"http://127.0.0.1:{port}/ocpi/emsp/2.2.1/tokens"
        setup_platform(tokens_url)
        figures = summary(measure(tokens_url, count, args.warmup), delay)
    finally:
        fake.terminate()
        fake.wait(10)
    verdict = "MET" if figures["ours - D, p99"] <= 10 else "MISSED"
    print(f"\n## Real-time authorization, D = {args.delay_ms:g} ms, {count} requests")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    python = platform.python_version()
    print(f"  {platform.machine()}, {os.cpu_count()} CPUs, load {load}, Python {python}")
    for name, value in figures.items():
        print(f"  {name:26} {value:7.2f} ms")
    print(f"  target p99(ours - D) <= 10 ms: {verdict}")


if __name__ == "__main__":
    main()
