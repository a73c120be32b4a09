"""Simulated charge points for the OCPP benchmarks, in processes of their own.

Each charge point is a raw `websockets` asyncio client (no `ocpp` library, no compression)
sending OCPP-J frames filled into templates written once: the load costs the client as
little as it can, and runs in other processes than the server, so that the server's CPU and
memory (/proc/<pid>) are its own. A charge point keeps to OCPP-J's rule of one CALL
outstanding at a time, answers the CALLs the server sends it ({"status": "Accepted"}) and
times each of its own CALLs from the send to its CALLRESULT or CALLERROR.

`Load(spec, processes)` starts the processes (`python bench/ocpp_load.py`, the spec as the
first line of stdin) and drives them over stdin/stdout, one JSON line each way:

    setup   (at start)  connect, BootNotification, a StatusNotification per connector, a
                        StartTransaction on connector 1 of every `charging_every`-th one
                        (idTag: `id_tag` formatted with its index); "ready"
    go [ACTION]         start the `work`: idle (hold the connections), rates (heartbeat,
                        status and meter values at their intervals; with ACTION, that one
                        alone: Heartbeat, StatusNotification or Meter), loop (the `action`
                        back to back) or storm (connect within `storm_seconds`, boot, status
                        per connector, then hold); "started"
    wait                (storm) until every charge point has booted and reported; "done"
    stop                end the work (each charge point's current CALL is answered first);
                        "result" (counts, response times by action)
    quit                close the connections and exit

Beyond ~28,000 connections to one address a client runs out of source ports: charge points
beyond `PORTS_PER_SOURCE` bind 127.0.0.2, 127.0.0.3, ... (loopback answers them all).
"""

import asyncio
import base64
import contextlib
import json
import random
import resource
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

PORTS_PER_SOURCE = 25_000
CONNECT_CONCURRENCY = 200  # handshakes in flight per process during set-up
ANSWER_TIMEOUT = 60.0
# The storm's handshakes, timed as a CALL is (in latencies, but no CALL).
CONNECT = "connect"


def raise_fd_limit() -> int:
    """Allow this process as many open files as the hard limit does (each socket is one)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- frames -----------------------------------------------------------------------------------


class Frames16:
    """OCPP 1.6J CALLs; `n` is the message id, the rest the payload's variable parts."""

    version = "1.6"

    @staticmethod
    def boot(n: int, serial: str) -> str:
        return (
            f'[2,"{n}","BootNotification",{{"chargePointVendor":"Bench","chargePointModel":'
            f'"Load","chargePointSerialNumber":"{serial}","firmwareVersion":"1.0.0"}}]'
        )

    @staticmethod
    def heartbeat(n: int) -> str:
        return f'[2,"{n}","Heartbeat",{{}}]'

    @staticmethod
    def status(n: int, connector: int, status: str) -> str:
        return (
            f'[2,"{n}","StatusNotification",{{"connectorId":{connector},"errorCode":"NoError",'
            f'"status":"{status}","timestamp":"{iso_now()}"}}]'
        )

    @staticmethod
    def start(n: int, connector: int, id_tag: str, meter_wh: int, transaction: str) -> str:
        return (
            f'[2,"{n}","StartTransaction",{{"connectorId":{connector},"idTag":"{id_tag}",'
            f'"meterStart":{meter_wh},"timestamp":"{iso_now()}"}}]'
        )

    @staticmethod
    def meter(n: int, connector: int, transaction: str, seq: int, wh: int, w: int) -> str:
        return (
            f'[2,"{n}","MeterValues",{{"connectorId":{connector},"transactionId":{transaction},'
            f'"meterValue":[{{"timestamp":"{iso_now()}","sampledValue":['
            f'{{"value":"{wh}","context":"Sample.Periodic","measurand":'
            f'"Energy.Active.Import.Register","unit":"Wh"}},'
            f'{{"value":"{w}","context":"Sample.Periodic","measurand":"Power.Active.Import",'
            f'"unit":"W"}},{{"value":"{40 + seq % 60}","context":"Sample.Periodic",'
            f'"measurand":"SoC","location":"EV","unit":"Percent"}}]}}]}}]'
        )

    @staticmethod
    def transaction_of(answer: dict[str, Any], chosen: str) -> str:
        return str(answer["transactionId"])


