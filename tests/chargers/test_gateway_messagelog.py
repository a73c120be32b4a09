"""The message log: every frame both ways, cut at 8 KiB, the most recent per charge point kept;
last_message_at kept without an UPDATE per frame; all of it off with OCPP_MESSAGE_LOG=0."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chargers.gateway import messagelog
from chargers.models import ChargePointMessage, Direction
from tests.chargers.gatewayrunner import (
    HEARTBEATS,
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
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningGateway]:
    use_handlers(monkeypatch, HEARTBEATS)
    with RunningGateway("gw-log") as running:
        yield running


def logged(identity: str) -> list[tuple[str, int, str, str]]:
    return list(
        ChargePointMessage.objects.filter(charge_point__identity=identity)
        .order_by("at", "pk")
        .values_list("direction", "message_type", "unique_id", "action")
    )


def test_frames_both_ways_are_logged(gateway: RunningGateway) -> None:
    charge_point("LOGGED")

    with connect_as(gateway.url("LOGGED")) as websocket:
        answer = call(websocket, "h1", "Heartbeat", {})
        call(websocket, "x1", "NoSuchAction", {})
        websocket.send("garbage")
        websocket.recv(timeout=5)

    expected = [
        (Direction.IN, 2, "h1", "Heartbeat"),
        (Direction.OUT, 3, "h1", "Heartbeat"),
        (Direction.IN, 2, "x1", "NoSuchAction"),
        (Direction.OUT, 4, "x1", "NoSuchAction"),
        (Direction.IN, 0, "-1", ""),
        (Direction.OUT, 4, "-1", ""),
    ]
    eventually(lambda: len(logged("LOGGED")) == len(expected))
    assert logged("LOGGED") == expected
    out = ChargePointMessage.objects.get(unique_id="h1", direction=Direction.OUT)
    assert json.loads(out.frame) == answer


def test_a_long_frame_is_cut_at_8_kib(gateway: RunningGateway) -> None:
    charge_point("CHATTY")
    payload = {"padding": "x" * 20_000}

    with connect_as(gateway.url("CHATTY")) as websocket:
        call(websocket, "big", "Heartbeat", payload)

    incoming = eventually(
        lambda: ChargePointMessage.objects.filter(unique_id="big", direction="IN").first()
    )
    assert incoming.frame == json.dumps([2, "big", "Heartbeat", payload])[: 8 * 1024]


def test_only_the_most_recent_frames_are_kept(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.OCPP_MESSAGE_LOG_SIZE = 8
    use_handlers(monkeypatch, HEARTBEATS)
    charge_point("BOUNDED")
    charge_point("NEIGHBOUR")

    with (
        RunningGateway("gw-bounded") as gateway,
        connect_as(gateway.url("NEIGHBOUR")) as neighbour,
        connect_as(gateway.url("BOUNDED")) as websocket,
    ):
        call(neighbour, "n", "Heartbeat", {})
        for number in range(30):
            call(websocket, str(number), "Heartbeat", {})
    # The gateway has stopped: its last frames are written and pruned.

    kept = logged("BOUNDED")
    assert len(kept) <= 8 + 8 // 4
    assert kept[-2:] == [
        (Direction.IN, 2, "29", "Heartbeat"),
        (Direction.OUT, 3, "29", "Heartbeat"),
    ]
    assert len(logged("NEIGHBOUR")) == 2


def test_pruning_keeps_exactly_the_size(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pruned after every frame (size 3: a quarter rounds to 1)."""
    settings.OCPP_MESSAGE_LOG_SIZE = 3
    use_handlers(monkeypatch, HEARTBEATS)
    charge_point("TINY")

    with RunningGateway("gw-tiny") as gateway, connect_as(gateway.url("TINY")) as websocket:
        for number in range(5):
            call(websocket, str(number), "Heartbeat", {})

    assert logged("TINY") == [
        (Direction.OUT, 3, "3", "Heartbeat"),
        (Direction.IN, 2, "4", "Heartbeat"),
        (Direction.OUT, 3, "4", "Heartbeat"),
    ]


def test_last_message_at_moves_without_an_update_per_frame(
    gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    charge_point("TICKING")

    with connect_as(gateway.url("TICKING")) as websocket:
        call(websocket, "1", "Heartbeat", {})
        first = eventually(lambda: row("TICKING").last_message_at)
        for number in range(5):
            call(websocket, str(number), "Heartbeat", {})
        eventually(lambda: len(logged("TICKING")) == 12)
        # Within LAST_MESSAGE_SECONDS of the first: not moved.
        assert row("TICKING").last_message_at == first

        monkeypatch.setattr(messagelog, "LAST_MESSAGE_SECONDS", 0.0)
        call(websocket, "later", "Heartbeat", {})
        eventually(lambda: (row("TICKING").last_message_at or first) > first)


def test_the_log_can_be_turned_off(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.OCPP_MESSAGE_LOG = False
    use_handlers(monkeypatch, HEARTBEATS)
    charge_point("SILENT")

    with RunningGateway("gw-silent") as gateway, connect_as(gateway.url("SILENT")) as websocket:
        call(websocket, "1", "Heartbeat", {})
        eventually(lambda: row("SILENT").last_message_at)

    assert logged("SILENT") == []
