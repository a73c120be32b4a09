"""push.services.post_result: a result POSTed to an absolute URL the partner gave us (a
command's or a charging profile's `response_url`), through the outbox like every push."""

import base64
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.db import transaction

from ocpi.netsafety import check_response_url
from ocpi.routing import PartyRef
from ocpi.time import now
from push import delivery, history, services
from push.models import Attempt, Change, Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db

OWNER = PartyRef.of("NL", "TNM")
EMSP = PartyRef.of("DE", "ABC")


def post(partner, url: str, payload: dict | None = None) -> None:
    services.post_result(
        partner=partner,
        to=EMSP,
        owner=OWNER,
        module="commands",
        url=url,
        payload=payload if payload is not None else {"result": "ACCEPTED"},
    )


def test_a_result_goes_to_the_url_with_the_partners_token_and_routing(sink, make_partner):
    partner = make_partner(sink.url)  # no commands endpoint at all: none is needed
    post(partner, f"{sink.url}/emsp/results/START_SESSION/42", {"result": "ACCEPTED"})

    assert delivery.deliver_due(partner.pk) == 1

    [request] = sink.received
    assert (request.method, request.path, request.body) == (
        "POST",
        "/emsp/results/START_SESSION/42",
        {"result": "ACCEPTED"},
    )
    assert request.headers["authorization"] == "Token " + base64.b64encode(b"out-ABC").decode()
    assert (request.headers["ocpi-from-country-code"], request.headers["ocpi-from-party-id"]) == (
        "NL",
        "TNM",
    )
    assert (request.headers["ocpi-to-country-code"], request.headers["ocpi-to-party-id"]) == (
        "DE",
        "ABC",
    )
    row = Delivery.objects.select_related("change").get()
    assert (row.status, row.partner, row.to_party_id) == (DeliveryStatus.DELIVERED, partner, "ABC")
    assert (row.change.module, row.change.method, row.change.path) == ("commands", "POST", [])
    assert row.change.url == f"{sink.url}/emsp/results/START_SESSION/42"


def test_nothing_is_written_outside_the_callers_transaction(sink, make_partner):
    partner = make_partner(sink.url)

    def rolled_back() -> None:
        with transaction.atomic():
            post(partner, f"{sink.url}/r/1")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        rolled_back()

    assert not Change.objects.exists()


def test_a_result_is_retried_with_backoff_until_it_arrives(sink, make_partner):
    partner = make_partner(sink.url)
    sink.script = {1: (503, 3000)}
    post(partner, f"{sink.url}/r/1")

    delivery.deliver_due(partner.pk)
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
    assert row.next_attempt_at > now()

    Delivery.objects.update(next_attempt_at=now())
    delivery.deliver_due(partner.pk)

    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert Attempt.objects.count() == 2


def test_results_to_one_url_keep_their_order_and_none_supersedes_another(sink, make_partner):
    partner = make_partner(sink.url)
    post(partner, f"{sink.url}/r/1", {"n": 1})
    post(partner, f"{sink.url}/r/2", {"n": 2})
    post(partner, f"{sink.url}/r/1", {"n": 3})

    while delivery.deliver_due(partner.pk):
        pass

    by_url: dict[str, list[int]] = {}
    for request in sink.received:
        by_url.setdefault(request.path, []).append(request.body["n"])
    assert by_url == {"/r/1": [1, 3], "/r/2": [2]}
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_a_refused_url_fails_for_good_with_the_reason_and_nothing_is_sent(
    sink, make_partner, settings
):
    partner = make_partner(sink.url)
    post(partner, "http://10.0.0.8/results/1")
    post(partner, f"{sink.url}/r/2")
    settings.OCPI_ALLOW_PRIVATE_URLS = False  # the loopback sink is refused too from now on

    delivery.deliver_due(partner.pk)

    assert sink.received == []
    rows = list(Delivery.objects.order_by("pk"))
    assert [row.status for row in rows] == [DeliveryStatus.FAILED, DeliveryStatus.FAILED]
    assert "10.0.0.8" in rows[0].last_error
    assert "private or reserved" in rows[1].last_error
    assert not Attempt.objects.exists()


def test_results_are_pruned_like_other_pushes_while_module_posts_are_kept(
    sink, make_partner, settings
):
    settings.PUSH_KEEP_DAYS = 30
    partner = make_partner(sink.url)
    post(partner, f"{sink.url}/r/1")
    delivery.deliver_due(partner.pk)
    old = now() - timedelta(days=31)
    Change.objects.update(created_at=old)
    Delivery.objects.update(created_at=old, next_attempt_at=old, delivered_at=old)

    assert history.prune() == (1, 1)


def test_the_delivery_admin_shows_the_url(sink, make_partner):
    partner = make_partner(sink.url)
    post(partner, f"{sink.url}/r/1")
    model_admin = site._registry[Delivery]

    assert model_admin.path(Delivery.objects.get()) == f"{sink.url}/r/1"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("https://emsp.example.com/ocpi/commands/START_SESSION/1", None),
        ("http://192.168.1.10/results", "private or reserved"),
        ("https://[::1]/results", "private or reserved"),
        ("ftp://emsp.example.com/results", "only http and https"),
        ("https://user:pw@emsp.example.com/results", "user information"),
        ("results/1", "only http and https"),
        ("https://emsp.example.com/" + "a" * 240, "longer than 255 characters"),
    ],
)
def test_check_response_url(settings, url, refused):
    settings.OCPI_ALLOW_PRIVATE_URLS = False

    reason = check_response_url(url)

    assert (reason is None) if refused is None else (refused in (reason or ""))


def test_check_response_url_allows_private_addresses_when_the_setting_does(settings):
    settings.OCPI_ALLOW_PRIVATE_URLS = True

    assert check_response_url("http://127.0.0.1:9000/results") is None
