"""The gateway's side of calls (chargers.gateway.outgoing) with fake links and the real database.

Each OutgoingCalls runs in an event loop of its own thread, as in a gateway process, while the
test thread makes calls the way a web request would (chargers.calls). A fake link records the
frames sent to "its charge point"; an answering one also answers each CALL after a delay. Rows
must be committed for the gateway's threads to see them: transactional tests throughout.
"""

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from django.utils import timezone

from chargers import calls, follow_ups
from chargers.gateway.outgoing import CONNECTION_CLOSED, NOT_SENT, OutgoingCalls
from chargers.models import CallState, ChargePoint, ChargePointCall
from tests.push.polling import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

T = TypeVar("T")
ACCEPTED = {"status": "Accepted"}
POLL = 0.05  # OCPP_CALL_POLL_SECONDS in these tests


@dataclass(eq=False)
class FakeLink:
    """A charge point's connection that records what it is sent and never answers."""

    identity: str
    charge_point_pk: int
    version: str = "1.6"
    frames: list[list[Any]] = field(default_factory=list)

    async def send_frame(self, text: str) -> None:
        self.frames.append(json.loads(text))

    def sent_ids(self) -> list[str]:
        return [frame[1] for frame in self.frames]


@dataclass(eq=False)
class AnsweringLink(FakeLink):
    """A charge point that answers every CALL with `answer(action)` after `delay` seconds."""

    outgoing: OutgoingCalls | None = None
    delay: float = 0.01
    answer: Callable[[str], dict[str, Any]] = lambda action: ACCEPTED
    _answering: set["asyncio.Task[bool]"] = field(default_factory=set)

    async def send_frame(self, text: str) -> None:
        await super().send_frame(text)
        _, unique_id, action, _ = json.loads(text)
        task = asyncio.create_task(self._answer_later(unique_id, action))
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _answer_later(self, unique_id: str, action: str) -> bool:
        await asyncio.sleep(self.delay)
        assert self.outgoing is not None
        return await self.outgoing.on_result(self.identity, unique_id, self.answer(action))


class Gateway:
    """An OutgoingCalls running in its own thread and event loop, as in a gateway process."""

    def __init__(self, gateway_id: str) -> None:
        self.outgoing = OutgoingCalls(gateway_id)
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._main, name=gateway_id, daemon=True)
        self._thread.start()
        self._started.wait()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._running = self.loop.create_task(self.outgoing.run())
        self.loop.call_soon(self._started.set)
        with contextlib.suppress(asyncio.CancelledError):
            self.loop.run_until_complete(self._running)
        leftovers = asyncio.all_tasks(self.loop)
        for task in leftovers:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the gateway's loop and return its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(work, self.loop)
        return future.result(timeout=10)

    def do(self, function: Callable[..., T], *args: Any) -> T:
        """Call a plain method of OutgoingCalls on the gateway's loop (it may start tasks)."""

        async def inside() -> T:
            return function(*args)

        return self.run(inside())

    def hold(self, link: FakeLink) -> FakeLink:
        if isinstance(link, AnsweringLink):
            link.outgoing = self.outgoing
        self.do(self.outgoing.held, link.identity, link)
        return link

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self._running.cancel)
        self._thread.join(timeout=10)


@pytest.fixture(autouse=True)
def _fast_poll(settings: Any) -> None:
    settings.OCPP_CALL_POLL_SECONDS = POLL


@pytest.fixture
def gateways() -> Iterator[Callable[[str], Gateway]]:
    started: list[Gateway] = []

    def start(gateway_id: str) -> Gateway:
        started.append(Gateway(gateway_id))
        return started[-1]

    yield start
    for gateway in started:
        gateway.stop()


def connected(identity: str = "CP-1", *, gateway: str = "gw-a", **fields: Any) -> ChargePoint:
    fields.setdefault("connected_version", "1.6")
    return ChargePoint.objects.create(identity=identity, gateway=gateway, **fields)


def row(call: ChargePointCall) -> ChargePointCall:
    return ChargePointCall.objects.get(pk=call.pk)


def frames_of(*links: FakeLink) -> list[list[Any]]:
    return [frame for link in links for frame in link.frames]


def frames_reach(links: list[FakeLink], count: int) -> Callable[[], bool]:
    return lambda: len(frames_of(*links)) == count


