"""A call made here is answered through a gateway in another OS process, on the same database.

The other process (`serve()`, started with `python -c`) runs OutgoingCalls in its own event loop
and holds the charge point with a fake link that answers every CALL after a short delay; this
process makes calls the way a web request would and runs no gateway at all. With Redis the
other process polls the database only every FAR_POLL_SECONDS, so answers well within that
prove the wake-up went through Redis; without Redis it polls often (the embedded mode's only
wake-up).
"""

import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from chargers import calls
from chargers.gateway.outgoing import OutgoingCalls
from chargers.models import CallState, ChargePoint, ChargePointCall
from tests.chargers.test_calls_gateway import AnsweringLink
from tests.live import LiveProcess
from tests.push.worker import run_database_url

pytestmark = pytest.mark.django_db(transaction=True)

IDENTITY = "CP-FAR"
GATEWAY = "gw-far"
READY = "gateway ready"
FAR_POLL_SECONDS = 5.0 if settings.REDIS_URL else 0.2


def serve(identity: str, gateway_id: str) -> None:
    """The other process's main: hold `identity` and answer every call, until killed."""

    async def main() -> None:
        outgoing = OutgoingCalls(gateway_id)
        charge_point = await sync_to_async(ChargePoint.objects.get)(identity=identity)
        link = AnsweringLink(identity, charge_point.pk, outgoing=outgoing, delay=0.02)
        outgoing.held(identity, link)
        running = asyncio.create_task(outgoing.run())
        if settings.REDIS_URL:  # a wake-up published before the subscription is not heard
            assert await asyncio.to_thread(outgoing.listening.wait, 10)
        print(READY, flush=True)  # noqa: T201
        await running

    asyncio.run(main())


@pytest.fixture
def far_gateway(transactional_db: None, tmp_path: Path) -> Iterator[LiveProcess]:
    ChargePoint.objects.create(identity=IDENTITY, gateway=GATEWAY, connected_version="1.6")
    script = (
        "import django; django.setup(); "
        "from tests.chargers.test_calls_process import serve; "
        f"serve({IDENTITY!r}, {GATEWAY!r})"
    )
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": run_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "VAR_DIR": str(settings.VAR_DIR),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "OCPP_CALL_POLL_SECONDS": str(FAR_POLL_SECONDS),
        "PYTHONUNBUFFERED": "1",
    }
    process = LiveProcess(
        "far gateway", [sys.executable, "-c", script], environment, tmp_path / "gateway.log"
    )
    try:
        deadline = time.monotonic() + 30
        while READY not in process.log_path.read_text(errors="replace"):
            if not process.running() or time.monotonic() > deadline:
                raise process.fail("did not get ready")
            time.sleep(0.05)
        yield process
    finally:
        process.stop()
        process.popen.wait(timeout=10)


def test_a_call_is_answered_through_a_gateway_in_another_process(
    far_gateway: LiveProcess,
) -> None:
    charge_point = ChargePoint.objects.get(identity=IDENTITY)
    for requested in ("StatusNotification", "Heartbeat", "MeterValues"):
        started = time.monotonic()
        done = calls.call(charge_point, "TriggerMessage", {"requestedMessage": requested})

        assert (done.state, done.response) == (CallState.ANSWERED, {"status": "Accepted"})
        assert time.monotonic() - started < FAR_POLL_SECONDS / 2 + 1.0


def test_calls_from_several_threads_go_out_one_at_a_time(far_gateway: LiveProcess) -> None:
    charge_point = ChargePoint.objects.get(identity=IDENTITY)
    made: list[ChargePointCall] = []

    def caller() -> None:
        try:
            made.append(calls.reset(charge_point, hard=False))
        finally:
            connection.close()

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(made) == 4
    done = [calls.wait(call, timeout=20) for call in made]

    assert [call.state for call in done] == [CallState.ANSWERED] * 4
    # Never two outstanding. (Their order is the order their rows became visible, which
    # concurrent transactions need not commit in created_at order.)
    spans = sorted(span(call) for call in done)
    for (_, earlier_end), (later_start, _) in zip(spans, spans[1:], strict=False):
        assert later_start >= earlier_end


def test_a_call_to_a_charge_point_whose_gateway_died_times_out(far_gateway: LiveProcess) -> None:
    far_gateway.popen.send_signal(signal.SIGKILL)
    far_gateway.popen.wait(timeout=10)

    done = calls.call(
        ChargePoint.objects.get(identity=IDENTITY), "Reset", {"type": "Hard"}, timeout=0.5
    )

    assert (done.state, done.sent_at) == (CallState.TIMED_OUT, None)


def span(call: ChargePointCall) -> tuple[datetime, datetime]:
    """When it went out and when it ended."""
    assert call.sent_at is not None
    assert call.finished_at is not None
    return call.sent_at, call.finished_at
