"""Calls to charge points from anywhere: a web request, a Celery task, the admin.

Each call's state lives in its ChargePointCall row, PENDING → SENT → ANSWERED | FAILED |
TIMED_OUT, so a lost notification delays a call and never loses it:

    send()    checks the payload against the OCPP schema of the charge point's version, stores
              the PENDING row and, once that is committed, wakes the gateways
    gateway   the process holding the charge point's websocket (chargers.gateway.outgoing)
              claims its oldest PENDING call, one outstanding per charge point, sends it and
              records the answer
    wait()    blocks until the row is final; at the deadline it marks the call TIMED_OUT itself

Wake-ups, one mechanism in each mode:

    REDIS_URL set   send() PUBLISHes the identity on channel WAKE; every gateway subscribes
                    (and still reads the database every OCPP_CALL_POLL_SECONDS). A gateway
                    PUBLISHes on the call's own channel once it ends the call; wait() subscribes
                    to it and re-reads the row every RECHECK_SECONDS regardless.
    no Redis        (the embedded default: SQLite on one machine) nothing is published: gateways
                    read the database every OCPP_CALL_POLL_SECONDS, wait() polls the row with a
                    short backoff.
"""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from ocpp.messages import MessageType

from chargers import follow_ups
from chargers.gateway import validation
from chargers.models import CallState, ChargePoint, ChargePointCall, OcppVersion

logger = logging.getLogger(__name__)

Payload = dict[str, Any]

# With Redis, a waiter re-reads its row this often even without a notification: a lost PUBLISH
# (Redis restarted, a gateway died between its write and its PUBLISH) costs at most this much.
RECHECK_SECONDS = 0.5
# Without Redis, a waiter polls its row, from every POLL_FIRST_SECONDS backing off to every
# POLL_MAX_SECONDS: a read of one row by primary key, cheap next to the gateway's own poll
# (OCPP_CALL_POLL_SECONDS), whose delay it adds half of this to on average.
POLL_FIRST_SECONDS = 0.01
POLL_MAX_SECONDS = 0.05
# A PUBLISH or SUBSCRIBE that takes longer than this has failed: the database still has the
# call, so giving up on Redis costs a delay, never the call.
REDIS_TIMEOUT_SECONDS = 2.0

WAKE = "calls"  # the wake-up channel's name (its message: a charge point identity)


class InvalidCall(ValueError):
    """The payload does not match the OCPP schema of the action (or there is no such action)
    in the charge point's version; nothing was stored."""


class ChargePointOffline(Exception):
    """No gateway holds the charge point's websocket; nothing was stored.

    Refused rather than queued: a call kept until the charge point comes back would reach it
    at an unknown later time (a Reset hours after it was asked for), and a caller learns at
    once what it would otherwise learn only at the deadline. A charge point that disconnects
    after send() accepted its call gets it if it reconnects before the deadline."""


class CallInTransaction(RuntimeError):
    """wait() (or call()) inside a database transaction: the gateway could not see the row
    (or, on SQLite, could not write its answer before this transaction ends)."""


def version_of(charge_point: ChargePoint) -> str:
    """The OCPP version its messages use: the one it connected with, else the provisioned one."""
    return charge_point.connected_version or charge_point.ocpp_version


def send(
    charge_point: ChargePoint,
    action: str,
    payload: Payload,
    *,
    timeout: float | None = None,
    requested_by: str = "",
    follow_up: str = "",
) -> ChargePointCall:
    """Queue a call of `action` to the charge point and return its PENDING row at once.

    `timeout` (seconds, default OCPP_CALL_TIMEOUT_SECONDS) sets its deadline: unanswered by
    then, it ends TIMED_OUT. `follow_up` names what runs once it has ended (chargers.
    follow_ups). Raises InvalidCall or ChargePointOffline before storing anything.
    Inside a transaction, the gateways are woken when it commits."""
    seconds = settings.OCPP_CALL_TIMEOUT_SECONDS if timeout is None else timeout
    if seconds <= 0:
        raise ValueError(f"A call's timeout must be positive, not {seconds!r}")
    if follow_up and not follow_ups.is_registered(follow_up):
        raise ValueError(f"No follow-up is registered as {follow_up!r}")
    current = ChargePoint.objects.only(
        "identity", "ocpp_version", "connected_version", "gateway"
    ).get(pk=charge_point.pk)
    version = version_of(current)
    problems = validation.problems(MessageType.Call, action, version, payload)
    if problems:
        raise InvalidCall(
            f"{action} to {current.identity} does not match OCPP {version}: " + "; ".join(problems)
        )
    if not current.online:
        raise ChargePointOffline(f"Charge point {current.identity} is not connected")
    now = timezone.now()
    with transaction.atomic():
        row = ChargePointCall.objects.create(
            charge_point=current,
            action=action,
            payload=payload,
            requested_by=requested_by,
            follow_up=follow_up,
            created_at=now,
            deadline=now + timedelta(seconds=seconds),
        )
        transaction.on_commit(lambda: publish(WAKE, current.identity))
    return row


