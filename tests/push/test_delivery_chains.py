"""Claiming a queue's head together with what follows it, and sending that chain in order."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ocpi.routing import PartyRef
from ocpi.time import now
from push import claims, delivery, services
from push.models import Attempt, Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db

OWNER = PartyRef.of("NL", "TNM")


def push(location: str, *evse: str, method: str = "PUT") -> None:
    path = ["NL", "TNM", location, *evse]
    services.push_change(
        module="locations",
        method=method,
        owner=OWNER,
        object_key=f"locations:NL:TNM:{location}",
        path=path,
        payload={"status": "CHARGING"} if evse else {"id": location},
        targets=services.catalogue_targets("locations"),
    )


def claims_made(queries: CaptureQueriesContext) -> int:
    """The claim statements run (UPDATE … SET status IN_FLIGHT … RETURNING)."""
    return sum(
        1
        for query in queries.captured_queries
        if query["sql"].startswith("UPDATE") and "IN_FLIGHT" in query["sql"]
    )


def test_a_queue_and_what_follows_its_head_go_out_in_order_from_one_claim(sink, make_partner):
    partner = make_partner(sink.url)
    push("LOC1")
    for evse in ("E1", "E2", "E3"):
        push("LOC1", evse, method="PATCH")
    push("LOC2")

    with CaptureQueriesContext(connection) as queries:
        sent = delivery.deliver_due(partner.pk)

    assert sent == 5
    assert [r.path for r in sink.received if "LOC1" in r.path] == [
        "/locations/NL/TNM/LOC1",
        "/locations/NL/TNM/LOC1/E1",
        "/locations/NL/TNM/LOC1/E2",
        "/locations/NL/TNM/LOC1/E3",
    ]
    assert claims_made(queries) == 1  # less than a batch, no chain of CHAIN_DEPTH: all there was
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_a_chain_is_at_most_chain_depth_long(sink, make_partner):
    partner = make_partner(sink.url)
    evses = [f"E{n}" for n in range(claims.CHAIN_DEPTH + 2)]
    for evse in evses:
        push("LOC1", evse, method="PATCH")

    with CaptureQueriesContext(connection) as queries:
        sent = delivery.deliver_due(partner.pk)

    assert sent == len(evses)
    assert [r.path for r in sink.received] == [f"/locations/NL/TNM/LOC1/{e}" for e in evses]
    assert claims_made(queries) == 2  # CHAIN_DEPTH, then the 2 behind them


def test_a_retry_holds_the_rest_of_its_chain_unsent(sink, make_partner):
    partner = make_partner(sink.url)
    sink.script = {2: (503, 3000)}
    push("LOC1")
    push("LOC1", "E1", method="PATCH")
    push("LOC1", "E2", method="PATCH")

    delivery.deliver_due(partner.pk)

    rows = list(Delivery.objects.order_by("pk").values_list("status", "attempts", "claimed_at"))
    assert [r.path for r in sink.received] == [
        "/locations/NL/TNM/LOC1",
        "/locations/NL/TNM/LOC1/E1",
    ]
    assert rows == [
        (DeliveryStatus.DELIVERED, 1, None),
        (DeliveryStatus.PENDING, 1, None),  # waits for its backoff
        (DeliveryStatus.PENDING, 0, None),  # never sent: behind the retry
    ]
    assert delivery.deliver_due(partner.pk) == 0  # the retry is not due, and holds its queue

    Delivery.objects.filter(attempts=1, status=DeliveryStatus.PENDING).update(next_attempt_at=now())
    assert delivery.deliver_due(partner.pk) == 2
    assert [r.path for r in sink.received][2:] == [
        "/locations/NL/TNM/LOC1/E1",
        "/locations/NL/TNM/LOC1/E2",
    ]
    assert Attempt.objects.count() == 4


def test_a_second_claim_never_takes_the_rest_of_a_queue_claimed_before(sink, make_partner):
    """What a worker claims is IN_FLIGHT: another worker's claim skips the whole queue."""
    partner = make_partner(sink.url)
    push("LOC1")
    push("LOC1", "E1", method="PATCH")
    push("LOC1", "E2", method="PATCH")
    push("LOC2")

    first = claims.claim(partner, 2)
    second = claims.claim(partner, 64)

    assert [d.path for d in first.deliveries] == [
        ["NL", "TNM", "LOC1"],
        ["NL", "TNM", "LOC1", "E1"],
    ]
    assert [d.path for d in second.deliveries] == [["NL", "TNM", "LOC2"]]
    assert claims.claim(partner, 64).deliveries == []


def test_the_floor_a_claim_returns_stays_below_every_open_delivery(sink, make_partner):
    """A claim starts above the floor the one before returned: a retry waiting for its
    backoff, skipped by one claim, is still there for the next."""
    partner = make_partner(sink.url)
    push("LOC1")
    push("LOC1", "E1", method="PATCH")
    push("LOC2")
    waiting = Delivery.objects.get(change__method="PUT", change__path=["NL", "TNM", "LOC1"])
    Delivery.objects.filter(pk=waiting.pk).update(
        attempts=1, next_attempt_at=now() + timedelta(hours=1)
    )

    claim = claims.claim(partner, 64)
    assert [d.path for d in claim.deliveries] == [["NL", "TNM", "LOC2"]]
    assert claim.floor == waiting.pk - 1

    Delivery.objects.filter(pk=waiting.pk).update(next_attempt_at=now())
    claim = claims.claim(partner, 64, claim.floor)
    assert [d.path for d in claim.deliveries] == [
        ["NL", "TNM", "LOC1"],
        ["NL", "TNM", "LOC1", "E1"],
    ]
    assert claim.floor == waiting.pk - 1


def test_a_resent_delivery_below_a_floor_goes_out_with_the_next_wake_up(sink, make_partner):
    """Only an operator's resend reopens a delivery below a window's floor; the wake-up it
    queues starts a new window, which scans from the start."""
    partner = make_partner(sink.url)
    push("LOC1")
    push("LOC2")
    assert delivery.deliver_due(partner.pk) == 2
    first = Delivery.objects.get(change__path=["NL", "TNM", "LOC1"])

    services.resend(delivery_ids=[first.pk])

    assert delivery.deliver_due(partner.pk) == 1
    assert [r.path for r in sink.received][-1] == "/locations/NL/TNM/LOC1"
    assert Delivery.objects.get(pk=first.pk).status == DeliveryStatus.DELIVERED


def test_due_deliveries_behind_a_page_of_held_queues_are_claimed(sink, make_partner, monkeypatch):
    """The claim reads the partner's open deliveries a page at a time, oldest first: queues
    held by retries waiting for their backoff do not hide what is due behind them."""
    monkeypatch.setattr(claims, "SCAN_PAGE", 2)
    partner = make_partner(sink.url)
    for location in ("LOC1", "LOC2", "LOC3"):
        push(location)
        push(location, "E1", method="PATCH")
    Delivery.objects.filter(change__method="PUT").update(
        attempts=1, next_attempt_at=now() + timedelta(hours=1)
    )
    push("LOC4")

    assert delivery.deliver_due(partner.pk) == 1
    assert [r.path for r in sink.received] == ["/locations/NL/TNM/LOC4"]
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 6