def test_a_call_is_sent_as_an_ocpp_call_and_its_answer_recorded(
    gateways: Callable[[str], Gateway],
) -> None:
    charge_point = connected()
    link = gateways("gw-a").hold(AnsweringLink("CP-1", charge_point.pk))

    done = calls.call(charge_point, "Reset", {"type": "Hard"}, requested_by="operator")

    assert done.state == CallState.ANSWERED
    assert done.response == ACCEPTED
    assert (done.error_code, done.error_description) == ("", "")
    assert done.requested_by == "operator"
    assert done.sent_at is not None
    assert done.finished_at is not None
    assert done.created_at <= done.sent_at <= done.finished_at < done.deadline
    assert link.frames == [[2, str(done.pk), "Reset", {"type": "Hard"}]]


def test_a_2_0_1_charge_point_gets_the_2_0_1_payload(gateways: Callable[[str], Gateway]) -> None:
    charge_point = connected(connected_version="2.0.1")
    link = gateways("gw-a").hold(AnsweringLink("CP-1", charge_point.pk, version="2.0.1"))

    done = calls.wait(calls.trigger_message(charge_point, "StatusNotification", evse_id=2))

    assert done.state == CallState.ANSWERED
    assert link.frames == [
        [
            2,
            str(done.pk),
            "TriggerMessage",
            {"requestedMessage": "StatusNotification", "evse": {"id": 2}},
        ]
    ]


def test_an_answer_that_breaks_the_response_schema_fails_the_call_and_is_kept(
    gateways: Callable[[str], Gateway],
) -> None:
    charge_point = connected()
    gateways("gw-a").hold(
        AnsweringLink("CP-1", charge_point.pk, answer=lambda action: {"status": "Maybe"})
    )

    done = calls.call(charge_point, "Reset", {"type": "Soft"})

    assert done.state == CallState.FAILED
    assert done.error_code == ""
    assert done.error_description.startswith(
        "The answer does not match OCPP 1.6 ResetResponse: 'Maybe' is not one of"
    )
    assert done.error_description.endswith("(at status)")
    assert done.response == {"status": "Maybe"}


def test_a_vendor_relaxation_of_the_charge_point_lets_its_answer_through(
    gateways: Callable[[str], Gateway],
) -> None:
    extra = {"status": "Accepted", "vendorNote": "rebooting"}
    charge_point = connected(relaxed_validation=["additionalProperties"])
    gateways("gw-a").hold(AnsweringLink("CP-1", charge_point.pk, answer=lambda action: extra))

    done = calls.call(charge_point, "Reset", {"type": "Soft"})

    assert (done.state, done.response) == (CallState.ANSWERED, extra)


def test_a_callerror_fails_the_call_with_its_code_description_and_details(
    gateways: Callable[[str], Gateway],
) -> None:
    charge_point = connected()
    gateway = gateways("gw-a")
    link = gateway.hold(FakeLink("CP-1", charge_point.pk))
    pending = calls.send(charge_point, "Reset", {"type": "Hard"})
    wait_until(lambda: link.frames, what="the CALL")

    known = gateway.run(
        gateway.outgoing.on_error(
            "CP-1", str(pending.pk), "NotSupported", "No resets here", {"why": "vendor"}
        )
    )

    done = calls.wait(pending)
    assert known is True
    assert (done.state, done.error_code, done.error_description, done.response) == (
        CallState.FAILED,
        "NotSupported",
        "No resets here",
        {"why": "vendor"},
    )


def test_a_second_call_waits_until_the_first_is_answered(
    gateways: Callable[[str], Gateway],
) -> None:
    charge_point = connected()
    gateway = gateways("gw-a")
    link = gateway.hold(FakeLink("CP-1", charge_point.pk))
    first = calls.send(charge_point, "Reset", {"type": "Soft"})
    second = calls.trigger_message(charge_point, "Heartbeat")
    wait_until(lambda: link.frames, what="the first CALL")
    time.sleep(6 * POLL)  # several polls: the second must still wait

    assert link.sent_ids() == [str(first.pk)]
    assert row(second).state == CallState.PENDING

    gateway.run(gateway.outgoing.on_result("CP-1", str(first.pk), ACCEPTED))

    wait_until(lambda: len(link.frames) == 2, what="the second CALL")
    assert link.sent_ids() == [str(first.pk), str(second.pk)]
    assert row(first).state == CallState.ANSWERED
    assert row(second).state == CallState.SENT