def wait(call: ChargePointCall, timeout: float | None = None) -> ChargePointCall:
    """Block until the call is final and return its row as stored.

    At its deadline the call is marked TIMED_OUT here (never over an answer that came first).
    `timeout` caps how long to block (seconds): when it passes first, the row is returned as it
    then is, still PENDING or SENT, and the call goes on without a waiter."""
    if connection.in_atomic_block:
        raise CallInTransaction("wait() for a charge point's answer outside any transaction")
    give_up = None if timeout is None else time.monotonic() + timeout
    pause = POLL_FIRST_SECONDS
    with _ended_notifications(str(call.pk)) as notifications:
        while True:
            current = ChargePointCall.objects.get(pk=call.pk)
            now = timezone.now()
            if current.state in ChargePointCall.FINAL:
                return current
            if current.deadline <= now:
                expire_overdue(now, call_id=str(call.pk))
                continue
            if give_up is not None and time.monotonic() >= give_up:
                return current
            longest = (current.deadline - now).total_seconds()
            if give_up is not None:
                longest = min(longest, give_up - time.monotonic())
            if notifications is not None:
                _next_message(notifications, min(RECHECK_SECONDS, longest))
            else:
                time.sleep(max(0.0, min(pause, longest)))
                pause = min(pause * 2, POLL_MAX_SECONDS)


def call(
    charge_point: ChargePoint,
    action: str,
    payload: Payload,
    *,
    timeout: float | None = None,
    requested_by: str = "",
    follow_up: str = "",
) -> ChargePointCall:
    """send() and wait() for the answer (or the deadline): the final row."""
    if connection.in_atomic_block:
        raise CallInTransaction("call() a charge point outside any transaction")
    return wait(
        send(
            charge_point,
            action,
            payload,
            timeout=timeout,
            requested_by=requested_by,
            follow_up=follow_up,
        )
    )


def expire_overdue(now: datetime, *, call_id: str | None = None) -> int:
    """Mark TIMED_OUT every call (or the one) still PENDING or SENT at its deadline; the
    condition on the state keeps an answer stored first. Returns how many were marked."""
    overdue = ChargePointCall.objects.filter(
        state__in=(CallState.PENDING, CallState.SENT), deadline__lte=now
    )
    if call_id is not None:
        overdue = overdue.filter(pk=call_id)
    # Read first, for the follow-ups: a call among these answered meanwhile is not marked, and
    # queueing its follow-up twice runs it once.
    following = list(overdue.exclude(follow_up="").values_list("pk", flat=True))
    expired = overdue.update(
        state=CallState.TIMED_OUT,
        finished_at=now,
        error_description="No answer before the deadline",
    )
    follow_ups.ended(str(pk) for pk in following)
    return expired


# --- the calls of this issue, with the payload of the charge point's version ----------------


def trigger_message(
    charge_point: ChargePoint, requested: str, evse_id: int | None = None, **options: Any
) -> ChargePointCall:
    """Ask for a message now (StatusNotification, MeterValues, …), of one EVSE (1.6: its
    connector) or of the charge point. `options` are send()'s."""
    payload: Payload = {"requestedMessage": requested}
    if evse_id is not None:
        if version_of(charge_point) == OcppVersion.V16:
            payload["connectorId"] = evse_id
        else:
            payload["evse"] = {"id": evse_id}
    return send(charge_point, "TriggerMessage", payload, **options)


