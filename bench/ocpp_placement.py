"""Where the OCPP gateway runs: memory per idle connection and CPU at idle, with pings, of a
standalone asyncio `websockets` server and of the same endpoint mounted in our ASGI app.

    python bench/ocpp_placement.py [--connections 2000] [--idle-seconds 20] [--clients 1]
                                   [--ping-interval 20] [--variants a,b,...]

Each variant is a server process of its own answering ws://…/ocpp/<identity> with an echo
(subprotocols ocpp1.6 / ocpp2.0.1, no permessage-deflate, the server pinging every
--ping-interval seconds):

- standalone: `websockets.asyncio.server.serve` (websockets 17), on asyncio's own loop
  (what `manage.py ocpp_gateway` would run) and on uvloop;
- uvicorn: `uvicorn bench.ocpp_echo_asgi:application` (config.asgi's application with the
  echo mounted at /ocpp/) with --ws websockets, websockets-sansio and, when installed,
  wsproto; --ws-per-message-deflate false, uvloop and httptools as the Procfile serves.

For each: RSS after a warm-up of 20 connections, then --connections charge points
(bench/ocpp_load.py, --clients processes) connect and exchange one frame; RSS per connection
= (RSS after − RSS before) / N; then the server's CPU over --idle-seconds while they idle and
it pings them. Ratios are against the standalone asyncio server of the same run.

The fd limit is raised to the hard limit in every process; one client address holds ~28k
connections (the ephemeral port range); bench/ocpp_load.py binds further 127.0.0.x beyond.
"""

import argparse
import asyncio
import importlib.util
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, ocpp_platform  # noqa: E402
from bench.ocpp_load import Load, raise_fd_limit  # noqa: E402

WARM_UP = 20


def variants(ping_interval: float) -> dict[str, list[str]]:
    ping = str(ping_interval)
    standalone = [harness.PYTHON, __file__, "--serve", "{port}", "--ping-interval", ping]
    uvicorn = [
        *[harness.PYTHON, "-m", "uvicorn", "bench.ocpp_echo_asgi:application"],
        *["--host", "127.0.0.1", "--port", "{port}", "--lifespan", "off", "--no-access-log"],
        *["--log-level", "warning", "--ws-per-message-deflate", "false"],
        *["--ws-ping-interval", ping, "--ws-ping-timeout", ping],
    ]
    found = {
        "standalone asyncio": [*standalone, "--loop", "asyncio"],
        "standalone uvloop": [*standalone, "--loop", "uvloop"],
        "uvicorn websockets": [*uvicorn, "--ws", "websockets"],
        "uvicorn websockets-sansio": [*uvicorn, "--ws", "websockets-sansio"],
    }
    if importlib.util.find_spec("wsproto") is not None:
        found["uvicorn wsproto"] = [*uvicorn, "--ws", "wsproto"]
    return found


def spec(url: str, identities: list[str]) -> dict[str, object]:
    return {
        "url": url,
        "identities": identities,
        "version": "1.6",
        "work": "idle",
        "boot": False,
        "hello": True,
        "echo": True,
    }


def measure(name: str, command: list[str], args: argparse.Namespace) -> dict[str, float]:
    with ocpp_platform.serving(name, command, ocpp_platform.env()) as server:
        with Load(spec(server.url, [f"WARM-{n}" for n in range(WARM_UP)])) as warm:
            assert warm.ready()["ready"] == WARM_UP
        time.sleep(1)
        before = server.rss_kib()
        identities = [f"CP-{n:05d}" for n in range(args.connections)]
        with Load(spec(server.url, identities), args.clients) as load:
            ready = load.ready()
            if ready["ready"] != args.connections:
                raise RuntimeError(f"{name}: {ready['ready']} of {args.connections} connected")
            time.sleep(args.settle)
            after = server.rss_kib()
            load.go()
            cpu = ocpp_platform.cpu_percent(server, args.idle_seconds)
            result = load.stop()
            peak = harness.proc_status_kb(server.process.pid, "VmHWM")
    return {
        "before_mib": before / 1024,
        "after_mib": after / 1024,
        "peak_mib": peak / 1024,
        "kib_per_connection": (after - before) / args.connections,
        "cpu_percent": cpu,
        "dropped": float(result.get("dropped", 0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=1, help="load processes")
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--ping-interval", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before RSS after")
    parser.add_argument("--variants", default="", help="comma-separated names (default: all)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--loop", default="asyncio", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve_standalone(args.serve, args.ping_interval, args.loop)
        return
    available = variants(args.ping_interval)
    chosen = args.variants.split(",") if args.variants else list(available)
    print(
        f"# {args.connections} connections, {args.clients} load process(es), pings every "
        f"{args.ping_interval:g} s, CPU over {args.idle_seconds:g} s "
        f"(load {ocpp_platform.load_average()})"
    )
    rows = {name: measure(name, available[name], args) for name in chosen}
    base = rows.get("standalone asyncio") or next(iter(rows.values()))
    print(f"\n## Idle connections: {args.connections} (load {ocpp_platform.load_average()})")
    print(
        f"  {'server':28} {'RSS before':>10} {'after':>9} {'KiB/conn':>9} {'× sa':>6}"
        f" {'CPU %':>7} {'× sa':>6} {'dropped':>7}"
    )
    for name, row in rows.items():
        memory, cpu = row["kib_per_connection"], row["cpu_percent"]
        print(
            f"  {name:28} {row['before_mib']:8.1f} MB {row['after_mib']:7.1f} MB"
            f" {memory:9.1f} {memory / base['kib_per_connection']:6.2f}"
            f" {cpu:7.2f} {cpu / max(base['cpu_percent'], 1e-9):6.2f} {row['dropped']:7.0f}"
        )
    print("  (× sa: ratio to the standalone asyncio server of this run)")


# --- the standalone server ------------------------------------------------------------------


def serve_standalone(port: int, ping_interval: float, loop: str) -> None:
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))  # stopped by the benchmark: at once
    raise_fd_limit()
    from websockets.asyncio.server import ServerConnection, serve

    async def echo(websocket: ServerConnection) -> None:
        async for frame in websocket:
            await websocket.send(frame)

    async def run() -> None:
        async with serve(
            echo,
            "127.0.0.1",
            port,
            subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
            compression=None,
            ping_interval=ping_interval,
            ping_timeout=ping_interval,
            backlog=2048,
        ) as server:
            await server.serve_forever()

    if loop == "uvloop":
        import uvloop

        uvloop.run(run())
    else:
        asyncio.run(run())


if __name__ == "__main__":
    main()
