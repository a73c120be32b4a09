"""Load management's tasks: a burst of changes at a site queues one plan, a little later; the
beat plans every active site."""

from collections.abc import Callable
from typing import Any

import pytest

from chargers.models import ChargePoint
from chargingprofiles import tasks
from chargingprofiles.models import GridLimit
from locations.models import Location
from tests.chargingprofiles.conftest import calls, charging

pytestmark = pytest.mark.django_db


def test_a_burst_of_changes_at_a_site_queues_one_plan_after_the_debounce(
    location: Location,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    settings.LOAD_REPLAN_DEBOUNCE_SECONDS = 2.0
    queued: list[tuple[Any, Any]] = []
    monkeypatch.setattr(
        tasks.replan_site, "apply_async", lambda args, countdown: queued.append((args, countdown))
    )
    limit = GridLimit.objects.create(name="Car park", location=location, max_kw=10)

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            tasks.schedule_replan(limit.pk)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.schedule_replan(limit.pk)  # before the plan ran: still the one queued

    assert queued == [((limit.pk,), 2.0)]


def test_the_plan_task_lets_the_next_change_queue_again(
    location: Location,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queued: list[Any] = []
    monkeypatch.setattr(
        tasks.replan_site, "apply_async", lambda args, countdown: queued.append(args)
    )
    limit = GridLimit.objects.create(name="Car park", location=location, max_kw=10)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.schedule_replan(limit.pk)

    tasks.replan_site(limit.pk)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.schedule_replan(limit.pk)

    assert queued == [(limit.pk,), (limit.pk,)]


def test_the_beat_plans_every_active_site(
    point: ChargePoint, location: Location, eager_tasks: None
) -> None:
    on = GridLimit.objects.create(name="On", location=location, max_kw=10)
    on.evses.set(location.evses.filter(uid="3256"))
    GridLimit.objects.create(name="Off", location=location, max_kw=1, active=False)
    charging(point, "3256")

    tasks.replan_all()

    on.refresh_from_db()
    assert on.planned_at is not None
    assert [call.action for call in calls()] == ["SetChargingProfile"]
    assert GridLimit.objects.get(name="Off").planned_at is None
