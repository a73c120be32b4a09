"""Connection state: a second connection replaces the first (in one gateway and across two),
idle connections are closed, a gateway clears its rows when it starts and stops, and the
presence and outgoing-call hooks hear of each connection."""

import asyncio
import json
import os
import socket
import subprocess
from concurrent.futures import Executor
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.db import DatabaseError
from pytest_django import DjangoAssertNumQueries
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK
from websockets.sync.client import ClientConnection

from chargers import connection_history, connections, presence
from chargers.gateway import server
from chargers.gateway.link import Link
from chargers.gateway.outgoing import OutgoingCalls
from chargers.models import ChargePoint
from tests.chargers.gatewayrunner import (
    HEARTBEATS,
    RunningGateway,
    call,
    charge_point,
    connect_as,
    eventually,
    receive,
    row,
    use_handlers,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    use_handlers(monkeypatch, HEARTBEATS)


@pytest.fixture
def fast_polls(settings: Any) -> None:
    settings.OCPP_GATEWAY_POLL_SECONDS = 0.1


def close_code(websocket: ClientConnection) -> int:
    """Wait for the gateway to close `websocket`; the code it closed with."""
    with pytest.raises(ConnectionClosed) as closed:
        read_until_closed(websocket)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def read_until_closed(websocket: ClientConnection) -> None:
    while True:
        websocket.recv(timeout=10)


def test_a_second_connection_replaces_the_first() -> None:
    charge_point("TWICE")

    with RunningGateway("gw-one") as gateway, connect_as(gateway.url("TWICE")) as first:
        call(first, "1", "Heartbeat", {})
        with connect_as(gateway.url("TWICE")) as second:
            assert call(second, "2", "Heartbeat", {})[:2] == [3, "2"]
            assert close_code(first) == server.CLOSE_REPLACED
            assert call(second, "3", "Heartbeat", {})[:2] == [3, "3"]
            recorded = row("TWICE")
            assert (recorded.gateway, recorded.connection) == ("gw-one", 2)


@pytest.mark.usefixtures("fast_polls")
def test_a_connection_at_another_gateway_replaces_this_ones() -> None:
    charge_point("ROAMER")

    with (
        RunningGateway("gw-a") as a,
        RunningGateway("gw-b") as b,
        connect_as(a.url("ROAMER")) as at_a,
    ):
        call(at_a, "1", "Heartbeat", {})
        with connect_as(b.url("ROAMER")) as at_b:
            call(at_b, "2", "Heartbeat", {})
            assert close_code(at_a) == server.CLOSE_REPLACED
            assert call(at_b, "3", "Heartbeat", {})[0] == 3
            # gw-a's close changed nothing: the row is gw-b's connection's.
            assert (row("ROAMER").gateway, row("ROAMER").connection) == ("gw-b", 2)


@pytest.mark.usefixtures("fast_polls")
def test_an_idle_connection_is_closed(settings: Any) -> None:
    settings.OCPP_IDLE_TIMEOUT_SECONDS = 0.3
    charge_point("QUIET", heartbeat_interval=0)

    with RunningGateway("gw-idle") as gateway, connect_as(gateway.url("QUIET")) as websocket:
        call(websocket, "1", "Heartbeat", {})
        assert close_code(websocket) == server.CLOSE_IDLE
    assert eventually(lambda: row("QUIET").gateway == "")


@pytest.mark.usefixtures("fast_polls")
def test_the_idle_limit_is_at_least_three_heartbeat_intervals(settings: Any) -> None:
    settings.OCPP_IDLE_TIMEOUT_SECONDS = 0.1
    charge_point("HEARTY", heartbeat_interval=300)

    with RunningGateway("gw-idle") as gateway, connect_as(gateway.url("HEARTY")) as websocket:
        call(websocket, "1", "Heartbeat", {})
        with pytest.raises(TimeoutError):
            websocket.recv(timeout=0.6)
        assert call(websocket, "2", "Heartbeat", {})[0] == 3


def test_a_starting_gateway_clears_the_rows_of_its_previous_life() -> None:
    charge_point("LEFTOVER", gateway="gw-phoenix", connection=7)
    charge_point("ELSEWHERE", gateway="gw-other", connection=3)

    with RunningGateway("gw-phoenix"):
        left = row("LEFTOVER")
        assert (left.gateway, left.connection) == ("", 7)
        assert left.disconnected_at is not None
        assert row("ELSEWHERE").gateway == "gw-other"


def test_a_stopping_gateway_closes_with_1001_and_clears_its_rows() -> None:
    charge_point("STAYS")

    with RunningGateway("gw-stopping") as gateway, connect_as(gateway.url("STAYS")) as websocket:
        call(websocket, "1", "Heartbeat", {})
        gateway.stop()
        with pytest.raises(ConnectionClosedOK) as closed:
            websocket.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001
    assert row("STAYS").gateway == ""


def test_a_deleted_charge_point_is_disconnected(caplog: pytest.LogCaptureFixture) -> None:
    charge_point("DOOMED")

    with RunningGateway("gw-delete") as gateway, connect_as(gateway.url("DOOMED")) as websocket:
        call(websocket, "1", "Heartbeat", {})
        ChargePoint.objects.filter(identity="DOOMED").delete()
        assert call(websocket, "2", "Heartbeat", {})[2] == "SecurityError"
        assert close_code(websocket) == server.CLOSE_REMOVED

    # Its disconnection is not recorded (its history went with it), and that is no error.
    assert [record.getMessage() for record in caplog.records if record.levelname == "ERROR"] == []


def test_a_gateway_stopped_as_it_starts_stops_whole(caplog: pytest.LogCaptureFixture) -> None:
    # redis.asyncio's Pub/Sub swallowed cancellations landing while it subscribed: about one
    # such stop in three left the wake-up listener behind (outgoing.OutgoingCalls._listen).
    for _ in range(8):
        with RunningGateway("gw-brief"):
            pass

    assert [record.getMessage() for record in caplog.records if record.levelname == "WARNING"] == []


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def hook(self, name: str) -> Any:
        def record(charge_point: ChargePoint) -> None:
            self.events.append((name, charge_point.identity))

        return record


def test_presence_hears_of_connections_and_of_real_disconnections_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(presence, "on_connected", recorder.hook("connected"))
    monkeypatch.setattr(presence, "on_disconnected", recorder.hook("disconnected"))
    charge_point("PRESENT")

    with RunningGateway("gw-presence") as gateway, connect_as(gateway.url("PRESENT")) as first:
        call(first, "1", "Heartbeat", {})
        with connect_as(gateway.url("PRESENT")) as second:
            call(second, "2", "Heartbeat", {})
            close_code(first)
            call(second, "3", "Heartbeat", {})
        eventually(lambda: len(recorder.events) == 3)

    # The replaced connection's end is no disconnection: the charge point stayed connected.
    assert recorder.events == [
        ("connected", "PRESENT"),
        ("connected", "PRESENT"),
        ("disconnected", "PRESENT"),
    ]


def test_a_failing_presence_hook_does_not_fail_the_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(charge_point: ChargePoint) -> None:
        raise RuntimeError("presence bug")

    monkeypatch.setattr(presence, "on_connected", broken)
    charge_point("SURVIVOR")

    with RunningGateway("gw-broken") as gateway, connect_as(gateway.url("SURVIVOR")) as websocket:
        assert call(websocket, "1", "Heartbeat", {})[0] == 3


def test_a_failing_history_line_does_not_keep_a_charge_point_connected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(charge_point_pk: int, **values: Any) -> None:
        raise DatabaseError("history table unavailable")

    recorder = Recorder()
    monkeypatch.setattr(connection_history, "disconnected", broken)
    monkeypatch.setattr(presence, "on_disconnected", recorder.hook("disconnected"))
    charge_point("FORGETFUL")

    with RunningGateway("gw-broken") as gateway:
        with connect_as(gateway.url("FORGETFUL")) as websocket:
            assert call(websocket, "1", "Heartbeat", {})[0] == 3
        eventually(lambda: recorder.events == [("disconnected", "FORGETFUL")])
        assert row("FORGETFUL").gateway == ""


class RecordingOutgoing(OutgoingCalls):
    """The interface chargers.gateway.outgoing offers, recording what the gateway tells it."""

    instances: list["RecordingOutgoing"] = []

    def __init__(self, gateway_id: str, executor: Executor | None = None) -> None:
        super().__init__(gateway_id, executor)
        self.events: list[tuple[Any, ...]] = []
        self.instances.append(self)

    async def run(self) -> None:
        self.events.append(("running",))
        try:
            await asyncio.Event().wait()
        finally:
            self.events.append(("stopped",))

    def held(self, identity: str, link: Any) -> None:
        super().held(identity, link)
        self.events.append(("held", identity, link))

    def released(self, identity: str, link: Any) -> None:
        super().released(identity, link)
        self.events.append(("released", identity, link))

    async def on_result(self, identity: str, unique_id: str, payload: Any) -> bool:
        self.events.append(("result", identity, unique_id, payload))
        return unique_id == "ours"

    async def on_error(
        self, identity: str, unique_id: str, code: str, description: str, details: Any
    ) -> bool:
        self.events.append(("error", identity, unique_id, code, description, details))
        return True


@pytest.fixture
def outgoing(monkeypatch: pytest.MonkeyPatch) -> type[RecordingOutgoing]:
    monkeypatch.setattr(server, "OutgoingCalls", RecordingOutgoing)
    RecordingOutgoing.instances = []
    return RecordingOutgoing


def test_outgoing_calls_hold_the_link_and_get_the_answers(
    outgoing: type[RecordingOutgoing],
) -> None:
    charge_point("CALLED", version="2.0.1")

    with RunningGateway("gw-out") as gateway:
        with connect_as(gateway.url("CALLED"), "2.0.1") as websocket:
            call(websocket, "1", "Heartbeat", {})
            (calls,) = outgoing.instances
            (_, identity, link) = calls.events[1]
            assert isinstance(link, Link)
            assert (identity, link.identity, link.version) == ("CALLED", "CALLED", "2.0.1")
            assert link.charge_point_pk == row("CALLED").pk

            reset = json.dumps([2, "ours", "Reset", {"type": "Immediate"}])
            gateway.run(link.send_frame(reset))
            assert receive(websocket) == [2, "ours", "Reset", {"type": "Immediate"}]
            websocket.send(json.dumps([3, "ours", {"status": "Accepted"}]))
            websocket.send(json.dumps([4, "theirs", "NotSupported", "No", {"x": 1}]))
            assert call(websocket, "2", "Heartbeat", {})[0] == 3
        eventually(lambda: len(calls.events) == 5)

    assert calls.events[2:] == [
        ("result", "CALLED", "ours", {"status": "Accepted"}),
        ("error", "CALLED", "theirs", "NotSupported", "No", {"x": 1}),
        ("released", "CALLED", link),
        ("stopped",),
    ]


def test_the_outgoing_task_runs_as_long_as_the_gateway(outgoing: type[RecordingOutgoing]) -> None:
    with RunningGateway("gw-out"):
        (calls,) = outgoing.instances
        assert calls.gateway_id == "gw-out"
        eventually(lambda: calls.events == [("running",)])

    assert calls.events == [("running",), ("stopped",)]


# --- chargers.connections, directly -------------------------------------------------------


def test_a_connection_is_numbered_by_the_update_that_records_it(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    """One UPDATE … RETURNING, no read after it in a transaction."""
    made = charge_point("NUMBERED")
    ChargePoint.objects.filter(pk=made.pk).update(connection=41)  # its connections so far

    with django_assert_num_queries(1):
        number = connections.connected(made, gateway="gw-a", version="1.6", remote_address="::1")

    assert number == made.connection == row("NUMBERED").connection == 42
    assert (row("NUMBERED").gateway, row("NUMBERED").remote_address) == ("gw-a", "::1")


def test_a_connection_of_a_charge_point_deleted_meanwhile_is_refused() -> None:
    made = charge_point("DELETED")
    ChargePoint.objects.filter(pk=made.pk).delete()

    with pytest.raises(ChargePoint.DoesNotExist):
        connections.connected(made, gateway="gw-a", version="1.6", remote_address="::1")


def test_the_latest_connection_wins_and_only_it_disconnects() -> None:
    made = charge_point("COUNTED")

    first = connections.connected(made, gateway="gw-a", version="1.6", remote_address="10.0.0.1")
    second = connections.connected(made, gateway="gw-b", version="2.0.1", remote_address="::1")

    assert (first, second) == (1, 2)
    assert connections.superseded("gw-a", {made.pk: first}) == [made.pk]
    assert connections.superseded("gw-b", {made.pk: second}) == []
    # A row read before this gateway's own connection was recorded is not a newer one.
    assert connections.superseded("gw-a", {made.pk: 3}) == []
    assert connections.disconnected(made, first) is False
    assert (row("COUNTED").gateway, row("COUNTED").connected_version) == ("gw-b", "2.0.1")
    assert connections.disconnected(made, second) is True
    assert row("COUNTED").gateway == ""


def test_the_default_gateway_clears_the_rows_of_dead_processes_of_its_host() -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    host = socket.gethostname()
    charge_point("DEAD", gateway=f"{host}:{finished.pid}")
    charge_point("ALIVE", gateway=f"{host}:{os.getppid()}")
    charge_point("OTHER-HOST", gateway=f"elsewhere:{finished.pid}")

    cleared = connections.clear_gateway(connections.default_gateway_id())

    assert cleared == 1
    assert [row(name).gateway for name in ("DEAD", "ALIVE", "OTHER-HOST")] == [
        "",
        f"{host}:{os.getppid()}",
        f"elsewhere:{finished.pid}",
    ]


def test_a_named_gateway_clears_only_its_own_rows() -> None:
    host = socket.gethostname()
    charge_point("MINE", gateway="gw-named")
    charge_point("DEAD", gateway=f"{host}:999999999")

    assert connections.clear_gateway("gw-named") == 1
    assert row("DEAD").gateway == f"{host}:999999999"


def test_a_password_is_stored_as_a_cheap_pbkdf2_hash(settings: Any) -> None:
    settings.OCPP_PASSWORD_ITERATIONS = 1200
    made = charge_point("HASHED", password=None)

    connections.set_password(made, "a-very-random-secret")

    stored = row("HASHED").password_hash
    assert stored == made.password_hash
    assert stored.startswith("pbkdf2_sha256$1200$")
    assert check_password("a-very-random-secret", stored)
    assert not check_password("a-very-random-secreT", stored)
    with pytest.raises(ValueError, match="cannot be empty"):
        connections.set_password(made, "")


def test_a_held_connection_keeps_no_handshake_headers_and_still_works() -> None:
    charge_point("LEAN")

    with RunningGateway("gw-lean") as gateway, connect_as(gateway.url("LEAN")) as websocket:
        assert call(websocket, "1", "Heartbeat", {})[0] == 3
        assert gateway.gateway is not None
        held = gateway.gateway.links["LEAN"].websocket
        assert held.request is server.HANDSHAKE_DONE
        assert len(held.request.headers) == 0
        assert held.response is None
        assert call(websocket, "2", "Heartbeat", {})[0] == 3
