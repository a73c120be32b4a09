"""The outbox delivered in-process to a real HTTP sink on loopback."""

import base64
from datetime import timedelta

import pytest
from django.core.cache import cache

from credentials.models import PartnerStatus
from ocpi.routing import PartyRef
from ocpi.time import now
from push import delivery, services, tasks
from push.models import Attempt, Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db

OWNER = PartyRef.of("NL", "TNM")


def push(path: list[str], method: str = "PUT", payload: dict | None = None, key: str = "LOC1"):
    return services.push_change(
        module="locations",
        method=method,
        owner=OWNER,
        object_key=f"locations:NL:TNM:{key}",
        path=path,
        payload=payload if payload is not None else {"id": path[2]},
        targets=services.catalogue_targets("locations"),
    )


def statuses() -> list[str]:
    return list(Delivery.objects.order_by("pk").values_list("status", flat=True))


def test_put_arrives_with_token_routing_headers_and_body(sink, make_partner):
    partner = make_partner(sink.url)
    push(["NL", "TNM", "LOC1"], payload={"id": "LOC1", "publish": True})

    assert delivery.deliver_due(partner.pk) == 1

    [request] = sink.received
    assert request.method == "PUT"
    assert request.path == "/locations/NL/TNM/LOC1"
    assert request.body == {"id": "LOC1", "publish": True}
    assert request.headers["authorization"] == "Token " + base64.b64encode(b"out-ABC").decode()
    assert request.headers["ocpi-from-country-code"] == "NL"
    assert request.headers["ocpi-from-party-id"] == "TNM"
    assert request.headers["ocpi-to-country-code"] == "DE"
    assert request.headers["ocpi-to-party-id"] == "ABC"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-request-id"]
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.last_http_status, row.last_ocpi_status) == (
        DeliveryStatus.DELIVERED,
        1,
        200,
        1000,
    )
    attempt = Attempt.objects.get()
    assert (attempt.http_status, attempt.ocpi_status, attempt.error) == (200, 1000, "")


def test_every_registered_emsp_party_gets_its_own_delivery(sink, make_partner):
    first = make_partner(sink.url, party="ABC")
    second = make_partner(sink.url, party="XYZ")
    make_partner(sink.url, party="OFF").__class__.objects.filter(name="eMSP OFF").update(
        status=PartnerStatus.UNREGISTERED
    )

    push(["NL", "TNM", "LOC1"])
    delivery.deliver_due(first.pk)
    delivery.deliver_due(second.pk)

    assert sorted(r.headers["ocpi-to-party-id"] for r in sink.received) == ["ABC", "XYZ"]


def test_newer_put_of_the_same_object_supersedes_the_pending_one(sink, make_partner):
    partner = make_partner(sink.url)
    push(["NL", "TNM", "LOC1"], payload={"id": "LOC1", "name": "old"})
    push(["NL", "TNM", "LOC1", "EVSE1"], method="PATCH", payload={"status": "CHARGING"})
    push(["NL", "TNM", "LOC1"], payload={"id": "LOC1", "name": "new"})

    delivery.deliver_due(partner.pk)

    assert [r.body for r in sink.received] == [{"id": "LOC1", "name": "new"}]
    assert statuses() == ["SUPERSEDED", "SUPERSEDED", "DELIVERED"]


def test_patches_of_one_object_arrive_in_order_and_covered_ones_coalesce(sink, make_partner):
    partner = make_partner(sink.url)
    push(["NL", "TNM", "LOC1"])
    for status in ("CHARGING", "AVAILABLE", "BLOCKED"):
        push(
            ["NL", "TNM", "LOC1", "EVSE1"],
            method="PATCH",
            payload={"status": status, "last_updated": "2026-01-01T00:00:00Z"},
        )
    push(["NL", "TNM", "LOC1", "EVSE2"], method="PATCH", payload={"status": "CHARGING"})

    while delivery.deliver_due(partner.pk):
        pass

    assert [(r.method, r.path, (r.body or {}).get("status")) for r in sink.received] == [
        ("PUT", "/locations/NL/TNM/LOC1", None),
        ("PATCH", "/locations/NL/TNM/LOC1/EVSE1", "BLOCKED"),
        ("PATCH", "/locations/NL/TNM/LOC1/EVSE2", "CHARGING"),
    ]
    assert statuses() == ["DELIVERED", "SUPERSEDED", "SUPERSEDED", "DELIVERED", "DELIVERED"]


