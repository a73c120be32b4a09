"""The CALLs of one charge point are handled one after the other in arrival order, even when
it sends them without waiting and across a replaced connection; different charge points'
are handled side by side."""

import json
import threading
import time
from collections.abc import Iterator

import pytest

from chargers.handlers import Context, Payload
from tests.chargers.gatewayrunner import (
    RunningGateway,
    call,
    charge_point,
    connect_as,
    eventually,
    receive,
    use_handlers,
)

pytestmark = pytest.mark.django_db(transaction=True)


class Journal:
    """A DataTransfer handler that sleeps `data` seconds, then notes (identity, messageId)."""

    def __init__(self) -> None:
        self.handled: list[tuple[str, str]] = []
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()
        self.released = threading.Event()

    def __call__(self, context: Context, payload: Payload) -> Payload:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if payload["messageId"] == "wait":
                released = self.released.wait(5)
                return {"status": "Accepted" if released else "Rejected"}
            if payload["messageId"] == "release":
                self.released.set()
            time.sleep(float(payload.get("data", "0")))
            self.handled.append((context.charge_point.identity, payload["messageId"]))
            return {"status": "Accepted"}
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch, journal: Journal) -> Iterator[RunningGateway]:
    use_handlers(monkeypatch, {("1.6", "DataTransfer"): journal})
    with RunningGateway("gw-order") as running:
        yield running


def transfer(unique_id: str, seconds: float) -> str:
    payload = {"vendorId": "test", "messageId": unique_id, "data": str(seconds)}
    return json.dumps([2, unique_id, "DataTransfer", payload])


def test_one_charge_points_calls_are_handled_in_arrival_order(
    gateway: RunningGateway, journal: Journal
) -> None:
    charge_point("SEQ")
    ids = [f"m{number}" for number in range(8)]

    with connect_as(gateway.url("SEQ")) as websocket:
        # Sent without waiting, the first ones slowest: handled side by side they would end
        # in reverse.
        for number, unique_id in enumerate(ids):
            websocket.send(transfer(unique_id, 0.08 - number * 0.01))
        answers = [receive(websocket) for _ in ids]

    assert [answer[1] for answer in answers] == ids
    assert journal.handled == [("SEQ", unique_id) for unique_id in ids]
    assert journal.most_at_once == 1


def test_different_charge_points_are_handled_side_by_side(
    gateway: RunningGateway, journal: Journal
) -> None:
    """WAITER's handler waits for SETTER's: answered one after the other, WAITER would be
    Rejected after 5 s."""
    charge_point("WAITER")
    charge_point("SETTER")

    with (
        connect_as(gateway.url("WAITER")) as waiter,
        connect_as(gateway.url("SETTER")) as setter,
    ):
        waiter.send(transfer("wait", 0))
        eventually(lambda: journal.running == 1)
        assert call(setter, "release", "DataTransfer", json.loads(transfer("release", 0))[3])[
            2
        ] == {"status": "Accepted"}
        assert receive(waiter) == [3, "wait", {"status": "Accepted"}]


def test_a_new_connections_calls_wait_for_the_replaced_ones(
    gateway: RunningGateway, journal: Journal
) -> None:
    charge_point("MOVER")

    with connect_as(gateway.url("MOVER")) as old:
        old.send(transfer("before", 0.5))
        eventually(lambda: journal.running == 1)
        with connect_as(gateway.url("MOVER")) as new:
            assert call(new, "after", "DataTransfer", json.loads(transfer("after", 0))[3])[0] == 3

    assert journal.handled == [("MOVER", "before"), ("MOVER", "after")]
