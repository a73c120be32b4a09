"""`python manage.py ocpp_gateway` as its own process: it serves charge points, gives one up
to a newer connection at another gateway process, and stops cleanly on SIGTERM."""

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

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
