"""The floor of the OCPP benchmarks: a central system on the `ocpp` library that answers every
CALL and does nothing else; and its own figures.

    python bench/ocpp_floor.py [--connections 50] [--seconds 10] [--clients 1]
    python bench/ocpp_floor.py --port P [--validation executor|inline|off] [--control]

With --port it serves ws://127.0.0.1:P/ocpp/<identity>: `websockets.asyncio.server.serve`
(compression off, the server pinging every --ping-interval s), an `ocpp.v16.ChargePoint` or
`ocpp.v201.ChargePoint` subclass per connection by its subprotocol, with an @on handler for
each action the benchmarks send that answers at once (StartTransaction: the next
transaction id). --validation: the library's schema validation in its executor thread (its
default, ASYNC_VALIDATION), inline on the event loop (ASYNC_VALIDATION = False), or off
(skip_schema_validation on every handler and call). With --control it reads commands on
stdin: `calls N ACTION` sends N TriggerMessage CALLs one after another, round robin over
the connected charge points, and prints their round-trip times (s) as one JSON line: the
floor of a command round trip (bench/ocpp_command_roundtrip.py).

Without --port it measures the floor's throughput: for Heartbeat and MeterValues (a
transaction started first), --connections simulated charge points (bench/ocpp_load.py)
each send the next CALL as soon as the last is answered, for --seconds, against a bare
websockets echo (bench/ocpp_placement.py's standalone server) and the floor with each
validation; messages/s, the server's CPU per message, response times, ratios to the echo.
"""

import argparse
import asyncio
import itertools
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, ocpp_platform  # noqa: E402
from bench.ocpp_load import raise_fd_limit  # noqa: E402

HEARTBEAT_INTERVAL = 300


def central_systems(skip: bool) -> dict[str, type]:
    """The floor's ChargePoint class for each subprotocol."""
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint as ChargePoint16
    from ocpp.v16 import call_result as result16
    from ocpp.v201 import ChargePoint as ChargePoint201
    from ocpp.v201 import call_result as result201

    transaction_ids = itertools.count(1)
    accepted = {"status": "Accepted"}

    def now() -> str:
        return datetime.now(UTC).isoformat()

    class Floor16(ChargePoint16):
        @on("BootNotification", skip_schema_validation=skip)
        def on_boot(self, **_: Any) -> Any:
            return result16.BootNotification(now(), HEARTBEAT_INTERVAL, "Accepted")

        @on("Heartbeat", skip_schema_validation=skip)
        def on_heartbeat(self, **_: Any) -> Any:
            return result16.Heartbeat(now())

        @on("StatusNotification", skip_schema_validation=skip)
        def on_status(self, **_: Any) -> Any:
            return result16.StatusNotification()

        @on("Authorize", skip_schema_validation=skip)
        def on_authorize(self, **_: Any) -> Any:
            return result16.Authorize(accepted)

        @on("StartTransaction", skip_schema_validation=skip)
        def on_start(self, **_: Any) -> Any:
            return result16.StartTransaction(next(transaction_ids), accepted)

        @on("MeterValues", skip_schema_validation=skip)
        def on_meter(self, **_: Any) -> Any:
            return result16.MeterValues()

        @on("StopTransaction", skip_schema_validation=skip)
        def on_stop(self, **_: Any) -> Any:
            return result16.StopTransaction(accepted)

    class Floor201(ChargePoint201):
        @on("BootNotification", skip_schema_validation=skip)
        def on_boot(self, **_: Any) -> Any:
            return result201.BootNotification(now(), HEARTBEAT_INTERVAL, "Accepted")

        @on("Heartbeat", skip_schema_validation=skip)
        def on_heartbeat(self, **_: Any) -> Any:
            return result201.Heartbeat(now())

        @on("StatusNotification", skip_schema_validation=skip)
        def on_status(self, **_: Any) -> Any:
            return result201.StatusNotification()

        @on("Authorize", skip_schema_validation=skip)
        def on_authorize(self, **_: Any) -> Any:
            return result201.Authorize(accepted)

        @on("TransactionEvent", skip_schema_validation=skip)
        def on_transaction(self, **_: Any) -> Any:
            return result201.TransactionEvent()

        @on("MeterValues", skip_schema_validation=skip)
        def on_meter(self, **_: Any) -> Any:
            return result201.MeterValues()

    return {"ocpp1.6": Floor16, "ocpp2.0.1": Floor201}


