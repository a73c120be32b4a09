"""Pushes that fail before anything is sent are the partner's last error too (push.problems),
with the request and the time, as a failed request is: no endpoint for the module at the
partner, a URL we may not call, a request that cannot be built from its stored change, a
partner we hold no usable token for."""

from typing import Any

import pytest

from credentials.models import PartnerPlatform
from credentials.problems import partner_error_record
from ocpi.routing import PartyRef
from ocpi.time import now
from push import delivery, services
from push.models import Attempt, Change, Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db

OWNER = PartyRef.of("NL", "TNM")


def push(module: str = "locations", key: str = "LOC1") -> Change | None:
    return services.push_change(
        module=module,
        method="PUT",
        owner=OWNER,
        object_key=f"{module}:NL:TNM:{key}",
        path=["NL", "TNM", key],
        payload={"id": key},
        targets=[services.Target(PartnerPlatform.objects.get().pk, PartyRef.of("DE", "ABC"))],
    )


def last_error(partner: PartnerPlatform) -> tuple[str, Any]:
    partner.refresh_from_db()
    return partner.last_error, partner.last_error_at


def statuses() -> list[tuple[str, str]]:
    return list(Delivery.objects.order_by("pk").values_list("status", "last_error"))


def test_no_endpoint_for_the_module_is_the_last_error_with_the_request(
    sink: Any, make_partner: Any
) -> None:
    partner = make_partner(sink.url)
    push("tariffs", "T1")  # the partner has a locations receiver only
    before = now()

    delivery.deliver_due(partner.pk)

    error, at = last_error(partner)
    assert error == "push: PUT tariffs/NL/TNM/T1: partner has no tariffs receiver endpoint"
    assert at >= before
    assert statuses() == [(DeliveryStatus.FAILED, "partner has no tariffs receiver endpoint")]
    assert not Attempt.objects.exists()  # nothing was sent
    assert sink.received == []


def test_an_unsent_failure_is_not_cleared_by_the_successes_of_the_same_window(
    sink: Any, make_partner: Any
) -> None:
    partner = make_partner(sink.url)
    push("tariffs", "T1")
    push("locations", "LOC1")  # delivered in the same window

    delivery.deliver_due(partner.pk)

    assert last_error(partner)[0].startswith("push: PUT tariffs/NL/TNM/T1: partner has no")
    assert len(sink.received) == 1


def test_a_url_we_may_not_call_is_the_last_error(sink: Any, make_partner: Any) -> None:
    partner = make_partner(sink.url)
    services.post_result(
        partner=partner,
        to=PartyRef.of("DE", "ABC"),
        owner=OWNER,
        module="commands",
        url="http://10.0.0.8/result",
        payload={"result": "ACCEPTED"},
    )

    delivery.deliver_due(partner.pk)

    error = last_error(partner)[0]
    assert error.startswith("push: POST http://10.0.0.8/result: ")
    assert "10.0.0.8" in statuses()[0][1]
    assert sink.received == []


def test_a_request_that_cannot_be_built_fails_alone_and_is_the_last_error(
    sink: Any, make_partner: Any
) -> None:
    partner = make_partner(sink.url)
    broken = push("locations", "LOC1")
    assert broken is not None
    Change.objects.filter(pk=broken.pk).update(path=["NL", None])
    push("locations", "LOC2")  # another queue: still sent

    delivery.deliver_due(partner.pk)

    assert last_error(partner)[0] == (
        "push: PUT locations: the request cannot be built: its path is not a list of text segments"
    )
    assert [status for status, _ in statuses()] == [
        DeliveryStatus.FAILED,
        DeliveryStatus.DELIVERED,
    ]
    assert len(sink.received) == 1


def test_a_partner_without_a_usable_token_is_the_last_error_and_nothing_is_lost(
    sink: Any, make_partner: Any
) -> None:
    partner = make_partner(sink.url)
    push("locations", "LOC1")
    PartnerPlatform.objects.filter(pk=partner.pk).update(outgoing_token_sealed="not-sealed")

    assert delivery.deliver_due(partner.pk) == 0

    error, at = last_error(partner)
    assert error.startswith("push: no usable token to send with: stored token cannot be")
    assert at is not None
    assert statuses() == [(DeliveryStatus.PENDING, "")]  # sent once the key is back
    assert sink.received == []


def test_a_later_successful_push_clears_an_unsent_failure_but_not_a_pull_s(
    sink: Any, make_partner: Any
) -> None:
    partner = make_partner(sink.url)
    push("tariffs", "T1")
    delivery.deliver_due(partner.pk)
    push("locations", "LOC2")

    delivery.deliver_due(partner.pk)

    assert last_error(partner) == ("", None)
    partner_error_record(partner.pk, "pull tokens", "HTTP 500")
    push("locations", "LOC3")
    delivery.deliver_due(partner.pk)
    assert last_error(partner)[0] == "pull tokens: HTTP 500"