def test_two_gateways_holding_one_charge_point_send_each_call_once(
    gateways: Callable[[str], Gateway],
) -> None:
    """Both believe they hold it (say, a replaced connection not yet noticed): every claim is
    one conditional UPDATE, so each call goes out through exactly one of them."""
    charge_point = connected()
    pair = [gateways("gw-a"), gateways("gw-a")]
    links = [gateway.hold(FakeLink("CP-1", charge_point.pk)) for gateway in pair]

    for n in range(15):
        pending = calls.send(charge_point, "Reset", {"type": "Soft"})
        wait_until(frames_reach(links, n + 1), what=f"CALL {n}")
        holder = next(i for i, link in enumerate(links) if str(pending.pk) in link.sent_ids())
        pair[holder].run(pair[holder].outgoing.on_result("CP-1", str(pending.pk), ACCEPTED))
        assert calls.wait(pending).state == CallState.ANSWERED

    time.sleep(4 * POLL)
    sent = [frame[1] for frame in frames_of(*links)]
    assert len(sent) == len(set(sent)) == 15


def test_a_gateway_the_database_does_not_name_never_sends(
    gateways: Callable[[str], Gateway],
) -> None:
    charge_point = connected(gateway="gw-new")
    stale = gateways("gw-old").hold(FakeLink("CP-1", charge_point.pk))
    current = gateways("gw-new").hold(AnsweringLink("CP-1", charge_point.pk))

    done = calls.call(charge_point, "Reset", {"type": "Soft"})

    assert done.state == CallState.ANSWERED
    assert (len(stale.frames), len(current.frames)) == (0, 1)


