"""N simulated charge points at once (`simulate_chargers`): one line per notable event, the
reconnect storm, a run that ends (finite: for tests and scripts) or lasts until stopped.

The reconnect storm is a site's power cut: every charge point drops its connection at once
and comes back within STORM_WINDOW seconds, booting and reporting every connector, as the
benchmarks' storm does (issue 12: 10,000 charge points within 10 s).
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from chargers.simulator.station import Options, Station, StationSpec
from chargers.simulator.v16 import Station16
from chargers.simulator.v201 import Station201

STATIONS: dict[str, type[Station]] = {"1.6": Station16, "2.0.1": Station201}
STORM_WINDOW = 3.0  # seconds within which every charge point is back
STORM_AFTER = 5.0  # a lasting run's storm comes this long after all are connected
UP_TIMEOUT = 60.0  # a finite run gives up on a charge point not accepted by then

Runs = dict[Station, "asyncio.Task[None]"]


class Fleet:
    def __init__(
        self,
        specs: list[StationSpec],
        *,
        version: str,
        options: Options,
        print_line: Callable[[str], None],
        storm_window: float = STORM_WINDOW,
        storm_after: float = STORM_AFTER,
        up_timeout: float = UP_TIMEOUT,
    ) -> None:
        self.options = options
        self.storm_window = storm_window
        self.storm_after = storm_after
        self.up_timeout = up_timeout
        self._print = print_line
        self._width = max((len(spec.identity) for spec in specs), default=0)
        self.stations = [STATIONS[version](spec, options, self._report) for spec in specs]
        self._stop = asyncio.Event()
        self._rng = random.Random(len(specs))  # noqa: S311 (a simulation, not secrets)

    def _report(self, identity: str, text: str) -> None:
        self._print(f"{time.strftime('%H:%M:%S')} {identity:<{self._width}}  {text}")

    def request_stop(self) -> None:
        """Stop cleanly (Ctrl-C): transactions are ended and delivered, then connections closed."""
        self._stop.set()

    async def run(self, *, token: str | None = None, once: bool = False) -> list[str]:
        """Run every station; with `once`, each does its part (boot, a charge with `token`, the
        scenario) and the run ends, otherwise it lasts until request_stop(). Returns why any
        charge point gave up."""
        runs: Runs = {station: asyncio.create_task(station.run()) for station in self.stations}
        work = asyncio.create_task(
            self._finite(runs, token) if once else self._until_gone(runs, token)
        )
        stop = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            work.cancel()
            stop.cancel()
            await asyncio.gather(work, stop, return_exceptions=True)
            await asyncio.gather(*(station.stop() for station in self.stations))
            outcomes = await asyncio.gather(*runs.values(), return_exceptions=True)
        crashed = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        if crashed:
            raise crashed[0]  # a station's own failure (a bug), not the central system's
        if work.done() and not work.cancelled():
            work.result()  # a failure of the run itself is raised
        return [f"{s.identity}: {s.failed}" for s in self.stations if s.failed]

    async def _finite(self, runs: Runs, token: str | None) -> None:
        stations = await self._all_up(runs, self.up_timeout)
        if self.options.behaviour.storm:
            await self._storm(stations)
            up = {station: runs[station] for station in stations}
            stations = await self._all_up(up, self.up_timeout)
        await asyncio.gather(*(self._part(station, runs[station], token) for station in stations))

    async def _part(self, station: Station, run: "asyncio.Task[None]", token: str | None) -> None:
        """A finite run's part of one station: a charge with `token`, or a heartbeat."""
        if token is None:
            await station.send_now(station.heartbeat_message())
        else:
            evse = station.tap(token)
            if evse is None:
                station.report(f"no free EVSE for {token}")
            elif evse.task is not None:
                await _while(run, evse.task)
        await _while(run, station.settled())

    async def _until_gone(self, runs: Runs, token: str | None) -> None:
        """A lasting run: until every station has given up (or request_stop())."""
        helpers = []
        if token is not None:
            helpers += [
                asyncio.create_task(self._tap_when_up(s, r, token)) for s, r in runs.items()
            ]
        if self.options.behaviour.storm:
            helpers.append(asyncio.create_task(self._storm_later(runs)))
        try:
            await asyncio.wait(runs.values())
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def _tap_when_up(self, station: Station, run: "asyncio.Task[None]", token: str) -> None:
        if await _up(station, run) and station.tap(token) is None:
            station.report(f"no free EVSE for {token}")

    async def _storm_later(self, runs: Runs) -> None:
        stations = await self._all_up(runs)
        await asyncio.sleep(self.storm_after)
        await self._storm(stations)

    async def _all_up(self, runs: Runs, timeout: float | None = None) -> list[Station]:
        """The stations accepted (within `timeout`: the others give up)."""
        ups = await asyncio.gather(*(_up(station, run, timeout) for station, run in runs.items()))
        for station, up in zip(runs, ups, strict=True):
            if not up and station.failed is None and timeout is not None:
                station.give_up(f"not accepted within {timeout:g} s")
        return [station for station, up in zip(runs, ups, strict=True) if up]

    async def _storm(self, stations: list[Station]) -> None:
        self._print(
            f"reconnect storm: {len(stations)} charge points drop their connections and are "
            f"back within {self.storm_window:g} s"
        )
        await asyncio.gather(
            *(
                station.reboot("reconnect storm", self._rng.uniform(0.1, self.storm_window))
                for station in stations
            )
        )


async def _up(station: Station, run: "asyncio.Task[None]", timeout: float | None = None) -> bool:
    """Until the station is connected and accepted (True), or has given up or is not
    accepted within `timeout` (False)."""
    try:
        return await _while(run, asyncio.wait_for(station.accepted.wait(), timeout)) is not None
    except TimeoutError:
        return False


async def _while(run: "asyncio.Task[None]", work: Awaitable[Any]) -> Any:
    """`work`'s result, or None when the station's run ends first (it gave up)."""
    task = asyncio.ensure_future(work)
    await asyncio.wait({task, run}, return_when=asyncio.FIRST_COMPLETED)
    if not task.done():
        task.cancel()
        return None
    return task.result()