class Frames201:
    """OCPP 2.0.1 CALLs; transactions are TransactionEvents with the id the station chose."""

    version = "2.0.1"

    @staticmethod
    def boot(n: int, serial: str) -> str:
        return (
            f'[2,"{n}","BootNotification",{{"chargingStation":{{"model":"Load",'
            f'"vendorName":"Bench","serialNumber":"{serial}","firmwareVersion":"1.0.0"}},'
            f'"reason":"PowerUp"}}]'
        )

    @staticmethod
    def heartbeat(n: int) -> str:
        return f'[2,"{n}","Heartbeat",{{}}]'

    @staticmethod
    def status(n: int, connector: int, status: str) -> str:
        status = {"Charging": "Occupied", "Preparing": "Occupied"}.get(status, status)
        return (
            f'[2,"{n}","StatusNotification",{{"timestamp":"{iso_now()}","connectorStatus":'
            f'"{status}","evseId":{connector},"connectorId":1}}]'
        )

    @staticmethod
    def start(n: int, connector: int, id_tag: str, meter_wh: int, transaction: str) -> str:
        return (
            f'[2,"{n}","TransactionEvent",{{"eventType":"Started","timestamp":"{iso_now()}",'
            f'"triggerReason":"Authorized","seqNo":0,"transactionInfo":{{"transactionId":'
            f'"{transaction}","chargingState":"Charging"}},"idToken":{{"idToken":"{id_tag}",'
            f'"type":"ISO14443"}},"evse":{{"id":{connector},"connectorId":1}},"meterValue":'
            f'[{{"timestamp":"{iso_now()}","sampledValue":[{{"value":{meter_wh},"measurand":'
            f'"Energy.Active.Import.Register","unitOfMeasure":{{"unit":"Wh"}}}}]}}]}}]'
        )

    @staticmethod
    def meter(n: int, connector: int, transaction: str, seq: int, wh: int, w: int) -> str:
        return (
            f'[2,"{n}","TransactionEvent",{{"eventType":"Updated","timestamp":"{iso_now()}",'
            f'"triggerReason":"MeterValuePeriodic","seqNo":{seq},"transactionInfo":'
            f'{{"transactionId":"{transaction}","chargingState":"Charging"}},"meterValue":'
            f'[{{"timestamp":"{iso_now()}","sampledValue":[{{"value":{wh},"context":'
            f'"Sample.Periodic","measurand":"Energy.Active.Import.Register","unitOfMeasure":'
            f'{{"unit":"Wh"}}}},{{"value":{w},"context":"Sample.Periodic","measurand":'
            f'"Power.Active.Import","unitOfMeasure":{{"unit":"W"}}}}]}}]}}]'
        )

    @staticmethod
    def transaction_of(answer: dict[str, Any], chosen: str) -> str:
        return chosen


FRAMES: dict[str, type[Frames16] | type[Frames201]] = {"1.6": Frames16, "2.0.1": Frames201}


# --- one process's charge points --------------------------------------------------------------


