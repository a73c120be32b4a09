"""Waiting for other processes (a Celery worker, a partner) with a deadline, not a sleep."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_INTERVAL = 0.05
# Celery beat queues push.resend_due every PUSH_RESEND_SECONDS (15 s by default); tests that
# stand in for beat call it this often instead.
BEAT_INTERVAL = 0.25


def wait_until(
    read: Callable[[], T | None],
    *,
    timeout: float = 15.0,
    beat: Callable[[], object] | None = None,
    what: str = "the condition",
) -> T:
    """Poll `read()` until it returns something truthy and return that.

    With `beat`, call it every BEAT_INTERVAL meanwhile (e.g. push.tasks.resend_due, which is
    what Celery beat would run).
    """
    deadline = time.monotonic() + timeout
    next_beat = time.monotonic()
    while True:
        if beat is not None and time.monotonic() >= next_beat:
            beat()
            next_beat = time.monotonic() + BEAT_INTERVAL
        value = read()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout:.0f} s (last: {value!r})")
        time.sleep(POLL_INTERVAL)
