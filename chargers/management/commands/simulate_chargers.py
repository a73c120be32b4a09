"""`python manage.py simulate_chargers [--count N] [--ocpp 1.6|2.0.1] [--url WS_BASE]
[--identity-prefix SIM] [--token UID] [--scenario …] [--meter-interval S] [--duration S]
[--once]`: simulated charge points (chargers.simulator) on the gateway, or on any central system."""

import asyncio
import logging
import signal
import threading
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chargers.models import OcppVersion
from chargers.provisioning import charge_point_url
from chargers.simulator.fleet import Fleet
from chargers.simulator.provision import simulated_charge_points
from chargers.simulator.scenarios import Behaviour, Scenario
from chargers.simulator.station import WIRE, EvseSpec, Options, StationSpec


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Simulated OCPP charge points. Without --url they are provisioned on free EVSEs of our "
        "estate (or those of an earlier run are reused, with new passwords) and connect to "
        "OCPP_BASE_URL: no other set-up. They boot, heartbeat, report status, answer remote "
        "start/stop, TriggerMessage, Reset, ChangeAvailability and UnlockConnector; with "
        "--token each charges once. Runs until Ctrl-C, or with --once until each has done its "
        "part. -v 2 shows every OCPP frame."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=1, help="How many charge points.")
        parser.add_argument("--ocpp", choices=OcppVersion.values, default=OcppVersion.V16)
        parser.add_argument(
            "--url",
            help="Connect to WS_BASE/ocpp/<identity> of another central system, whose charge "
            "points were provisioned there (nothing is provisioned here).",
        )
        parser.add_argument("--identity-prefix", default="SIM", help="Identities PREFIX-0001…")
        parser.add_argument("--password", help="With --url: every charge point's password.")
        parser.add_argument(
            "--evses", type=int, default=1, help="With --url: EVSEs of each charge point."
        )
        parser.add_argument("--token", help="Tap this token (uid) once at each charge point.")
        parser.add_argument(
            "--scenario", choices=[s.value for s in Scenario], default=Scenario.NORMAL.value
        )
        parser.add_argument(
            "--meter-interval", type=_seconds, default=10.0, help="Seconds between meter values."
        )
        parser.add_argument(
            "--duration", type=_seconds, default=60.0, help="Seconds a transaction charges."
        )
        parser.add_argument(
            "--once", action="store_true", help="End when each has done its part (finite run)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The library also logs each CALLERROR at WARNING: a station reports those itself.
        WIRE.setLevel(logging.INFO if options["verbosity"] > 1 else logging.ERROR)
        if options["count"] < 1 or options["evses"] < 1:
            raise CommandError("--count and --evses are at least 1.")
        if not options["url"] and options["password"]:
            raise CommandError("--password goes with --url: here each gets its own.")
        specs = self._specs(options)
        fleet = Fleet(
            specs,
            version=options["ocpp"],
            options=Options(
                behaviour=Behaviour.of(Scenario(options["scenario"])),
                meter_interval=options["meter_interval"],
                duration=options["duration"],
            ),
            print_line=self._line,
        )
        try:
            failures = asyncio.run(self._run(fleet, options["token"], options["once"]))
        except KeyboardInterrupt:
            self._line("stopped")
            return
        if failures:
            raise CommandError("Charge points that gave up:\n  " + "\n  ".join(failures))

    def _specs(self, options: dict[str, Any]) -> list[StationSpec]:
        prefix, count = options["identity_prefix"], options["count"]
        if options["url"]:
            evses = tuple(EvseSpec(n) for n in range(1, options["evses"] + 1))
            return [
                StationSpec(
                    identity=f"{prefix}-{n:04d}",
                    url=charge_point_url(f"{prefix}-{n:04d}", options["url"]),
                    password=options["password"],
                    evses=evses,
                )
                for n in range(1, count + 1)
            ]
        try:
            specs = simulated_charge_points(
                count=count, ocpp_version=options["ocpp"], prefix=prefix
            )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages)) from exc
        if not specs:
            raise CommandError(
                "No free EVSE to put a simulated charge point on: `manage.py seed_demo` makes "
                "an estate, or remove charge points in the admin."
            )
        if len(specs) < count:
            self._line(f"Only {len(specs)} charge points: our estate has no more free EVSEs.")
        for spec in specs:
            ids = ", ".join(str(evse.ocpp_id) for evse in spec.evses)
            self._line(f"{spec.identity}: {spec.url} (OCPP ids {ids})")
        return specs

    async def _run(self, fleet: Fleet, token: str | None, once: bool) -> list[str]:
        loop = asyncio.get_running_loop()
        # Signal handlers belong to the main thread (tests run commands in others).
        interruptible = threading.current_thread() is threading.main_thread()
        if interruptible:
            loop.add_signal_handler(signal.SIGINT, self._interrupted, fleet, loop)
        try:
            return await fleet.run(token=token, once=once)
        finally:
            if interruptible:
                loop.remove_signal_handler(signal.SIGINT)

    def _interrupted(self, fleet: Fleet, loop: asyncio.AbstractEventLoop) -> None:
        """First Ctrl-C: stop cleanly; the next one stops at once."""
        self._line("stopping: transactions end, queued messages go out (Ctrl-C again: at once)")
        loop.remove_signal_handler(signal.SIGINT)
        fleet.request_stop()

    def _line(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()