@dataclass
class Tally:
    """What one process's charge points saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    connect_failures: int = 0
    refused: int = 0  # handshakes refused with HTTP 503 and a Retry-After (come back later)
    waited: list[float] = field(default_factory=list)  # first try → connected, if refused
    dropped: int = 0
    calls_answered: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    last_answer_at: float = 0.0
    recording: bool = True

    def failed(self, what: str, detail: str) -> None:
        self.errors[what] += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{what}: {detail[:300]}")


class CallFailed(Exception):
    """A CALLERROR, a timeout or a closed connection instead of a CALLRESULT."""


class Point:
    """One simulated charge point."""

    def __init__(self, identity: str, index: int, spec: dict[str, Any], tally: Tally) -> None:
        self.identity = identity
        self.index = index
        self.spec = spec
        self.tally = tally
        self.frames = FRAMES[spec["version"]]
        self.connectors = int(spec.get("connectors", 1))
        every = int(spec.get("charging_every", 0))  # every n-th charge point charges
        self.charging = bool(every) and index % every == 0
        self.echo = bool(spec.get("echo"))  # the server sends our frames back
        self.stopping = asyncio.Event()  # set by "stop": the work ends after its current CALL
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.waiting: asyncio.Future[list[Any]] | None = None
        self.counter = 0
        self.transaction = ""
        self.seq = 0
        self.wh = 0
        self.come_back_in: int | None = None  # the last refusal's Retry-After, in seconds

    def next_id(self) -> int:
        self.counter += 1
        return self.counter

    async def connect(self) -> bool:
        headers = {}
        if self.spec.get("password"):
            secret = f"{self.identity}:{self.spec['password']}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(secret).decode()
        source = 1 + self.index // PORTS_PER_SOURCE
        try:
            self.ws = await connect(
                self.spec["url"] + self.identity,
                subprotocols=[f"ocpp{self.spec['version']}"],  # type: ignore[list-item]
                additional_headers=headers,
                compression=None,
                proxy=None,
                open_timeout=ANSWER_TIMEOUT,
                ping_interval=None,  # the server pings; the client only answers
                close_timeout=2,
                user_agent_header=None,
                local_addr=(f"127.0.0.{source}", 0),
            )
        except InvalidStatus as exc:
            told = exc.response.headers.get("Retry-After", "")
            if exc.response.status_code == 503 and told.isdigit():  # a storm spread out
                self.come_back_in = int(told)
                self.tally.refused += 1
                return False
            self.tally.connect_failures += 1
            self.tally.failed("connect", f"HTTP {exc.response.status_code} {exc}")
            return False
        # WebSocketException: a handshake the server closed (its open timeout)
        except (OSError, TimeoutError, WebSocketException) as exc:
            self.tally.connect_failures += 1
            self.tally.failed("connect", f"{type(exc).__name__} {exc}")
            return False
        self.reader = asyncio.create_task(self.read())
        return True

    async def connect_in_turn(self) -> bool:
        """connect, coming back when a gateway spreading a storm says (HTTP 503 Retry-After), as
        a charge point would; the handshake that succeeds is timed (CONNECT), and the whole
        wait when it was refused first."""
        first_try = connecting = time.perf_counter()
        self.come_back_in = None
        while not await self.connect():
            if self.come_back_in is None:  # failed, not told to come back
                return False
            # at its moment, not all in the same millisecond
            if not await self.pause(self.come_back_in + random.random()):
                return False
            self.come_back_in = None
            connecting = time.perf_counter()
        if connecting != first_try:
            self.tally.waited.append(time.perf_counter() - first_try)
        self.tally.latencies[CONNECT].append(time.perf_counter() - connecting)
        return True

    async def read(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                message = json.loads(frame)
                if message[0] == 2 and not self.echo:
                    self.tally.calls_answered[message[2]] += 1
                    await self.ws.send(json.dumps([3, message[1], {"status": "Accepted"}]))
                elif self.waiting is not None and not self.waiting.done():
                    self.waiting.set_result(message)
        except ConnectionClosed:
            pass
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_exception(CallFailed("connection closed"))
        if not self.tally.recording:
            return
        self.tally.dropped += 1

    async def call(self, action: str, frame: str) -> dict[str, Any]:
        """Send one CALL and wait for its answer; record how long it took."""
        if self.ws is None:
            raise CallFailed("not connected")
        self.waiting = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        try:
            await self.ws.send(frame)
            answer = await asyncio.wait_for(self.waiting, ANSWER_TIMEOUT)
        except (ConnectionClosed, TimeoutError, CallFailed) as exc:
            self.tally.failed(action, f"{type(exc).__name__} {exc}")
            raise CallFailed(action) from exc
        elapsed = time.perf_counter() - started
        if answer[0] != 3 and not self.echo:
            self.tally.failed(action, json.dumps(answer))
            raise CallFailed(action)
        if self.tally.recording:
            self.tally.latencies[action].append(elapsed)
            self.tally.last_answer_at = time.time()
        payload: dict[str, Any] = answer[2]
        return payload

    async def boot(self) -> None:
        await self.call("BootNotification", self.frames.boot(self.next_id(), self.identity))

    async def statuses(self, status: str) -> None:
        for connector in range(1, self.connectors + 1):
            frame = self.frames.status(self.next_id(), connector, status)
            await self.call("StatusNotification", frame)

    async def start_transaction(self) -> None:
        chosen = str(random.randrange(10**9))  # 2.0.1: the station's transactionId
        id_tag = self.spec["id_tag"].format(index=self.index)
        frame = self.frames.start(self.next_id(), 1, id_tag, self.wh, chosen)
        answer = await self.call("Start", frame)
        self.transaction = chosen if self.echo else self.frames.transaction_of(answer, chosen)

    def meter_frame(self) -> str:
        self.seq += 1
        self.wh += 37  # about 11 kW over a 12 s sample: plausible whatever the rate
        return self.frames.meter(self.next_id(), 1, self.transaction, self.seq, self.wh, 11000)

    async def set_up(self) -> bool:
        if not await self.connect_in_turn():
            return False
        try:
            if self.spec.get("boot", True):
                await self.boot()
                await self.statuses(self.spec.get("status", "Available"))
            elif self.spec.get("hello"):  # one frame each way, as a connection in use has
                await self.call("Heartbeat", self.frames.heartbeat(self.next_id()))
            if self.charging:
                await self.start_transaction()
        except CallFailed:
            return False
        return True

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await self.reader

    # --- work -------------------------------------------------------------------------------

    async def loop(self, action: str) -> None:
        """`action` back to back until stopped."""
        make: Callable[[], str] = (
            self.meter_frame if action == "Meter" else lambda: self.frames.heartbeat(self.next_id())
        )
        with contextlib.suppress(CallFailed):
            while not self.stopping.is_set():
                await self.call(action, make())

    async def pause(self, seconds: float) -> bool:
        """Sleep `seconds`; False if stopped meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), max(0.0, seconds))
            return False
        return True

    async def rates(self, speed: float, only: str = "") -> None:
        """Heartbeats, status changes and (charging) meter values at their intervals / speed,
        each starting at a random point of its interval so that the load is even; `only`: that
        action alone."""
        intervals = {
            "Heartbeat": self.spec["heartbeat_seconds"] / speed,
            "StatusNotification": self.spec["status_seconds"] / speed,
        }
        if self.charging:
            intervals["Meter"] = self.spec["meter_seconds"] / speed
        if only:
            intervals = {action: every for action, every in intervals.items() if action == only}
        if not intervals:
            return
        now = time.monotonic()
        due = {action: now + random.uniform(0, every) for action, every in intervals.items()}
        statuses = ["Available", "Unavailable"]
        changes = 0
        with contextlib.suppress(CallFailed):
            while True:
                action = min(due, key=due.__getitem__)
                if not await self.pause(due[action] - time.monotonic()):
                    return
                due[action] += intervals[action]
                if action == "Heartbeat":
                    await self.call(action, self.frames.heartbeat(self.next_id()))
                elif action == "Meter":
                    await self.call(action, self.meter_frame())
                else:
                    changes += 1
                    connector = 1 + changes % self.connectors
                    status = "Charging" if self.charging else statuses[changes % 2]
                    frame = self.frames.status(self.next_id(), connector, status)
                    await self.call(action, frame)

    async def storm(self, within: float, started: float) -> None:
        if not await self.pause(started + random.uniform(0, within) - time.monotonic()):
            return
        if not await self.connect_in_turn():
            return
        with contextlib.suppress(CallFailed):
            await self.boot()
            await self.statuses(self.spec.get("status", "Available"))


