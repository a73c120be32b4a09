"""The one rule the rendered-JSON cache's exactness rests on (ocpi.jsoncache): a write's
last_updated (ocpi.time.moment_after) is strictly later than the object's last_updated so
far, whatever the clock says."""

from datetime import UTC, datetime, timedelta

import pytest

from ocpi import time
from ocpi.time import TICK, moment_after

NOW = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _stopped_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "now", lambda: NOW)


def test_a_new_object_gets_now() -> None:
    assert moment_after(None) == NOW


def test_an_object_last_written_before_now_gets_now() -> None:
    assert moment_after(NOW - TICK) == NOW


def test_a_second_write_in_the_same_millisecond_gets_the_next_one() -> None:
    assert moment_after(NOW) == NOW + TICK


def test_a_clock_stepped_back_still_moves_last_updated_forward() -> None:
    ahead = NOW + timedelta(minutes=5)

    assert moment_after(ahead) == ahead + TICK


def test_the_step_is_the_precision_we_render() -> None:
    assert (time.format_datetime(moment_after(NOW)), time.format_datetime(NOW)) == (
        "2026-03-01T12:00:00.124Z",
        "2026-03-01T12:00:00.123Z",
    )
