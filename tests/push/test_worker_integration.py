"""The outbox end to end: committed changes, a real Celery worker process, a partner on loopback.

Nothing here calls deliver_due(): the transaction's on_commit kick queues the task on the
broker in use (Redis with REDIS_URL, else the file-system broker), a `celery worker` process
(tests/push/worker.py) takes it and sends the request. Where Celery beat would step in (retries
after a partner was down, claims of a dead worker), the test calls push.tasks.resend_due()
itself, as beat would, every quarter of a second.
"""

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction

from credentials.models import PartnerPlatform
from ocpi.routing import PartyRef
from push import services
from push.models import Attempt, Change, Delivery, DeliveryStatus
from push.tasks import resend_due
from tests.push.polling import wait_until
from tests.push.switchable_sink import Arrival, SwitchableSink
from tests.push.worker import FAST_PUSH, CeleryWorker, CeleryWorkers, celery_workers

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

OWNER = PartyRef.of("NL", "TNM")


@pytest.fixture(autouse=True)
def _fast_push_here(settings: Any) -> None:
    """resend_due() runs in this process when the test stands in for beat: same lease."""
    settings.PUSH_CLAIM_LEASE_SECONDS = int(FAST_PUSH["PUSH_CLAIM_LEASE_SECONDS"])


@pytest.fixture
def workers(transactional_db: None, tmp_path: Path) -> Iterator[CeleryWorkers]:
    with celery_workers(tmp_path) as started:
        yield started


@pytest.fixture
def worker(workers: CeleryWorkers) -> CeleryWorker:
    return workers.start()


@pytest.fixture
def sink() -> Iterator[SwitchableSink]:
    with SwitchableSink() as running:
        yield running


@pytest.fixture
def partner_at(
    make_partner: Callable[..., PartnerPlatform],
) -> Callable[..., PartnerPlatform]:
    def make(url: str, party: str = "ABC") -> PartnerPlatform:
        partner = make_partner(url, party=party)
        # Partner ids start again with every test database; a wake-up marker left in the
        # shared cache by an earlier run must not swallow this partner's first kick.
        cache.delete(services.KICK_KEY.format(partner_id=partner.pk))
        return partner

    return make


def location_path(location: str, *below: str) -> list[str]:
    return ["NL", "TNM", location, *below]


def commit_push(
    path: list[str], method: str = "PUT", payload: dict[str, Any] | None = None
) -> None:
    """Queue one change in its own transaction, as a service does; the kick follows the commit."""
    with transaction.atomic():
        services.push_change(
            module="locations",
            method=method,
            owner=OWNER,
            object_key=f"locations:NL:TNM:{path[2]}",
            path=path,
            payload=payload if payload is not None else {"id": path[2]},
            targets=services.catalogue_targets("locations"),
        )


def all_delivered() -> bool:
    return not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


def requests_for(arrivals: list[Arrival], location: str) -> list[tuple[str, str, Any]]:
    prefix = f"/locations/NL/TNM/{location}"
    return [
        (a.method, a.path, a.body)
        for a in arrivals
        if a.path == prefix or a.path.startswith(prefix + "/")
    ]


def test_a_committed_change_reaches_the_partner_through_the_worker(
    worker: CeleryWorker,
    sink: SwitchableSink,
    partner_at: Callable[..., PartnerPlatform],
) -> None:
    partner = partner_at(sink.url)

    commit_push(location_path("LOC1"), payload={"id": "LOC1", "publish": True})

    [arrival] = sink.wait_for_requests(1)
    assert (arrival.method, arrival.path, arrival.body) == (
        "PUT",
        "/locations/NL/TNM/LOC1",
        {"id": "LOC1", "publish": True},
    )
    assert arrival.headers["ocpi-to-party-id"] == "ABC"
    row = wait_until(
        lambda: Delivery.objects.filter(status=DeliveryStatus.DELIVERED).first(),
        what="the delivery recorded as delivered",
    )
    assert (row.partner_id, row.attempts, row.last_http_status, row.last_ocpi_status) == (
        partner.pk,
        1,
        200,
        1000,
    )


