"""The callers' side of calls to charge points (chargers.calls): what send() refuses before
storing anything, what it stores, the payloads of each version, and how wait() ends."""

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chargers import calls
from chargers.gateway.outgoing import _finish
from chargers.models import CallState, ChargePoint, ChargePointCall


def connected(identity: str = "CP-1", *, version: str = "1.6", **fields: Any) -> ChargePoint:
    fields.setdefault("gateway", "gw-a")
    return ChargePoint.objects.create(identity=identity, connected_version=version, **fields)


def sent(charge_point: ChargePoint, *, timeout: float = 30) -> ChargePointCall:
    """A call as a gateway left it after sending (committed)."""
    call = calls.send(charge_point, "Reset", {"type": "Soft"}, timeout=timeout)
    ChargePointCall.objects.filter(pk=call.pk).update(state=CallState.SENT, sent_at=timezone.now())
    return call


def answer_later(call: ChargePointCall, seconds: float, *, announce: bool = True) -> None:
    """Answer the call from another thread after `seconds`, as a gateway would (announcing the
    end), or only in the database (a lost notification)."""

    def answer() -> None:
        time.sleep(seconds)
        if announce:
            _finish(str(call.pk), CallState.SENT, state=CallState.ANSWERED, response={"a": 1})
        else:
            ChargePointCall.objects.filter(pk=call.pk).update(
                state=CallState.ANSWERED, response={"a": 1}, finished_at=timezone.now()
            )

    threading.Thread(target=answer, daemon=True).start()


# --- send ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_send_stores_a_pending_call_with_its_deadline(settings: Any) -> None:
    settings.OCPP_CALL_TIMEOUT_SECONDS = 45
    charge_point = connected()

    call = calls.send(charge_point, "Reset", {"type": "Hard"}, requested_by="ops@cpo")
    quick = calls.send(charge_point, "Reset", {"type": "Soft"}, timeout=2.5)

    stored = ChargePointCall.objects.get(pk=call.pk)
    assert (stored.charge_point, stored.action, stored.payload, stored.state) == (
        charge_point,
        "Reset",
        {"type": "Hard"},
        CallState.PENDING,
    )
    assert stored.requested_by == "ops@cpo"
    assert stored.deadline - stored.created_at == timedelta(seconds=45)
    assert quick.deadline - quick.created_at == timedelta(seconds=2.5)
    assert (stored.sent_at, stored.finished_at, stored.response) == (None, None, None)


@pytest.mark.django_db
def test_an_invalid_payload_is_refused_before_anything_is_stored() -> None:
    charge_point = connected()

    with pytest.raises(calls.InvalidCall) as refused:
        calls.send(charge_point, "Reset", {"type": "Immediate"})

    assert str(refused.value) == (
        "Reset to CP-1 does not match OCPP 1.6: 'Immediate' is not one of ['Hard', 'Soft'] "
        "(at type)"
    )
    assert isinstance(refused.value, ValueError)
    assert not ChargePointCall.objects.exists()


@pytest.mark.django_db
def test_an_action_the_version_does_not_have_is_refused() -> None:
    charge_point = connected()

    with pytest.raises(calls.InvalidCall, match="OCPP 1.6 has no action 'RequestStartTransaction'"):
        calls.send(charge_point, "RequestStartTransaction", {"idToken": {}})

    assert not ChargePointCall.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["../v201/schemas/ResetRequest", "Reset ", ""])
def test_an_action_must_be_a_name(action: str) -> None:
    with pytest.raises(calls.InvalidCall, match="is not an OCPP action name"):
        calls.send(connected(), action, {"type": "Hard"})

    assert not ChargePointCall.objects.exists()


@pytest.mark.django_db
def test_the_version_it_connected_with_decides_over_the_provisioned_one() -> None:
    charge_point = connected(version="2.0.1", ocpp_version="1.6")

    calls.send(charge_point, "Reset", {"type": "Immediate"})
    with pytest.raises(calls.InvalidCall, match="does not match OCPP 2.0.1"):
        calls.send(charge_point, "Reset", {"type": "Hard"})

    offline_provisioned = connected("CP-2", version="", ocpp_version="2.0.1")
    assert calls.send(offline_provisioned, "Reset", {"type": "OnIdle"}).state == CallState.PENDING


@pytest.mark.django_db
def test_1_6_charging_profiles_validate_their_decimals_as_the_library_does() -> None:
    """multipleOf 0.1 on a binary float fails; the library parses these schemas as Decimal."""
    profile = {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 21.4}],
            },
        },
    }

    call = calls.send(connected(), "SetChargingProfile", profile)

    assert ChargePointCall.objects.get(pk=call.pk).payload == profile


