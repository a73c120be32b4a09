"""push.history: sent deliveries, their attempts and changes forgotten after PUSH_KEEP_DAYS."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings

from config.celery import app
from ocpi.routing import PartyRef
from ocpi.time import now
from push import delivery, history, services, tasks
from push.models import Attempt, Change, Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db

OWNER = PartyRef.of("NL", "TNM")


def push(name: str, method: str = "PUT", module: str = "locations") -> Change:
    change = services.push_change(
        module=module,
        method=method,
        owner=OWNER,
        object_key=f"{module}:{name}",
        path=[] if method == "POST" else ["NL", "TNM", name],
        payload={"id": name},
        targets=services.catalogue_targets("locations"),
    )
    assert change is not None
    return change


def age(change: Change, days: float) -> None:
    """Make a change and its deliveries `days` old, as if sent then."""
    moment = now() - timedelta(days=days)
    Change.objects.filter(pk=change.pk).update(created_at=moment)
    Delivery.objects.filter(change=change).update(
        created_at=moment,
        next_attempt_at=moment,
        delivered_at=moment if Delivery.objects.get(change=change).delivered_at else None,
    )


def names() -> list[str]:
    return sorted(Change.objects.values_list("payload__id", flat=True))


@pytest.fixture
def keep_30_days(settings):
    settings.PUSH_KEEP_DAYS = 30


def test_what_was_sent_long_ago_goes_with_its_attempts_and_the_rest_stays(
    sink, make_partner, keep_30_days
):
    partner = make_partner(sink.url)
    old, recent = push("OLD"), push("RECENT")
    assert delivery.deliver_due(partner.pk) == 2
    age(old, 31)
    age(recent, 29)
    waiting = push("WAITING")  # never sent: open, however old
    age(waiting, 400)

    assert history.prune() == (1, 1)

    assert names() == ["RECENT", "WAITING"]
    assert list(Attempt.objects.values_list("delivery__change__payload__id", flat=True)) == [
        "RECENT"
    ]
    assert Delivery.objects.get(change=waiting).status == DeliveryStatus.PENDING


def test_failed_and_superseded_deliveries_go_too(sink, make_partner, keep_30_days):
    partner = make_partner(sink.url)
    sink.script = {1: (200, 2001)}  # a client error: failed for good
    failed = push("FAILED")
    delivery.deliver_due(partner.pk)
    superseded = push("LOC")
    push("LOC")  # a PUT of the same object: the first one is superseded
    for change in (failed, superseded):
        age(change, 31)

    assert sorted(
        Delivery.objects.filter(change__in=[failed, superseded]).values_list("status", flat=True)
    ) == [DeliveryStatus.FAILED, DeliveryStatus.SUPERSEDED]
    assert history.prune() == (2, 2)
    assert names() == ["LOC"]


def test_a_delivery_resent_lately_is_kept_as_long_again(sink, make_partner, keep_30_days):
    partner = make_partner(sink.url)
    change = push("RESENT")
    delivery.deliver_due(partner.pk)
    age(change, 60)
    services.resend(delivery_ids=list(Delivery.objects.values_list("pk", flat=True)))
    delivery.deliver_due(partner.pk)

    assert history.prune() == (0, 0)
    assert Delivery.objects.get().attempts == 2


def test_posts_are_kept_for_good(sink, make_partner, keep_30_days):
    """A POST's delivery holds where the partner keeps what it created (its Location)."""
    partner = make_partner(sink.url)
    posted = push("CDR1", method="POST")
    delivery.deliver_due(partner.pk)
    age(posted, 400)

    assert history.prune() == (0, 0)
    assert Delivery.objects.get(change=posted).status == DeliveryStatus.DELIVERED


def test_keep_days_0_keeps_everything(sink, make_partner, settings):
    settings.PUSH_KEEP_DAYS = 0
    partner = make_partner(sink.url)
    change = push("OLD")
    delivery.deliver_due(partner.pk)
    age(change, 4000)

    assert history.prune() == (0, 0)
    assert names() == ["OLD"]


def test_a_long_history_goes_batch_by_batch(sink, make_partner, keep_30_days, monkeypatch):
    monkeypatch.setattr(history, "PRUNE_BATCH", 2)
    partner = make_partner(sink.url)
    changes = [push(f"LOC{n}") for n in range(5)]
    delivery.deliver_due(partner.pk)
    for change in changes[:4]:
        age(change, 31)

    assert tasks.prune_history() == (4, 4)
    assert names() == ["LOC4"]
    assert Attempt.objects.count() == 1


def test_beat_prunes_every_hour():
    entry = django_settings.CELERY_BEAT_SCHEDULE["push-prune-history"]
    assert entry == {"task": "push.prune_history", "schedule": 3600.0}
    assert "push.prune_history" in app.tasks
