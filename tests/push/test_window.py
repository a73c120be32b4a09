"""A window's bookkeeping: modules it cannot send to, refused URLs, claims beyond a batch."""

import pytest

from ocpi.routing import PartyRef
from push import delivery, services
from push.models import Attempt, Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db

OWNER = PartyRef.of("NL", "TNM")


def push(module: str, object_id: str, targets: list[services.Target]) -> None:
    services.push_change(
        module=module,
        method="PUT",
        owner=OWNER,
        object_key=f"{module}:NL:TNM:{object_id}",
        path=["NL", "TNM", object_id],
        payload={"id": object_id},
        targets=targets,
    )


def test_a_module_the_partner_has_no_receiver_for_fails_and_the_rest_goes(sink, make_partner):
    partner = make_partner(sink.url)
    push("tariffs", "T1", [services.Target(partner.pk, PartyRef.of("DE", "ABC"))])
    push("locations", "LOC1", services.catalogue_targets("locations"))

    assert delivery.deliver_due(partner.pk) == 1

    rows = Delivery.objects.order_by("pk").values_list("status", "attempts", "last_error")
    assert list(rows) == [
        (DeliveryStatus.FAILED, 0, "partner has no tariffs receiver endpoint"),
        (DeliveryStatus.DELIVERED, 1, ""),
    ]
    assert [r.path for r in sink.received] == ["/locations/NL/TNM/LOC1"]


def test_a_refused_url_fails_each_request_as_no_answer_would(sink, make_partner, settings):
    settings.OCPI_ALLOW_PRIVATE_URLS = False  # the sink listens on loopback
    partner = make_partner(sink.url)
    push("locations", "LOC1", services.catalogue_targets("locations"))
    push("locations", "LOC2", services.catalogue_targets("locations"))

    assert delivery.deliver_due(partner.pk) == 2

    assert sink.received == []
    rows = Delivery.objects.values_list("status", "attempts", "last_http_status")
    assert list(rows) == [(DeliveryStatus.PENDING, 1, None)] * 2
    refused = (
        f"refusing to call {sink.url}/locations: "  # the endpoint, checked once
        "127.0.0.1 resolves to 127.0.0.1, a private or reserved address"
    )
    assert list(Attempt.objects.values_list("error", flat=True)) == [refused] * 2


def test_a_window_claims_batch_after_batch(sink, make_partner, settings):
    settings.PUSH_BATCH_SIZE = 2
    partner = make_partner(sink.url)
    for number in range(5):
        push("locations", f"LOC{number}", services.catalogue_targets("locations"))

    assert delivery.deliver_due(partner.pk) == 5

    assert sorted(r.path for r in sink.received) == [f"/locations/NL/TNM/LOC{n}" for n in range(5)]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