@pytest.mark.django_db
def test_an_offline_charge_point_is_refused_before_anything_is_stored() -> None:
    offline = connected(gateway="")

    with pytest.raises(calls.ChargePointOffline, match="Charge point CP-1 is not connected"):
        calls.send(offline, "Reset", {"type": "Hard"})

    assert not ChargePointCall.objects.exists()


@pytest.mark.django_db
def test_send_reads_the_connection_afresh() -> None:
    """The caller's object is older than the disconnection: the database decides."""
    charge_point = connected()
    ChargePoint.objects.filter(pk=charge_point.pk).update(gateway="")

    with pytest.raises(calls.ChargePointOffline):
        calls.send(charge_point, "Reset", {"type": "Hard"})


@pytest.mark.django_db
@pytest.mark.parametrize("seconds", [0, -1])
def test_a_timeout_must_be_positive(seconds: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        calls.send(connected(), "Reset", {"type": "Hard"}, timeout=seconds)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("version", "make", "action", "payload"),
    [
        ("1.6", lambda cp: calls.trigger_message(cp, "StatusNotification"), "TriggerMessage",
         {"requestedMessage": "StatusNotification"}),
        ("1.6", lambda cp: calls.trigger_message(cp, "MeterValues", evse_id=2), "TriggerMessage",
         {"requestedMessage": "MeterValues", "connectorId": 2}),
        ("2.0.1", lambda cp: calls.trigger_message(cp, "StatusNotification"), "TriggerMessage",
         {"requestedMessage": "StatusNotification"}),
        ("2.0.1", lambda cp: calls.trigger_message(cp, "MeterValues", evse_id=2),
         "TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 2}}),
        ("1.6", lambda cp: calls.change_availability(cp, operative=False), "ChangeAvailability",
         {"connectorId": 0, "type": "Inoperative"}),
        ("1.6", lambda cp: calls.change_availability(cp, operative=True, evse_id=3),
         "ChangeAvailability", {"connectorId": 3, "type": "Operative"}),
        ("2.0.1", lambda cp: calls.change_availability(cp, operative=False),
         "ChangeAvailability", {"operationalStatus": "Inoperative"}),
        ("2.0.1", lambda cp: calls.change_availability(cp, operative=True, evse_id=3),
         "ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 3}}),
        ("1.6", lambda cp: calls.reset(cp, hard=True), "Reset", {"type": "Hard"}),
        ("1.6", lambda cp: calls.reset(cp, hard=False), "Reset", {"type": "Soft"}),
        ("2.0.1", lambda cp: calls.reset(cp, hard=True), "Reset", {"type": "Immediate"}),
        ("2.0.1", lambda cp: calls.reset(cp, hard=False), "Reset", {"type": "OnIdle"}),
    ],
)  # fmt: skip
def test_the_calls_of_this_issue_in_each_version(
    version: str, make: Any, action: str, payload: dict[str, Any]
) -> None:
    call = make(connected(version=version))

    assert (call.action, call.payload, call.state) == (action, payload, CallState.PENDING)


@pytest.mark.django_db
def test_a_message_the_version_cannot_trigger_is_refused() -> None:
    with pytest.raises(calls.InvalidCall, match="'TransactionEvent' is not one of"):
        calls.trigger_message(connected(version="1.6"), "TransactionEvent")


@pytest.mark.django_db
def test_convenience_calls_pass_send_options() -> None:
    call = calls.reset(connected(), hard=True, timeout=5, requested_by="admin:ops")

    assert (call.deadline - call.created_at, call.requested_by) == (
        timedelta(seconds=5),
        "admin:ops",
    )


# --- wake-ups -----------------------------------------------------------------------------------


class WakeUps:
    """The wake-ups gateways get: read from Redis Pub/Sub when REDIS_URL is set; in the
    embedded mode (nothing to subscribe to) what send() hands to calls.publish, which sends
    nothing there: either way, when and whether a wake-up goes out."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pubsub: redis.client.PubSub | None = None
        self.published: list[bytes] = []
        if settings.REDIS_URL:
            client = redis.Redis.from_url(settings.REDIS_URL)
            self.pubsub = client.pubsub(ignore_subscribe_messages=True)
            self.pubsub.subscribe(calls.channel(calls.WAKE))
            self.pubsub.get_message(timeout=1)
        else:
            publish = calls.publish

            def recording(name: str, message: str) -> None:
                if name == calls.WAKE:
                    self.published.append(message.encode())
                publish(name, message)

            monkeypatch.setattr(calls, "publish", recording)

    def next(self) -> bytes | None:
        if self.pubsub is None:
            return self.published.pop(0) if self.published else None
        message = self.pubsub.get_message(timeout=0.5)
        return None if message is None else message["data"]


@pytest.fixture
def wake_ups(monkeypatch: pytest.MonkeyPatch) -> Iterator[WakeUps]:
    wake_ups = WakeUps(monkeypatch)
    yield wake_ups
    if wake_ups.pubsub is not None:
        wake_ups.pubsub.close()


@pytest.mark.django_db(transaction=True)
def test_the_gateways_are_woken_once_the_call_is_committed(wake_ups: WakeUps) -> None:
    charge_point = connected()
    with transaction.atomic():
        calls.send(charge_point, "Reset", {"type": "Hard"})
        assert wake_ups.next() is None

    assert wake_ups.next() == b"CP-1"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_call_wakes_nobody(wake_ups: WakeUps) -> None:
    charge_point = connected()

    def failing_request() -> None:
        with transaction.atomic():
            calls.send(charge_point, "Reset", {"type": "Hard"})
            raise RuntimeError("the caller's transaction fails")

    with pytest.raises(RuntimeError):
        failing_request()

    assert wake_ups.next() is None
    assert not ChargePointCall.objects.exists()


def test_channels_are_named_per_redis_database(settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:6379/7"

    assert calls.channel(calls.WAKE) == "ocpp:7:calls"
    assert calls.channel(calls.ended("abc")) == "ocpp:7:call:abc"


@pytest.mark.django_db(transaction=True)
def test_redis_down_delays_nothing_the_database_holds(settings: Any) -> None:
    """The wake-up cannot be published and wait() cannot subscribe: the row still gets there."""
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    call = sent(connected())

    answer_later(call, 0.2)
    done = calls.wait(call, timeout=5)

    assert done.state == CallState.ANSWERED


# --- wait ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_wait_returns_the_answer_as_soon_as_it_is_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    """With Redis the end announcement wakes it (the re-check is pushed far out here); without,
    its polling finds the row within POLL_MAX_SECONDS."""
    monkeypatch.setattr(calls, "RECHECK_SECONDS", 10.0)
    call = sent(connected())
    answer_later(call, 0.3)
    started = time.monotonic()

    done = calls.wait(call)

    assert (done.state, done.response) == (CallState.ANSWERED, {"a": 1})
    assert time.monotonic() - started < 0.3 + calls.POLL_MAX_SECONDS + 0.3


@pytest.mark.django_db(transaction=True)
def test_a_lost_notification_only_delays_the_waiter() -> None:
    call = sent(connected())
    answer_later(call, 0.2, announce=False)
    started = time.monotonic()

    done = calls.wait(call)

    assert done.state == CallState.ANSWERED
    assert time.monotonic() - started < 0.2 + calls.RECHECK_SECONDS + 0.5


@pytest.mark.django_db(transaction=True)
def test_at_the_deadline_the_waiter_marks_the_call_timed_out() -> None:
    call = sent(connected(), timeout=0.4)
    started = time.monotonic()

    done = calls.wait(call)

    assert 0.3 <= time.monotonic() - started < 1.5
    assert (done.state, done.error_description) == (
        CallState.TIMED_OUT,
        "No answer before the deadline",
    )
    assert done.finished_at is not None
    assert done.finished_at >= done.deadline
    assert done.response is None


@pytest.mark.django_db(transaction=True)
def test_a_pending_call_times_out_too() -> None:
    """Its charge point's gateway never took it (it died without saying so)."""
    call = calls.send(connected(gateway="gw-dead"), "Reset", {"type": "Hard"}, timeout=0.3)

    assert calls.wait(call).state == CallState.TIMED_OUT


@pytest.mark.django_db(transaction=True)
def test_the_deadline_never_overwrites_an_answer_stored_first() -> None:
    call = sent(connected(), timeout=0.2)
    _finish(str(call.pk), CallState.SENT, state=CallState.ANSWERED, response={"a": 1})
    time.sleep(0.3)

    assert calls.expire_overdue(timezone.now()) == 0
    done = calls.wait(call)
    assert (done.state, done.response, done.error_description) == (
        CallState.ANSWERED,
        {"a": 1},
        "",
    )


@pytest.mark.django_db(transaction=True)
def test_a_waiter_may_give_up_before_the_deadline_and_the_call_goes_on() -> None:
    call = sent(connected(), timeout=30)
    started = time.monotonic()

    still = calls.wait(call, timeout=0.3)

    assert 0.3 <= time.monotonic() - started < 1.3
    assert still.state == CallState.SENT
    assert ChargePointCall.objects.get(pk=call.pk).state == CallState.SENT


@pytest.mark.django_db
def test_waiting_inside_a_transaction_is_refused() -> None:
    """The test's own transaction: no gateway could see the row (SQLite: nor answer it)."""
    charge_point = connected()
    call = calls.send(charge_point, "Reset", {"type": "Hard"})

    with pytest.raises(calls.CallInTransaction):
        calls.wait(call)
    with pytest.raises(calls.CallInTransaction):
        calls.call(charge_point, "Reset", {"type": "Hard"})
    assert ChargePointCall.objects.count() == 1