async def gather_limited(coroutines: list[Any], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def limited(coroutine: Any) -> Any:
        async with gate:
            return await coroutine

    return await asyncio.gather(*(limited(c) for c in coroutines))


async def commands() -> Any:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        yield line.strip() or "quit"


def say(**event: Any) -> None:
    print(json.dumps(event), flush=True)


async def run(spec: dict[str, Any]) -> None:
    raise_fd_limit()
    tally = Tally(recording=False)
    first = int(spec.get("first_index", 0))
    points = [
        Point(identity, first + n, spec, tally) for n, identity in enumerate(spec["identities"])
    ]
    work = spec["work"]
    ready = 0
    if work != "storm":
        results = await gather_limited([p.set_up() for p in points], CONNECT_CONCURRENCY)
        ready = sum(results)
    say(
        event="ready",
        ready=ready,
        connect_failures=tally.connect_failures,
        refused=tally.refused,
        errors=tally.errors,
        error_samples=tally.error_samples,
    )
    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    async for command in commands():
        command, _, argument = command.partition(" ")
        if command == "go":
            tally = Tally()
            for point in points:
                point.tally = tally
                point.stopping = asyncio.Event()
            started = time.perf_counter()
            if work == "loop":
                tasks = [asyncio.create_task(p.loop(spec["action"])) for p in points if p.ws]
            elif work == "rates":
                speed = float(spec.get("speed", 1.0))
                tasks = [asyncio.create_task(p.rates(speed, argument)) for p in points if p.ws]
            elif work == "storm":
                moment = time.monotonic()
                within = float(spec["storm_seconds"])
                tasks = [asyncio.create_task(p.storm(within, moment)) for p in points]
            say(event="started", at=time.time())
        elif command == "wait":  # the storm: until every charge point is done
            await asyncio.gather(*tasks)
            say(event="done", at=time.time())
        elif command == "stop":
            for point in points:
                point.stopping.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            tally.recording = False
            elapsed = time.perf_counter() - started
            say(
                event="result",
                seconds=elapsed,
                latencies={k: [round(v, 6) for v in vs] for k, vs in tally.latencies.items()},
                errors=tally.errors,
                error_samples=tally.error_samples,
                connect_failures=tally.connect_failures,
                refused=tally.refused,
                waited=[round(v, 3) for v in tally.waited],
                dropped=tally.dropped,
                calls_answered=tally.calls_answered,
                last_answer_at=tally.last_answer_at,
                connected=sum(1 for p in points if p.ws is not None),
            )
        elif command == "quit":
            tally.recording = False
            await gather_limited([p.close() for p in points], 1000)
            say(event="closed")
            return


# --- the parent's side ------------------------------------------------------------------------


class Load:
    """Charge points `identities` spread over `processes` load processes (see the module)."""

    def __init__(self, spec: dict[str, Any], processes: int = 1) -> None:
        identities: list[str] = spec["identities"]
        first = int(spec.get("first_index", 0))  # of identities[0]: its token, whether it charges
        share = -(-len(identities) // processes)
        self.processes: list[subprocess.Popen[str]] = []
        for n in range(processes):
            mine = identities[n * share : (n + 1) * share]
            if not mine:
                break
            part = {**spec, "identities": mine, "first_index": first + n * share}
            process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert process.stdin is not None
            process.stdin.write(json.dumps(part) + "\n")
            process.stdin.flush()
            self.processes.append(process)

    def tell(self, command: str) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(command + "\n")
            process.stdin.flush()

    def hear(self, event: str) -> list[dict[str, Any]]:
        heard = []
        for process in self.processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"a load process exited ({process.wait()}) before {event!r}")
            message: dict[str, Any] = json.loads(line)
            if message["event"] != event:
                raise RuntimeError(f"expected {event!r}, heard {message}")
            heard.append(message)
        return heard

    def ready(self) -> dict[str, Any]:
        return merge(self.hear("ready"))

    def go(self, only: str = "") -> float:
        """Start the work (`only`: that action alone, for work "rates")."""
        self.tell(f"go {only}".strip())
        return min(m["at"] for m in self.hear("started"))

    def wait(self) -> float:
        self.tell("wait")
        return max(m["at"] for m in self.hear("done"))

    def stop(self) -> dict[str, Any]:
        self.tell("stop")
        return merge(self.hear("result"))

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, RuntimeError):
            self.tell("quit")
            self.hear("closed")
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> "Load":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def merge(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from each process's: counts added, response times pooled."""
    merged: dict[str, Any] = {"latencies": defaultdict(list), "errors": defaultdict(int)}
    for message in messages:
        for key, value in message.items():
            if key == "latencies":
                for action, values in value.items():
                    merged["latencies"][action].extend(values)
            elif key in ("errors", "calls_answered"):
                into = merged.setdefault(key, defaultdict(int))
                for name, count in value.items():
                    into[name] += count
            elif key in ("error_samples", "waited"):
                merged.setdefault(key, []).extend(value)
            elif key in ("seconds", "last_answer_at", "at"):
                merged[key] = max(merged.get(key, 0.0), value)
            elif isinstance(value, int | float):
                merged[key] = merged.get(key, 0) + value
    return merged


def main() -> None:
    spec = json.loads(sys.stdin.readline())
    try:
        import uvloop

        uvloop.run(run(spec))
    except ImportError:
        asyncio.run(run(spec))


if __name__ == "__main__":
    main()
