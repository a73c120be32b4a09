"""Waking the partners' tasks: one task per partner at a time, which sends what is
committed while it runs, and recovery from a task that died holding its wake-up."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache

from ocpi.routing import PartyRef
from ocpi.time import now
from push import delivery, services, tasks
from push.models import Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db

OWNER = PartyRef.of("NL", "TNM")


def push(location: str) -> None:
    services.push_change(
        module="locations",
        method="PUT",
        owner=OWNER,
        object_key=f"locations:NL:TNM:{location}",
        path=["NL", "TNM", location],
        payload={"id": location},
        targets=services.catalogue_targets("locations"),
    )


def marker(partner_id: int) -> str:
    return services.KICK_KEY.format(partner_id=partner_id)


@pytest.fixture
def woken(monkeypatch) -> list[int]:
    """The partners a wake-up was queued for (the task itself is called by the test)."""
    queued: list[int] = []
    monkeypatch.setattr(tasks.deliver_partner, "delay", queued.append)
    return queued


def test_a_change_committed_while_the_task_runs_queues_it_once_more_and_nothing_else(
    sink, make_partner, woken, monkeypatch, django_capture_on_commit_callbacks
):
    partner = make_partner(sink.url)
    with django_capture_on_commit_callbacks(execute=True):
        push("LOC1")
    assert woken == [partner.pk]

    one_pass = delivery.deliver_due

    def a_change_during_the_pass(partner_id: int) -> int:
        sent = one_pass(partner_id)
        with django_capture_on_commit_callbacks(execute=True):
            push("LOC2")  # finds the task's marker: wakes nobody
        return sent

    monkeypatch.setattr(delivery, "deliver_due", a_change_during_the_pass)
    assert tasks.deliver_partner(partner.pk) == 1
    assert woken == [partner.pk, partner.pk]  # the task queued itself again, behind the others
    assert cache.get(marker(partner.pk)) == 1  # … and holds the marker for that run

    monkeypatch.setattr(delivery, "deliver_due", one_pass)
    assert tasks.deliver_partner(partner.pk) == 1
    assert [r.path for r in sink.received] == ["/locations/NL/TNM/LOC1", "/locations/NL/TNM/LOC2"]
    assert woken == [partner.pk, partner.pk]
    assert cache.get(marker(partner.pk)) is None  # done: the next change wakes a new task


def test_a_change_after_the_task_ended_wakes_a_new_one(
    sink, make_partner, woken, django_capture_on_commit_callbacks
):
    partner = make_partner(sink.url)
    with django_capture_on_commit_callbacks(execute=True):
        push("LOC1")
    tasks.deliver_partner(partner.pk)
    with django_capture_on_commit_callbacks(execute=True):
        push("LOC2")

    assert woken == [partner.pk, partner.pk]


def test_a_task_that_can_send_nothing_due_ends(sink, make_partner, woken):
    """What is due waits behind a delivery another task has in flight: that task's own last
    look finds it; this one must not queue itself again and again."""
    partner = make_partner(sink.url)
    push("LOC1")
    push("LOC1")  # a PUT of the same object supersedes only what is pending: claim the first
    first = Delivery.objects.order_by("pk").first()
    Delivery.objects.filter(pk=first.pk).update(status=DeliveryStatus.IN_FLIGHT, claimed_at=now())
    cache.add(marker(partner.pk), 1)

    assert delivery.has_due(partner.pk)
    assert tasks.deliver_partner(partner.pk) == 0
    assert sink.received == []
    assert woken == []  # not queued again: it would find the same
    assert cache.get(marker(partner.pk)) is None


def test_the_beat_wakes_a_partner_whose_task_died_holding_its_marker(make_partner, woken):
    partner = make_partner("http://127.0.0.1:9")
    push("LOC1")
    stale = now() - timedelta(seconds=settings.PUSH_CLAIM_LEASE_SECONDS + 1)
    Delivery.objects.update(status=DeliveryStatus.IN_FLIGHT, claimed_at=stale)
    cache.add(marker(partner.pk), 1)  # left by the killed task, alive for a minute more

    tasks.resend_due()

    assert woken == [partner.pk]
    assert Delivery.objects.get().status == DeliveryStatus.PENDING
