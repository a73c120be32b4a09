"""Follow-ups of calls (chargers.follow_ups): what runs once a call has ended, exactly once,
whichever way it ended, and what a missed or failed one becomes."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from chargers import calls, follow_ups
from chargers.gateway.outgoing import _finish
from chargers.models import CallState, ChargePoint, ChargePointCall
from chargers.tasks import follow_up_overdue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

ran: list[tuple[str, str, Any]] = []


@follow_ups.follow_up("tests.record")
def record(call: ChargePointCall) -> None:
    """Leaves a trace in the database (rolled back with a failure) and in `ran`."""
    ChargePoint.objects.filter(pk=call.charge_point_id).update(firmware_version=call.state)
    ran.append((str(call.pk), call.state, call.response))


failed_before: list[bool] = []


@follow_ups.follow_up("tests.fails_once")
def fails_once(call: ChargePointCall) -> None:
    ChargePoint.objects.filter(pk=call.charge_point_id).update(firmware_version="half-done")
    if not failed_before:
        failed_before.append(True)
        raise RuntimeError("the partner's outbox is gone")
    ran.append((str(call.pk), call.state, call.response))


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    ran.clear()
    failed_before.clear()
    yield
    ran.clear()


def connected() -> ChargePoint:
    return ChargePoint.objects.create(identity="CP-1", connected_version="1.6", gateway="gw-a")


def sent(
    charge_point: ChargePoint, follow_up: str = "tests.record", **options: Any
) -> ChargePointCall:
    call = calls.send(charge_point, "Reset", {"type": "Soft"}, follow_up=follow_up, **options)
    ChargePointCall.objects.filter(pk=call.pk).update(state=CallState.SENT, sent_at=timezone.now())
    return call


def firmware(charge_point: ChargePoint) -> str:
    return ChargePoint.objects.get(pk=charge_point.pk).firmware_version


def test_an_answered_call_runs_its_follow_up_once_with_the_answer() -> None:
    charge_point = connected()
    call = sent(charge_point)

    _finish(str(call.pk), CallState.SENT, state=CallState.ANSWERED, response={"status": "Accepted"})

    assert ran == [(str(call.pk), CallState.ANSWERED, {"status": "Accepted"})]
    assert firmware(charge_point) == CallState.ANSWERED
    assert ChargePointCall.objects.get(pk=call.pk).followed_up_at is not None
    # Queued again (a beat round, a duplicate task): nothing more happens.
    assert follow_ups.run(str(call.pk)) is False
    follow_up_overdue()
    assert len(ran) == 1


def test_a_call_past_its_deadline_is_followed_up_as_timed_out() -> None:
    call = sent(connected(), timeout=1)

    calls.expire_overdue(timezone.now() + timedelta(seconds=2))

    assert ran == [(str(call.pk), CallState.TIMED_OUT, None)]


def test_a_call_still_running_is_not_followed_up() -> None:
    call = sent(connected())

    assert follow_ups.run(str(call.pk)) is False
    follow_up_overdue()

    assert ran == []
    assert ChargePointCall.objects.get(pk=call.pk).followed_up_at is None


def test_calls_without_a_follow_up_are_left_alone() -> None:
    call = sent(connected(), follow_up="")

    _finish(str(call.pk), CallState.SENT, state=CallState.FAILED, error_code="InternalError")

    assert ran == []
    assert not follow_ups.waiting().exists()


def test_a_follow_up_that_fails_leaves_nothing_and_runs_again_on_the_next_beat() -> None:
    charge_point = connected()
    call = sent(charge_point, follow_up="tests.fails_once")

    _finish(str(call.pk), CallState.SENT, state=CallState.ANSWERED, response={"status": "Rejected"})

    # Its write was rolled back with it, and the call still waits for its follow-up.
    assert firmware(charge_point) == ""
    assert ChargePointCall.objects.get(pk=call.pk).followed_up_at is None

    follow_up_overdue()

    assert ran == [(str(call.pk), CallState.ANSWERED, {"status": "Rejected"})]
    assert firmware(charge_point) == "half-done"
    assert not follow_ups.waiting().exists()


def test_the_beat_runs_a_follow_up_whose_task_was_never_queued() -> None:
    """A process that died between committing the end and queueing the task."""
    call = sent(connected())
    ChargePointCall.objects.filter(pk=call.pk).update(
        state=CallState.ANSWERED, response={"status": "Accepted"}, finished_at=timezone.now()
    )
    assert ran == []

    follow_up_overdue()

    assert ran == [(str(call.pk), CallState.ANSWERED, {"status": "Accepted"})]


def test_the_beat_ends_a_call_nobody_holds_past_its_deadline_and_follows_it_up() -> None:
    charge_point = connected()
    call = calls.send(charge_point, "Reset", {"type": "Soft"}, timeout=5, follow_up="tests.record")
    ChargePointCall.objects.filter(pk=call.pk).update(
        deadline=timezone.now() - timedelta(seconds=1)
    )

    follow_up_overdue()

    assert ChargePointCall.objects.get(pk=call.pk).state == CallState.TIMED_OUT
    assert ran == [(str(call.pk), CallState.TIMED_OUT, None)]


def test_send_refuses_a_follow_up_nobody_registered_and_stores_nothing() -> None:
    with pytest.raises(ValueError, match="No follow-up is registered as 'tests.nobody'"):
        calls.send(connected(), "Reset", {"type": "Soft"}, follow_up="tests.nobody")

    assert not ChargePointCall.objects.exists()


def test_a_call_naming_an_unknown_follow_up_waits_for_a_process_that_knows_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A newer deploy's follow-up, met by an older worker: kept for the one that knows it."""
    call = sent(connected())
    ChargePointCall.objects.filter(pk=call.pk).update(
        follow_up="newer.deploy", state=CallState.ANSWERED, finished_at=timezone.now()
    )

    assert follow_ups.run(str(call.pk)) is False

    assert "not registered" in caplog.text
    assert follow_ups.waiting().filter(pk=call.pk).exists()


def test_names_are_registered_once() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        follow_ups.follow_up("tests.record")(lambda call: None)
    with pytest.raises(ValueError, match="1 to 64 characters"):
        follow_ups.follow_up("")