def test_a_late_answer_after_the_deadline_changes_nothing(
    gateways: Callable[[str], Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    charge_point = connected()
    gateway = gateways("gw-a")
    link = gateway.hold(FakeLink("CP-1", charge_point.pk))
    timed_out = calls.call(charge_point, "Reset", {"type": "Soft"}, timeout=0.3)
    assert timed_out.state == CallState.TIMED_OUT

    known = gateway.run(gateway.outgoing.on_result("CP-1", str(timed_out.pk), ACCEPTED))

    assert known is True
    after = row(timed_out)
    assert (after.state, after.response, after.finished_at) == (
        CallState.TIMED_OUT,
        None,
        timed_out.finished_at,
    )
    assert f"answered call {timed_out.pk}" in caplog.text
    # The charge point is free again: the next call goes out.
    following = calls.send(charge_point, "Reset", {"type": "Hard"})
    wait_until(lambda: len(link.frames) == 2, what="the next CALL")
    assert link.sent_ids() == [str(timed_out.pk), str(following.pk)]


def test_answers_to_no_call_of_ours_are_not_claimed(gateways: Callable[[str], Gateway]) -> None:
    charge_point = connected()
    gateway = gateways("gw-a")
    gateway.hold(FakeLink("CP-1", charge_point.pk))
    elsewhere = connected("CP-2")
    theirs = calls.send(elsewhere, "Reset", {"type": "Soft"})

    assert gateway.run(gateway.outgoing.on_result("CP-1", "19223201", ACCEPTED)) is False
    assert gateway.run(gateway.outgoing.on_result("CP-1", str(theirs.pk), ACCEPTED)) is False
    assert gateway.run(gateway.outgoing.on_error("CP-1", "x", "InternalError", "", {})) is False
    assert row(theirs).state == CallState.PENDING


def test_a_closed_connection_ends_its_sent_call_and_the_next_goes_on_the_new_one(
    gateways: Callable[[str], Gateway],
) -> None:
    charge_point = connected()
    gateway = gateways("gw-a")
    old = gateway.hold(FakeLink("CP-1", charge_point.pk))
    sent = calls.send(charge_point, "Reset", {"type": "Soft"})
    queued = calls.trigger_message(charge_point, "Heartbeat")
    wait_until(lambda: old.frames, what="the first CALL")

    gateway.do(gateway.outgoing.released, "CP-1", old)
    ended = calls.wait(sent, timeout=5)

    assert (ended.state, ended.error_description) == (CallState.TIMED_OUT, CONNECTION_CLOSED)
    assert ended.finished_at is not None
    assert ended.finished_at < ended.deadline
    time.sleep(4 * POLL)
    assert old.sent_ids() == [str(sent.pk)]
    assert row(queued).state == CallState.PENDING

    new = gateway.hold(FakeLink("CP-1", charge_point.pk))
    wait_until(lambda: new.frames, what="the queued CALL on the new connection")
    assert new.sent_ids() == [str(queued.pk)]
    # The old connection's call is not answered on the new one.
    assert gateway.run(gateway.outgoing.on_result("CP-1", str(sent.pk), ACCEPTED)) is True
    assert row(sent).state == CallState.TIMED_OUT


def test_a_second_connection_replaces_the_first(gateways: Callable[[str], Gateway]) -> None:
    charge_point = connected()
    gateway = gateways("gw-a")
    old = gateway.hold(FakeLink("CP-1", charge_point.pk))
    sent = calls.send(charge_point, "Reset", {"type": "Soft"})
    wait_until(lambda: old.frames, what="the CALL")

    new = gateway.hold(AnsweringLink("CP-1", charge_point.pk))
    gateway.do(gateway.outgoing.released, "CP-1", old)  # the old one's close, noticed later
    done = calls.call(charge_point, "Reset", {"type": "Hard"})

    assert (row(sent).state, row(sent).error_description) == (
        CallState.TIMED_OUT,
        CONNECTION_CLOSED,
    )
    assert done.state == CallState.ANSWERED
    assert new.sent_ids() == [str(done.pk)]


def test_a_call_made_for_another_version_is_not_sent(gateways: Callable[[str], Gateway]) -> None:
    """Queued for its 1.6 connection; it reconnected with 2.0.1 before it went out."""
    charge_point = connected()
    queued = calls.change_availability(charge_point, operative=False, evse_id=1)
    link = gateways("gw-a").hold(FakeLink("CP-1", charge_point.pk, version="2.0.1"))

    failed = calls.wait(queued, timeout=5)

    assert failed.state == CallState.FAILED
    assert failed.error_description == (
        "Not sent: it is connected with OCPP 2.0.1 now, where Additional properties are not "
        "allowed ('connectorId', 'type' were unexpected) (at the top level); "
        "'operationalStatus' is a required property (at the top level)"
    )
    assert link.frames == []


def test_a_link_that_cannot_send_ends_the_call_and_the_rest_wait_for_the_next(
    gateways: Callable[[str], Gateway],
) -> None:
    class Broken(FakeLink):
        async def send_frame(self, text: str) -> None:
            raise ConnectionResetError("gone")

    charge_point = connected()
    gateway = gateways("gw-a")
    gateway.hold(Broken("CP-1", charge_point.pk))
    first = calls.send(charge_point, "Reset", {"type": "Soft"})
    queued = calls.send(charge_point, "Reset", {"type": "Hard"})

    failed = calls.wait(first, timeout=5)

    assert (failed.state, failed.error_description) == (CallState.TIMED_OUT, NOT_SENT)
    assert failed.finished_at is not None
    assert failed.finished_at < failed.deadline
    time.sleep(4 * POLL)
    assert row(queued).state == CallState.PENDING
    gateway.hold(AnsweringLink("CP-1", charge_point.pk))
    assert calls.wait(queued, timeout=5).state == CallState.ANSWERED


def test_a_gateway_ends_overdue_calls_of_charge_points_nobody_holds(
    gateways: Callable[[str], Gateway],
) -> None:
    """Its gateway died: the call was accepted and nobody will ever send it."""
    charge_point = connected(gateway="gw-dead")
    now = timezone.now()
    orphan = ChargePointCall.objects.create(
        charge_point=charge_point,
        action="Reset",
        payload={"type": "Soft"},
        created_at=now,
        deadline=now,
    )
    answered = ChargePointCall.objects.create(
        charge_point=charge_point,
        action="Reset",
        payload={"type": "Soft"},
        state=CallState.ANSWERED,
        response=ACCEPTED,
        created_at=now,
        deadline=now,
        finished_at=now,
    )
    gateways("gw-a")

    wait_until(lambda: row(orphan).state == CallState.TIMED_OUT, what="the sweep")
    assert row(answered).state == CallState.ANSWERED


@follow_ups.follow_up("tests.gateway_answered")
def _answered(call: ChargePointCall) -> None:
    ChargePoint.objects.filter(pk=call.charge_point_id).update(firmware_version=call.state)


@pytest.mark.usefixtures("eager_tasks")
def test_a_follow_up_runs_once_the_gateway_records_the_answer(
    gateways: Callable[[str], Gateway],
) -> None:
    charge_point = connected()
    gateways("gw-a").hold(AnsweringLink("CP-1", charge_point.pk))

    call = calls.send(charge_point, "Reset", {"type": "Hard"}, follow_up="tests.gateway_answered")

    wait_until(lambda: row(call).followed_up_at is not None, timeout=5)
    assert row(call).state == CallState.ANSWERED
    assert ChargePoint.objects.get(pk=charge_point.pk).firmware_version == CallState.ANSWERED
