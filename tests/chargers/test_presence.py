"""Offline beyond the grace period: a charge point's EVSEs UNKNOWN, pushed; back: each EVSE to
its last reported status, and fresh statuses asked for (chargers.presence, chargers.tasks)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from pytest_django import DjangoAssertNumQueries

from chargers import calls, presence, tasks
from chargers.models import ChargePoint
from config.celery import app as celery_app
from locations.models import EVSE, Location
from locations.services import evse_set_status
from ocpi.time import now
from tests.chargers.status_estate import (
    UIDS,
    call,
    charge_point,
    location,
    partner,
    patch_of,
    patches,
    statuses,
)

__all__ = ["location", "partner"]  # fixtures

pytestmark = pytest.mark.django_db

GRACE = 300


@pytest.fixture(autouse=True)
def _grace(settings: Any) -> None:
    settings.OCPP_OFFLINE_GRACE_SECONDS = GRACE


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The charge points asked for their statuses (the calls API is another part's)."""
    seen: list[str] = []
    monkeypatch.setattr(presence, "ask_for_statuses", lambda cp: seen.append(cp.identity))
    return seen


def reporting(version: str = "1.6") -> ChargePoint:
    """A connected charge point that reported Charging, Available, Reserved."""
    cp = charge_point(version, *UIDS, gateway="gw-1", connected_at=now())
    for connector, status in enumerate(("Charging", "Available", "Reserved"), start=1):
        call(
            cp,
            "StatusNotification",
            {"connectorId": connector, "errorCode": "NoError", "status": status},
        )
    return cp


def disconnect(cp: ChargePoint, seconds_ago: float) -> None:
    """What the gateway records when the connection ends."""
    cp.gateway = ""
    cp.disconnected_at = now() - timedelta(seconds=seconds_ago)
    cp.save(update_fields=["gateway", "disconnected_at"])


def connect(cp: ChargePoint) -> None:
    cp.gateway = "gw-2"
    cp.connected_at = now()
    cp.save(update_fields=["gateway", "connected_at"])


def test_offline_beyond_the_grace_period_its_evses_are_unknown_and_pushed(
    location: Location, eager_tasks: None
) -> None:
    cp = reporting()
    disconnect(cp, GRACE + 1)
    before = len(patches())

    tasks.mark_offline_due.delay()

    assert statuses() == ["UNKNOWN", "UNKNOWN", "UNKNOWN"]
    assert patches()[before:] == [patch_of(uid, "UNKNOWN") for uid in UIDS]
    assert ChargePoint.objects.get(pk=cp.pk).offline_marked


def within_the_grace_period(cp: ChargePoint) -> None:
    disconnect(cp, GRACE - 5)


def connected_again(cp: ChargePoint) -> None:
    disconnect(cp, GRACE + 60)
    connect(cp)


def never_connected(cp: ChargePoint) -> None:
    ChargePoint.objects.filter(pk=cp.pk).update(gateway="", connected_at=None)


@pytest.mark.parametrize("arrange", [within_the_grace_period, connected_again, never_connected])
def test_a_charge_point_not_gone_beyond_the_grace_period_is_left_alone(
    location: Location, eager_tasks: None, arrange: Callable[[ChargePoint], None]
) -> None:
    cp = reporting()
    arrange(cp)

    tasks.mark_offline_due.delay()

    assert statuses() == ["CHARGING", "AVAILABLE", "RESERVED"]
    assert not ChargePoint.objects.get(pk=cp.pk).offline_marked


