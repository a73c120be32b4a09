"""`python manage.py ocpp_gateway` as its own process: it serves charge points, gives one up
to a newer connection at another gateway process, and stops cleanly on SIGTERM."""

import json
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from chargers import calls
from chargers.models import CallState, ChargePointCall
from tests.chargers.gatewayrunner import (
    HEARTBEATS,
    GatewayProcess,
    RunningGateway,
    call,
    charge_point,
    connect_as,
    eventually,
    row,
    use_handlers,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def process(tmp_path: Path) -> Iterator[GatewayProcess]:
    gateway = GatewayProcess("gw-process", tmp_path, {"OCPP_GATEWAY_POLL_SECONDS": "0.1"})
    try:
        yield gateway
    finally:
        gateway.process.stop()


def test_the_command_serves_and_stops_on_sigterm(process: GatewayProcess) -> None:
    charge_point("REMOTE")

    with connect_as(process.url("REMOTE")) as websocket:
        # No handler is needed to see a frame travel: an unknown action is answered.
        assert call(websocket, "1", "NoSuchAction", {})[:3] == [4, "1", "NotImplemented"]
        assert row("REMOTE").gateway == "gw-process"

        process.process.popen.send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(timeout=10)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001
    assert process.process.popen.wait(10) == 0
    assert row("REMOTE").gateway == ""
    assert "OCPP gateway gw-process stopped" in process.process.log()


def test_a_newer_connection_at_another_process_closes_this_ones(
    process: GatewayProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_handlers(monkeypatch, HEARTBEATS)
    charge_point("ROAMING")

    with connect_as(process.url("ROAMING")) as there:
        assert call(there, "1", "NoSuchAction", {})[0] == 4
        there_number = row("ROAMING").connection
        with RunningGateway("gw-here") as here, connect_as(here.url("ROAMING")) as websocket:
            assert call(websocket, "2", "Heartbeat", {})[0] == 3
            with pytest.raises(ConnectionClosed) as closed:
                there.recv(timeout=10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4000
            # The process's disconnection left the row to the newer connection.
            gone = f"Charge point <Link ROAMING #{there_number} 1.6> disconnected"
            eventually(lambda: gone in process.process.log())
            replaced = row("ROAMING")
            assert (replaced.gateway, replaced.connection) == ("gw-here", there_number + 1)
            assert call(websocket, "3", "Heartbeat", {})[0] == 3


def answer_calls(websocket: Any, answers: dict[str, Any], count: int) -> list[list[Any]]:
    """Play a charge point that answers `count` CALLs with answers[action]; the CALLs seen."""
    seen = []
    for _ in range(count):
        frame = json.loads(websocket.recv(timeout=10))
        seen.append(frame)
        websocket.send(json.dumps([3, frame[1], answers[frame[2]]]))
    return seen


def test_a_call_reaches_a_charge_point_held_by_another_gateway_process(
    process: GatewayProcess,
) -> None:
    """The issue's "call to a charge point held by another gateway process": this process
    (a web request, a Celery task, the admin) calls; the gateway process holds the websocket."""
    cp = charge_point("ELSEWHERE")

    with connect_as(process.url("ELSEWHERE")) as websocket:
        eventually(lambda: row("ELSEWHERE").gateway == "gw-process")
        with ThreadPoolExecutor(1) as charge_point_side:
            seen = charge_point_side.submit(
                answer_calls, websocket, {"TriggerMessage": {"status": "Accepted"}}, 2
            )
            first = calls.trigger_message(row("ELSEWHERE"), "StatusNotification", timeout=10)
            second = calls.wait(first)
            third = calls.call(
                row("ELSEWHERE"), "TriggerMessage", {"requestedMessage": "Heartbeat"}
            )
            frames = seen.result(10)

    assert (second.state, second.response) == (CallState.ANSWERED, {"status": "Accepted"})
    assert (third.state, third.response) == (CallState.ANSWERED, {"status": "Accepted"})
    assert [frame[:3] for frame in frames] == [
        [2, str(first.id), "TriggerMessage"],
        [2, str(third.id), "TriggerMessage"],
    ]
    assert frames[0][3] == {"requestedMessage": "StatusNotification"}
    assert ChargePointCall.objects.filter(charge_point=cp, state=CallState.ANSWERED).count() == 2


def test_a_call_the_charge_point_refuses_is_failed_with_its_error(
    process: GatewayProcess,
) -> None:
    charge_point("REFUSER")

    with connect_as(process.url("REFUSER")) as websocket:
        eventually(lambda: row("REFUSER").gateway == "gw-process")
        with ThreadPoolExecutor(1) as charge_point_side:

            def refuse() -> None:
                frame = json.loads(websocket.recv(timeout=10))
                websocket.send(json.dumps([4, frame[1], "NotSupported", "no resets here", {}]))

            refused = charge_point_side.submit(refuse)
            done = calls.reset(row("REFUSER"), hard=False, timeout=10)
            done = calls.wait(done)
            refused.result(10)

    assert (done.state, done.error_code, done.error_description) == (
        CallState.FAILED,
        "NotSupported",
        "no resets here",
    )