def change_availability(
    charge_point: ChargePoint, operative: bool, evse_id: int | None = None, **options: Any
) -> ChargePointCall:
    """Make one EVSE (1.6: its connector), or the whole charge point, (in)operative."""
    status = "Operative" if operative else "Inoperative"
    if version_of(charge_point) == OcppVersion.V16:
        # 1.6 ChangeAvailability: connectorId 0 is the charge point as a whole.
        payload: Payload = {"connectorId": evse_id or 0, "type": status}
    else:
        payload = {"operationalStatus": status}
        if evse_id is not None:
            payload["evse"] = {"id": evse_id}
    return send(charge_point, "ChangeAvailability", payload, **options)


def reset(charge_point: ChargePoint, hard: bool, **options: Any) -> ChargePointCall:
    """Reboot the charge point: hard stops transactions at once (1.6 Hard, 2.0.1 Immediate),
    soft lets them end first (1.6 Soft, 2.0.1 OnIdle)."""
    if version_of(charge_point) == OcppVersion.V16:
        payload = {"type": "Hard" if hard else "Soft"}
    else:
        payload = {"type": "Immediate" if hard else "OnIdle"}
    return send(charge_point, "Reset", payload, **options)


# --- Redis: wake-ups and end notifications --------------------------------------------------


@cache
def _client(url: str) -> "redis.Redis":
    """One client (so one connection pool) per process and URL."""
    return redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )


def channel(name: str) -> str:
    """The Pub/Sub channel `name` of this platform. Redis channels ignore the database number,
    so it is part of the name: two platforms (or test runs) on one Redis hear only their own."""
    database = _client(settings.REDIS_URL).connection_pool.connection_kwargs.get("db", 0)
    return f"ocpp:{database}:{name}"


def ended(call_id: str) -> str:
    """The name of the channel where the end of one call is announced (its waiters listen)."""
    return f"call:{call_id}"


def publish(name: str, message: str) -> None:
    """PUBLISH on channel `name` when REDIS_URL is set, else nothing (the embedded mode polls).
    A failure is logged: the database holds everything, readers find it on their next read."""
    if not settings.REDIS_URL:
        return
    try:
        _client(settings.REDIS_URL).publish(channel(name), message)
    except redis.RedisError:
        logger.warning("Could not publish on %s; readers will find it in the database", name)


def wake_ups(stop: threading.Event, listening: threading.Event) -> Iterator[str]:
    """The identities announced on WAKE, as they come, until `stop` is set (looked at least
    every REDIS_TIMEOUT_SECONDS); `listening` is set once Redis confirmed the subscription.
    Blocking: for a thread of its own. Raises redis.RedisError when Redis fails; the caller
    subscribes again later (the database poll goes on)."""
    pubsub = _client(settings.REDIS_URL).pubsub(ignore_subscribe_messages=False)
    try:
        pubsub.subscribe(channel(WAKE))
        while not stop.is_set():
            message = pubsub.get_message(timeout=REDIS_TIMEOUT_SECONDS)
            if message is None:
                continue
            if message["type"] == "subscribe":
                listening.set()
            elif message["type"] == "message":
                yield message["data"].decode()
    finally:
        listening.clear()
        pubsub.close()


@contextmanager
def _ended_notifications(call_id: str) -> Iterator["redis.client.PubSub | None"]:
    """A subscription to the call's end channel, confirmed before the first read of the row (so
    no end announced after that read is missed); None without Redis or when it is down."""
    if not settings.REDIS_URL:
        yield None
        return
    pubsub = _client(settings.REDIS_URL).pubsub(ignore_subscribe_messages=False)
    try:
        pubsub.subscribe(channel(ended(call_id)))
        pubsub.get_message(timeout=REDIS_TIMEOUT_SECONDS)  # the confirmation
    except redis.RedisError:
        logger.warning("Redis unavailable: waiting for call %s by polling", call_id)
        pubsub.close()
        yield None
        return
    try:
        yield pubsub
    finally:
        pubsub.close()


def _next_message(pubsub: "redis.client.PubSub", seconds: float) -> None:
    """Wait up to `seconds` for an announcement (its content does not matter: the row says)."""
    try:
        pubsub.get_message(timeout=max(0.0, seconds))
    except redis.RedisError:
        time.sleep(max(0.0, seconds))