def test_a_beat_run_with_nothing_to_do_is_one_query(
    location: Location, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    cp = reporting()
    disconnect(cp, GRACE + 1)
    presence.mark_offline(cp.pk)

    with django_assert_num_queries(1):
        tasks.mark_offline_due()


def test_marking_twice_marks_once(location: Location) -> None:
    cp = reporting()
    disconnect(cp, GRACE + 1)

    assert presence.mark_offline(cp.pk)
    count = len(patches())
    assert not presence.mark_offline(cp.pk)

    assert len(patches()) == count


def test_a_removed_evse_stays_removed_offline_and_back(
    location: Location, asked: list[str]
) -> None:
    cp = reporting()
    evse_set_status(evse=EVSE.objects.get(uid="LOC1-E2"), status="REMOVED")
    disconnect(cp, GRACE + 1)

    presence.mark_offline(cp.pk)
    assert statuses() == ["UNKNOWN", "UNKNOWN", "REMOVED"]
    connect(cp)
    presence.on_connected(cp)
    assert statuses() == ["CHARGING", "AVAILABLE", "REMOVED"]


def test_back_its_evses_return_to_their_statuses_and_it_is_asked_for_fresh_ones(
    location: Location, asked: list[str]
) -> None:
    cp = reporting()
    disconnect(cp, GRACE + 1)
    presence.mark_offline(cp.pk)
    before = len(patches())
    connect(cp)

    presence.on_connected(cp)

    assert statuses() == ["CHARGING", "AVAILABLE", "RESERVED"]
    assert patches()[before:] == [
        patch_of("LOC1-E0", "CHARGING"),
        patch_of("LOC1-E1", "AVAILABLE"),
        patch_of("LOC1-E2", "RESERVED"),
    ]
    assert not ChargePoint.objects.get(pk=cp.pk).offline_marked
    assert not cp.offline_marked
    assert asked == [cp.identity]


def test_back_with_the_whole_charge_point_faulted_its_evses_show_it(
    location: Location, asked: list[str]
) -> None:
    cp = reporting()
    call(
        cp, "StatusNotification", {"connectorId": 0, "errorCode": "OtherError", "status": "Faulted"}
    )
    disconnect(cp, GRACE + 1)
    presence.mark_offline(cp.pk)

    presence.on_connected(cp)

    assert statuses() == ["CHARGING", "OUTOFORDER", "OUTOFORDER"]


def test_a_connection_after_a_short_absence_costs_one_query_and_asks_nothing(
    location: Location, asked: list[str], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    cp = reporting()
    disconnect(cp, 5)
    before = len(patches())
    connect(cp)

    with django_assert_num_queries(1):
        presence.on_connected(cp)

    assert len(patches()) == before
    assert asked == []


def test_with_no_grace_period_it_is_offline_as_it_disconnects(
    location: Location, settings: Any
) -> None:
    settings.OCPP_OFFLINE_GRACE_SECONDS = 0
    cp = reporting()
    disconnect(cp, 0)

    presence.on_disconnected(cp)

    assert statuses() == ["UNKNOWN", "UNKNOWN", "UNKNOWN"]


def test_with_a_grace_period_a_disconnection_changes_nothing_at_once(location: Location) -> None:
    cp = reporting()
    disconnect(cp, 0)

    presence.on_disconnected(cp)

    assert statuses() == ["CHARGING", "AVAILABLE", "RESERVED"]
    assert not ChargePoint.objects.get(pk=cp.pk).offline_marked


def test_beat_looks_for_offline_charge_points() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["chargers-mark-offline"]

    assert entry["task"] == "chargers.mark_offline_due"
    assert entry["schedule"] == 30.0
    assert "chargers.mark_offline_due" in celery_app.tasks


# --- asking for statuses: the calls API ---------------------------------------------------


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any]]]:
    """chargers.calls as far as presence uses it: send() queues and returns at once."""
    seen: list[tuple[str, str, dict[str, Any]]] = []
    monkeypatch.setattr(
        calls, "send", lambda cp, action, payload: seen.append((cp.identity, action, payload))
    )
    return seen


def test_a_16_charge_point_is_asked_once_for_every_connector(
    location: Location, sent: list[tuple[str, str, dict[str, Any]]]
) -> None:
    cp = charge_point("1.6", *UIDS)

    presence.ask_for_statuses(cp)

    assert sent == [("CP-1.6", "TriggerMessage", {"requestedMessage": "StatusNotification"})]


def test_a_201_station_is_asked_for_each_evse(
    location: Location, sent: list[tuple[str, str, dict[str, Any]]]
) -> None:
    cp = charge_point("2.0.1", *UIDS[:2])

    presence.ask_for_statuses(cp)

    assert sent == [
        (
            "CP-2.0.1",
            "TriggerMessage",
            {"requestedMessage": "StatusNotification", "evse": {"id": 1}},
        ),
        (
            "CP-2.0.1",
            "TriggerMessage",
            {"requestedMessage": "StatusNotification", "evse": {"id": 2}},
        ),
    ]


def test_a_charge_point_gone_again_is_not_asked_and_nothing_fails(
    location: Location,
    sent: list[tuple[str, str, dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cp = charge_point("1.6", *UIDS)

    def gone(*args: object) -> None:
        raise calls.ChargePointOffline("not connected")

    monkeypatch.setattr(calls, "send", gone)

    with caplog.at_level("INFO", logger="chargers.presence"):
        presence.ask_for_statuses(cp)

    assert "not asked for its statuses: not connected" in caplog.text