def test_changes_made_while_the_partner_is_down_all_arrive_in_order(
    worker: CeleryWorker,
    sink: SwitchableSink,
    partner_at: Callable[..., PartnerPlatform],
) -> None:
    partner_at(sink.url)
    sink.stop()
    # Per location a PUT, then status PATCHes of two EVSEs: different paths, so none of them
    # supersedes another and every one must arrive, behind its location's PUT.
    expected: dict[str, list[tuple[str, str, Any]]] = {}
    for location in ("LOC1", "LOC2", "LOC3"):
        commit_push(location_path(location), payload={"id": location})
        expected[location] = [("PUT", f"/locations/NL/TNM/{location}", {"id": location})]
        for evse in ("E1", "E2"):
            body = {"status": "CHARGING", "last_updated": "2026-01-01T00:00:00Z"}
            commit_push(location_path(location, evse), method="PATCH", payload=body)
            expected[location].append(("PATCH", f"/locations/NL/TNM/{location}/{evse}", body))

    # The head of every location's queue was tried and refused at least once.
    wait_until(
        lambda: (
            Delivery.objects.filter(attempts__gte=1, last_http_status=None)
            .values("queue_key")
            .distinct()
            .count()
            == 3
        ),
        beat=resend_due,
        what="a refused attempt for every location",
    )
    assert sink.received == []
    sink.start()
    wait_until(all_delivered, beat=resend_due, what="every delivery delivered")

    assert {location: requests_for(sink.received, location) for location in expected} == expected
    assert len(sink.received) == Change.objects.count() == 9
    refusals = list(Attempt.objects.filter(http_status=None).values_list("error", flat=True))
    assert len(refusals) >= 3
    assert all("Connection refused" in error for error in refusals)


def test_a_delivery_in_flight_when_the_worker_is_killed_is_sent_by_the_next_worker(
    workers: CeleryWorkers,
    sink: SwitchableSink,
    partner_at: Callable[..., PartnerPlatform],
) -> None:
    partner_at(sink.url)
    first = workers.start()
    sink.hold()

    commit_push(location_path("LOC1"), payload={"id": "LOC1", "name": "Gent Zuid"})
    sink.wait_for_requests(1)
    first.kill()
    sink.release()  # the held request has nobody to answer to any more

    claimed = Delivery.objects.get()
    assert (claimed.status, claimed.attempts) == (DeliveryStatus.IN_FLIGHT, 0)
    resend_due()  # within the lease the claim still counts as the (dead) worker's
    assert Delivery.objects.get().status == DeliveryStatus.IN_FLIGHT

    workers.start()
    delivered = wait_until(
        lambda: Delivery.objects.filter(status=DeliveryStatus.DELIVERED).first(),
        beat=resend_due,
        what="the delivery sent again after the lease",
    )

    # The held request, then the same one again from the second worker.
    assert [(r.method, r.path, r.body) for r in sink.received] == [
        ("PUT", "/locations/NL/TNM/LOC1", {"id": "LOC1", "name": "Gent Zuid"})
    ] * 2
    # The dead worker's attempt left no record: only the one that got an answer counts.
    assert delivered.attempts == 1
    assert list(Attempt.objects.values_list("http_status", "ocpi_status")) == [(200, 1000)]


def test_a_partner_that_hangs_does_not_delay_another_partner(
    worker: CeleryWorker,
    partner_at: Callable[..., PartnerPlatform],
) -> None:
    with SwitchableSink() as hanging, SwitchableSink() as healthy:
        hanging.hold()
        slow = partner_at(hanging.url, party="HNG")
        fast = partner_at(healthy.url, party="FST")
        locations = [f"LOC{n}" for n in range(5)]

        started = time.monotonic()
        with transaction.atomic():  # one commit wakes both partners' tasks
            for location in locations:
                commit_push(location_path(location))
        healthy.wait_for_requests(len(locations))
        wait_until(
            lambda: (
                Delivery.objects.filter(partner=fast, status=DeliveryStatus.DELIVERED).count()
                == len(locations)
            ),
            what="the healthy partner's deliveries recorded",
        )
        fast_done = time.monotonic() - started
        held = hanging.wait_for_requests(len(locations))
        hung_unanswered = Delivery.objects.filter(
            partner=slow, status=DeliveryStatus.IN_FLIGHT
        ).count()
        hanging.release()
        wait_until(all_delivered, what="the hanging partner's deliveries once it answers")
        slow_done = time.monotonic() - started

    assert hung_unanswered == len(locations)
    assert len(held) == len(locations)
    # The healthy partner is served in the time one round trip and a task hand-over take,
    # not after the hanging partner's requests.
    assert fast_done < 5.0
    assert slow_done > fast_done
    assert sorted(a.path for a in healthy.received) == sorted(
        f"/locations/NL/TNM/{location}" for location in locations
    )