def test_nothing_overtakes_a_delivery_in_flight(sink, make_partner):
    partner = make_partner(sink.url)
    push(["NL", "TNM", "LOC1"])
    Delivery.objects.update(status=DeliveryStatus.IN_FLIGHT, claimed_at=now())
    push(["NL", "TNM", "LOC1", "EVSE1"], method="PATCH", payload={"status": "CHARGING"})
    push(["NL", "TNM", "LOC2"], key="LOC2")

    delivery.deliver_due(partner.pk)

    assert [r.path for r in sink.received] == ["/locations/NL/TNM/LOC2"]
    assert statuses() == ["IN_FLIGHT", "PENDING", "DELIVERED"]


def test_server_errors_are_retried_with_backoff_until_they_succeed(sink, make_partner):
    partner = make_partner(sink.url)
    sink.script = {1: (503, 3000)}
    push(["NL", "TNM", "LOC1"])

    before = now()
    delivery.deliver_due(partner.pk)
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.last_http_status) == (DeliveryStatus.PENDING, 1, 503)
    assert before + timedelta(seconds=1) <= row.next_attempt_at <= now() + timedelta(seconds=3)
    assert delivery.deliver_due(partner.pk) == 0  # not due yet

    Delivery.objects.update(next_attempt_at=now())
    delivery.deliver_due(partner.pk)

    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert list(Attempt.objects.values_list("http_status", "ocpi_status")) == [
        (503, 3000),
        (200, 1000),
    ]


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ((200, 3001), DeliveryStatus.PENDING),  # OCPI server error: can succeed later
        ((429, 2000), DeliveryStatus.PENDING),  # throttled
        ("drop", DeliveryStatus.PENDING),  # connection closed without an answer
        ((200, 2001), DeliveryStatus.FAILED),  # the partner refused the content: no retry
        ((404, 2000), DeliveryStatus.FAILED),
    ],
)
def test_what_is_retried_and_what_fails(sink, make_partner, answer, status):
    partner = make_partner(sink.url)
    sink.script = {1: answer}
    push(["NL", "TNM", "LOC1"])

    delivery.deliver_due(partner.pk)

    assert Delivery.objects.get().status == status


def test_a_partner_that_wants_no_retries_gets_none(sink, make_partner):
    partner = make_partner(sink.url, retry=False)
    sink.script = {1: (503, 3000)}
    push(["NL", "TNM", "LOC1"])

    delivery.deliver_due(partner.pk)

    row = Delivery.objects.get()
    assert (row.status, row.last_error) == (DeliveryStatus.FAILED, "HTTP 503, OCPI 3000")


