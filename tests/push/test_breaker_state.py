"""The breaker state read back from the attempts (push.breaker), and push failures in the
partner's last error (push.problems), against real sends to a sink on loopback."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentials.models import PartnerPlatform
from credentials.problems import partner_error_record
from ocpi.routing import PartyRef
from ocpi.time import now
from push import delivery, services
from push.breaker import with_breaker_state
from push.models import Attempt, Change, Delivery

pytestmark = pytest.mark.django_db

OWNER = PartyRef.of("NL", "TNM")


def push(key: str = "LOC1") -> None:
    services.push_change(
        module="locations",
        method="PUT",
        owner=OWNER,
        object_key=f"locations:NL:TNM:{key}",
        path=["NL", "TNM", key],
        payload={"id": key},
        targets=services.catalogue_targets("locations"),
    )


def open_since(partner: PartnerPlatform) -> Any:
    annotated: Any = with_breaker_state(PartnerPlatform.objects.filter(pk=partner.pk)).get()
    return annotated.breaker_open_since


def attempts(partner: PartnerPlatform, *http_statuses: int | None) -> list[Attempt]:
    """Attempts of one delivery of `partner`, a minute apart, in order (None: no answer)."""
    change = Change.objects.create(
        module="locations",
        method="PUT",
        object_key="k",
        path=["NL", "TNM", "L"],
        owner_country_code="NL",
        owner_party_id="TNM",
    )
    row = Delivery.objects.create(
        change=change,
        partner=partner,
        to_country_code="DE",
        to_party_id=partner.name[:3],
        queue_key="k",
        next_attempt_at=now(),
    )
    start = now() - timedelta(hours=1)
    return [
        Attempt.objects.create(
            delivery=row,
            started_at=start + timedelta(minutes=index),
            duration_ms=5,
            http_status=status,
            error="" if status == 200 else "connection refused" if status is None else "HTTP 503",
        )
        for index, status in enumerate(http_statuses)
    ]


def test_a_dead_partners_breaker_is_open_since_its_run_of_unanswered_attempts(
    sink: Any, make_partner: Any, settings: Any
) -> None:
    settings.PUSH_CONCURRENCY = 1
    dead = make_partner("http://127.0.0.1:9", party="DED")  # discard port: refused
    alive = make_partner(sink.url, party="ABC")
    for number in range(5):
        push(f"LOC{number}")

    delivery.deliver_due(dead.pk)
    delivery.deliver_due(alive.pk)

    first = Attempt.objects.filter(delivery__partner=dead).order_by("pk").first()
    assert first is not None
    assert open_since(dead) == first.started_at
    assert open_since(alive) is None


def test_the_rule_counts_the_last_attempts_of_the_partner_only(
    make_partner: Any, settings: Any
) -> None:
    settings.PUSH_BREAKER_FAILURES = 3
    never = make_partner("https://never.example.com", party="NEV")
    few = make_partner("https://few.example.com", party="FEW")
    tripped = make_partner("https://tripped.example.com", party="TRP")
    answered = make_partner("https://answered.example.com", party="ANS")
    recovered = make_partner("https://recovered.example.com", party="REC")
    attempts(few, 200, None, None)  # two in a row: not yet
    run = attempts(tripped, 200, 503, None, None, None)
    attempts(answered, None, None, None, 503)  # an answer, even an error, closes it
    attempts(recovered, None, None, None, None, 200)

    assert open_since(never) is None
    assert open_since(few) is None
    assert open_since(tripped) == run[2].started_at
    assert open_since(answered) is None
    assert open_since(recovered) is None


def test_the_state_of_every_partner_is_one_query(make_partner: Any) -> None:
    for index in range(4):
        attempts(make_partner(f"https://p{index}.example.com", party=f"P{index}"), None, None, None)

    with CaptureQueriesContext(connection) as queries:
        partners: list[Any] = list(with_breaker_state(PartnerPlatform.objects.all()))
    states = [partner.breaker_open_since for partner in partners]

    assert len(states) == 4
    assert all(state is not None for state in states)
    assert len(queries) == 1


def test_a_failed_push_is_the_partners_last_error_with_the_request(
    sink: Any, make_partner: Any
) -> None:
    partner = make_partner(sink.url, retry=False)
    sink.script = {1: (503, 3000)}
    push("LOC1")

    delivery.deliver_due(partner.pk)

    partner.refresh_from_db()
    assert partner.last_error == "push: PUT locations/NL/TNM/LOC1: HTTP 503, OCPI 3000"
    assert partner.last_error_at is not None


def test_a_push_that_works_again_clears_a_push_error_only(sink: Any, make_partner: Any) -> None:
    partner = make_partner(sink.url, retry=False)
    sink.script = {1: (503, 3000)}
    push("LOC1")
    delivery.deliver_due(partner.pk)
    push("LOC2")

    delivery.deliver_due(partner.pk)

    partner.refresh_from_db()
    assert (partner.last_error, partner.last_error_at) == ("", None)

    partner_error_record(partner.pk, "pull tokens", "HTTP 500")
    push("LOC3")
    delivery.deliver_due(partner.pk)

    partner.refresh_from_db()
    assert partner.last_error == "pull tokens: HTTP 500"
