"""Admission control for reconnect storms (chargers.gateway.arrivals): at most
OCPP_ARRIVALS_AT_ONCE charge points arriving at once, the others refused with HTTP 503 and a
Retry-After that spreads their return."""

from types import SimpleNamespace
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.protocol import State

from chargers.gateway.arrivals import (
    ASSUMED_ARRIVAL_SECONDS,
    LONGEST_SECONDS,
    PLACE_KEPT_SECONDS,
    QUIET_SECONDS,
    Arrivals,
)
from chargers.simulator.station import retry_after
from tests.chargers.gatewayrunner import (
    HEARTBEATS,
    RunningGateway,
    call,
    charge_point,
    connect_as,
    eventually,
    slow_admission,
    use_handlers,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def websocket() -> Any:
    return SimpleNamespace(state=State.OPEN)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def arrivals(limit: int, clock: Clock) -> Arrivals:
    return Arrivals(limit, clock=clock, jitter=lambda: 0.0)


def test_beyond_the_limit_a_charge_point_is_refused_until_a_place_is_free(clock: Clock) -> None:
    door = arrivals(2, clock)
    first, second = door.enter(websocket(), "A"), door.enter(websocket(), "B")
    assert first is not None
    assert second is not None

    assert door.enter(websocket(), "C") is None

    first.quiet(clock.now)
    clock.now += QUIET_SECONDS
    door.sweep()
    assert door.enter(websocket(), "C") is not None


def test_the_refused_are_given_places_spread_at_the_rate_arrivals_finish(clock: Clock) -> None:
    door = arrivals(10, clock)
    for n in range(10):
        assert door.enter(websocket(), f"IN-{n}") is not None
    # Nothing finished yet: the rate assumed is the limit over ASSUMED_ARRIVAL_SECONDS (2/s),
    # a place every 0.5 s from now (at least 1 s: Retry-After is whole seconds).
    assert door.rate(clock.now) == 10 / ASSUMED_ARRIVAL_SECONDS == 2.0
    waits = [door.retry_after(f"OUT-{n}") for n in range(8)]
    assert waits == [1, 1, 1, 2, 2, 3, 3, 4]

    # Arrivals finishing at 10 a second: the places after are given at that rate.
    present = list(door.present)
    for arrival in present:
        arrival.quiet(clock.now)
    clock.now += 1.0
    door.sweep()
    assert door.rate(clock.now) == 10.0
    later = [door.retry_after(f"LATE-{n}") for n in range(20)]
    assert later[0] == 3  # after the eight given before, at 1,000 + 4 s
    assert later[-1] - later[0] == 2  # twenty more over two seconds


def test_one_coming_back_early_keeps_its_place(clock: Clock) -> None:
    door = arrivals(1, clock)
    assert door.enter(websocket(), "IN") is not None
    ahead = [door.retry_after(f"AHEAD-{n}") for n in range(5)]
    mine = door.retry_after("MINE")
    assert mine > ahead[0]

    clock.now += 1.0  # back before its moment, the place still taken
    assert door.enter(websocket(), "MINE") is None
    assert door.retry_after("MINE") == mine - 1  # the time left, not the end of the queue
    assert door.refused == 7


def test_a_place_free_when_it_comes_back_early_is_taken(clock: Clock) -> None:
    door = arrivals(1, clock)
    inside = door.enter(websocket(), "IN")
    assert inside is not None
    door.retry_after("EARLY")
    door.leave(inside)

    assert door.enter(websocket(), "EARLY") is not None
    door.sweep()
    assert "EARLY" not in door._places


def test_places_nobody_came_for_are_forgotten(clock: Clock) -> None:
    door = arrivals(1, clock)
    door.enter(websocket(), "IN")
    door.retry_after("NEVER-CAME")
    clock.now += PLACE_KEPT_SECONDS + 1
    door.sweep()
    assert door._places == {}
    assert not door._given


def test_an_arrival_ends_when_quiet_closed_or_too_long(clock: Clock) -> None:
    door = arrivals(0, clock)
    sockets = [websocket() for _ in "QBCE"]
    quiet, busy, closed, endless = entered = [door.enter(ws, "CP") for ws in sockets]
    assert None not in entered
    assert quiet is not None
    assert busy is not None
    assert closed is not None
    quiet.quiet(clock.now)
    busy.quiet(clock.now)
    busy.busy()  # a CALL came
    sockets[2].state = State.CLOSED  # e.g. a handshake given up on
    clock.now += QUIET_SECONDS
    door.sweep()
    assert door.present == {busy, endless}

    clock.now += LONGEST_SECONDS
    door.sweep()
    assert door.present == set()


def test_refused_at_admission_tells_nothing_of_the_rate(clock: Clock) -> None:
    door = arrivals(4, clock)
    for n in range(4):
        arrival = door.enter(websocket(), f"WRONG-{n}")
        assert arrival is not None
        door.leave(arrival, finished=False)
    assert door.present == set()
    assert door.rate(clock.now) == 4 / ASSUMED_ARRIVAL_SECONDS


def test_without_a_limit_nobody_is_refused(clock: Clock) -> None:
    door = arrivals(0, clock)
    assert all(door.enter(websocket(), f"CP-{n}") for n in range(1000))


@pytest.mark.parametrize(
    ("header", "seconds"), [("7", 7), (" 12 ", 12), (None, None), ("soon", None), ("-3", None)]
)
def test_the_simulator_reads_retry_after(header: str | None, seconds: int | None) -> None:
    assert retry_after(header) == seconds


# --- at a running gateway ----------------------------------------------------------------


@pytest.fixture
def one_place(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """Gateways that let one charge point arrive at a time, and answer Heartbeats only."""
    settings.OCPP_ARRIVALS_AT_ONCE = 1
    use_handlers(monkeypatch, HEARTBEATS)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("one_place")
def test_the_gateway_refuses_beyond_its_limit_with_503_and_admits_once_quiet() -> None:
    charge_point("FIRST")
    charge_point("SECOND")
    with RunningGateway("gw-arrivals") as gateway, connect_as(gateway.url("FIRST")) as first:
        assert call(first, "1", "Heartbeat", {})[0] == 3
        with pytest.raises(InvalidStatus) as refused:
            connect_as(gateway.url("SECOND"))
        assert refused.value.response.status_code == 503
        assert int(refused.value.response.headers["Retry-After"]) >= 1

        # FIRST quiet for QUIET_SECONDS: its arrival is over, SECOND's turn.
        def admitted() -> Any:
            try:
                return connect_as(gateway.url("SECOND"))
            except InvalidStatus:
                return None

        with eventually(admitted, timeout=5) as second:
            assert call(second, "1", "Heartbeat", {})[0] == 3
        assert call(first, "2", "Heartbeat", {})[0] == 3  # FIRST stays connected


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("one_place")
def test_a_charge_point_refused_at_admission_takes_no_place() -> None:
    charge_point("HONEST")
    with RunningGateway("gw-arrivals") as gateway:
        for _ in range(3):
            with pytest.raises(InvalidStatus) as wrong:
                connect_as(gateway.url("HONEST"), password="wrong-password-000")
            assert wrong.value.response.status_code == 401
        with connect_as(gateway.url("HONEST")) as honest:
            assert call(honest, "1", "Heartbeat", {})[0] == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("one_place")
def test_a_handshake_given_up_on_frees_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without it the place would stay taken for LONGEST_SECONDS.
    slow_admission(monkeypatch, 1.0)
    charge_point("IMPATIENT")
    charge_point("NEXT")
    with RunningGateway("gw-arrivals") as gateway:
        assert gateway.gateway is not None
        door = gateway.gateway.arrivals
        with pytest.raises(TimeoutError):  # gives up while its admission runs
            connect_as(gateway.url("IMPATIENT"), open_timeout=0.3)
        eventually(lambda: not door.present, timeout=5)
        with connect_as(gateway.url("NEXT")) as following:
            assert call(following, "1", "Heartbeat", {})[0] == 3