def test_a_dead_partner_is_paused_and_loses_nothing(sink, make_partner, settings):
    settings.PUSH_CONCURRENCY = 1  # one at a time, so the breaker trips before the rest start
    dead = make_partner("http://127.0.0.1:9", party="DED")  # discard port: refused
    alive = make_partner(sink.url, party="ABC")
    for number in range(6):
        push(["NL", "TNM", f"LOC{number}"], key=f"LOC{number}")

    assert delivery.deliver_due(dead.pk) == settings.PUSH_BREAKER_FAILURES
    assert delivery.deliver_due(alive.pk) == 6

    dead_rows = Delivery.objects.filter(partner=dead)
    assert set(dead_rows.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
    assert all(row.next_attempt_at > now() for row in dead_rows)
    assert len(sink.received) == 6


def test_claims_of_a_dead_worker_are_released(make_partner, settings):
    partner = make_partner("http://127.0.0.1:9")
    push(["NL", "TNM", "LOC1"])
    stale = now() - timedelta(seconds=settings.PUSH_CLAIM_LEASE_SECONDS + 1)
    Delivery.objects.update(status=DeliveryStatus.IN_FLIGHT, claimed_at=stale)

    assert delivery.release_stale_claims() == [partner.pk]
    assert Delivery.objects.get().status == DeliveryStatus.PENDING
    assert delivery.partners_with_due_deliveries() == [partner.pk]


def test_a_fresh_claim_is_not_released(make_partner):
    make_partner("http://127.0.0.1:9")
    push(["NL", "TNM", "LOC1"])
    Delivery.objects.update(status=DeliveryStatus.IN_FLIGHT, claimed_at=now())

    assert delivery.release_stale_claims() == []


def test_deliveries_to_an_unregistered_partner_stop(sink, make_partner):
    partner = make_partner(sink.url)
    push(["NL", "TNM", "LOC1"])
    partner.__class__.objects.filter(pk=partner.pk).update(status=PartnerStatus.UNREGISTERED)

    assert delivery.deliver_due(partner.pk) == 0

    row = Delivery.objects.get()
    assert (row.status, row.last_error) == (DeliveryStatus.FAILED, "partner not registered")
    assert sink.received == []


def test_resend_sends_a_failed_delivery_again(
    sink, make_partner, django_capture_on_commit_callbacks
):
    partner = make_partner(sink.url)
    sink.script = {1: (200, 2001)}
    push(["NL", "TNM", "LOC1"])
    delivery.deliver_due(partner.pk)

    with django_capture_on_commit_callbacks() as callbacks:
        assert (
            services.resend(delivery_ids=list(Delivery.objects.values_list("pk", flat=True))) == 1
        )
    delivery.deliver_due(partner.pk)

    assert len(callbacks) == 1
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
    assert len(sink.received) == 2


def test_push_change_wakes_each_partner_once_after_commit(
    sink, make_partner, django_capture_on_commit_callbacks, monkeypatch
):
    partners = [make_partner(sink.url, party="ABC").pk, make_partner(sink.url, party="XYZ").pk]
    for partner_id in partners:
        cache.delete(services.KICK_KEY.format(partner_id=partner_id))
    woken: list[int] = []
    monkeypatch.setattr(
        tasks.deliver_partner, "apply_async", lambda args, **options: woken.append(*args)
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        push(["NL", "TNM", "LOC1"])
    services.kick(*partners)  # a later change, before the workers started

    # One callback wakes the change's partners together; the later one finds them queued.
    assert len(callbacks) == 1
    assert woken == partners


def test_no_targets_writes_nothing(db):
    assert push(["NL", "TNM", "LOC1"]) is None
    assert Delivery.objects.count() == 0


def test_catalogue_targets_need_a_receiver_endpoint_and_an_emsp_or_nsp_role(sink, make_partner):
    emsp = make_partner(sink.url, party="ABC")
    no_endpoint = make_partner(sink.url, party="NOE")
    no_endpoint.endpoints.all().delete()
    cpo = make_partner(sink.url, party="CPX")
    cpo.roles.update(role="CPO")

    assert services.catalogue_targets("locations") == [
        services.Target(emsp.pk, PartyRef.of("DE", "ABC"))
    ]
    assert services.party_targets("locations", PartyRef.of("de", "abc")) == [
        services.Target(emsp.pk, PartyRef.of("DE", "ABC"))
    ]
    assert services.party_targets("locations", PartyRef.of("DE", "XYZ")) == []


def post_cdr(cdr_id: str) -> None:
    services.push_change(
        module="cdrs",
        method="POST",
        owner=OWNER,
        object_key=f"cdrs:NL:TNM:{cdr_id}",
        path=[],
        payload={"id": cdr_id},
        targets=services.party_targets("cdrs", PartyRef.of("DE", "ABC")),
    )


def test_a_post_goes_to_the_endpoint_as_published_and_its_location_is_kept(sink, make_partner):
    partner = make_partner(sink.url)
    partner.endpoints.create(identifier="cdrs", role="RECEIVER", url=f"{sink.url}/cdrs/")
    sink.headers = lambda received: (
        {"Location": f"https://emsp.example.com/cdrs/{received.body['id']}"}
        if received.method == "POST"
        else {}
    )
    post_cdr("CDR1")
    post_cdr("CDR2")
    push(["NL", "TNM", "LOC1"])

    assert delivery.deliver_due(partner.pk) == 3

    assert sorted((r.method, r.path) for r in sink.received) == [
        ("POST", "/cdrs/"),  # with the published trailing slash: no redirect to follow
        ("POST", "/cdrs/"),
        ("PUT", "/locations/NL/TNM/LOC1"),
    ]
    rows = Delivery.objects.order_by("pk")
    assert [(row.status, row.response_location) for row in rows] == [
        (DeliveryStatus.DELIVERED, "https://emsp.example.com/cdrs/CDR1"),
        (DeliveryStatus.DELIVERED, "https://emsp.example.com/cdrs/CDR2"),
        (DeliveryStatus.DELIVERED, ""),
    ]


def test_a_refused_post_keeps_no_location(sink, make_partner):
    partner = make_partner(sink.url)
    partner.endpoints.create(identifier="cdrs", role="RECEIVER", url=f"{sink.url}/cdrs")
    sink.script = {1: (200, 2001)}
    sink.headers = lambda received: {"Location": "https://emsp.example.com/cdrs/CDR1"}
    post_cdr("CDR1")

    delivery.deliver_due(partner.pk)

    row = Delivery.objects.get()
    assert (row.status, row.response_location, sink.received[0].path) == (
        DeliveryStatus.FAILED,
        "",
        "/cdrs",
    )