def serve(port: int, validation: str, ping_interval: float, control: bool) -> None:
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))  # stopped by the benchmark: at once
    raise_fd_limit()
    import ocpp.messages
    from websockets.asyncio.server import ServerConnection
    from websockets.asyncio.server import serve as websockets_serve
    from websockets.exceptions import ConnectionClosed

    ocpp.messages.ASYNC_VALIDATION = validation == "executor"
    classes = central_systems(skip=validation == "off")
    connected: dict[str, Any] = {}

    async def handle(websocket: ServerConnection) -> None:
        identity = (websocket.request.path if websocket.request else "").rsplit("/", 1)[-1]
        point = classes[websocket.subprotocol or "ocpp1.6"](identity, websocket)
        connected[identity] = point
        try:
            await point.start()
        except ConnectionClosed:
            pass
        finally:
            if connected.get(identity) is point:
                del connected[identity]

    async def trigger(count: int, requested: str) -> list[float]:
        from ocpp.v16 import call as call16
        from ocpp.v201 import call as call201

        times = []
        points = itertools.cycle(list(connected.values()))
        for _ in range(count):
            point = next(points)
            if point._ocpp_version == "1.6":  # noqa: SLF001 (the library's own attribute)
                request: Any = call16.TriggerMessage(requested_message=requested)
            else:
                request = call201.TriggerMessage(requested_message=requested)
            started = time.perf_counter()
            await point.call(request, skip_schema_validation=validation == "off")
            times.append(time.perf_counter() - started)
        return times

    async def commands() -> None:
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            words = line.split()
            if words and words[0] == "calls":
                times = await trigger(int(words[1]), words[2] if len(words) > 2 else "Heartbeat")
                print(json.dumps(times), flush=True)

    async def run() -> None:
        async with websockets_serve(
            handle,
            "127.0.0.1",
            port,
            subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
            compression=None,
            ping_interval=ping_interval,
            ping_timeout=ping_interval,
            backlog=2048,
        ) as server:
            if control:
                await commands()
            else:
                await server.serve_forever()

    asyncio.run(run())


# --- the floor's own figures -----------------------------------------------------------------


def throughput(
    server: ocpp_platform.Process, action: str, args: argparse.Namespace, echo: bool
) -> dict[str, float]:
    spec = {
        "url": server.url,
        "identities": [f"FLOOR-{n:04d}" for n in range(args.connections)],
        "version": args.ocpp,
        "action": action,
        "boot": not echo,
        "echo": echo,
        "charging_every": 1 if action == "Meter" else 0,
        "id_tag": ocpp_platform.ID_TAG,
    }
    return ocpp_platform.closed_loop(server, spec, args.seconds, args.clients)


def measure_floor(args: argparse.Namespace) -> None:
    echo = [harness.PYTHON, str(harness.BENCH / "ocpp_placement.py"), "--serve", "{port}"]
    print(
        f"# {args.connections} charge points (OCPP {args.ocpp}), each one CALL outstanding, "
        f"{args.seconds:g} s per figure, {args.clients} load process(es) "
        f"(load {ocpp_platform.load_average()})"
    )
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for action in ("Heartbeat", "Meter"):
        with ocpp_platform.serving("echo", echo, ocpp_platform.env()) as server:
            rows[("bare websockets echo", action)] = throughput(server, action, args, echo=True)
        for validation in ("off", "inline", "executor"):
            with ocpp_platform.floor(validation) as server:
                name = f"ocpp floor, validation {validation}"
                rows[(name, action)] = throughput(server, action, args, echo=False)
    print(f"\n## Floor throughput (load {ocpp_platform.load_average()})")
    print(
        f"  {'server':34} {'action':10} {'msg/s':>8} {'× echo':>7} {'CPU µs/msg':>11}"
        f" {'× echo':>7} {'CPU %':>6} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
    )
    for (name, action), row in rows.items():
        base = rows[("bare websockets echo", action)]
        print(
            f"  {name:34} {action:10} {row['rate']:8.0f} {row['rate'] / base['rate']:7.2f}"
            f" {row['cpu_us']:11.0f} {row['cpu_us'] / base['cpu_us']:7.2f}"
            f" {row['cpu_percent']:6.0f} {row['p50']:7.2f} {row['p99']:7.2f} {row['errors']:6.0f}"
        )
    print("  (Meter: MeterValues, 1.6; TransactionEvent Updated, 2.0.1)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, help="serve on this port (else: measure)")
    parser.add_argument("--validation", choices=["executor", "inline", "off"], default="executor")
    parser.add_argument("--ping-interval", type=float, default=20.0)
    parser.add_argument("--control", action="store_true", help="read commands on stdin")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--clients", type=int, default=1, help="load processes")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ocpp", choices=["1.6", "2.0.1"], default="1.6")
    args = parser.parse_args()
    if args.port is not None:
        serve(args.port, args.validation, args.ping_interval, args.control)
    else:
        measure_floor(args)


if __name__ == "__main__":
    main()
