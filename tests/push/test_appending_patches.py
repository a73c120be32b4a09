"""PATCHes that append (a Session's charging_periods) are never coalesced away.

mod_sessions, PATCH: the receiver appends the `charging_periods` of a PATCH to its list, so a
newer PATCH, which carries only newer periods, does not make an older one pointless; a PUT,
which carries every period, does.
"""

import pytest

from credentials.models import PartnerEndpoint
from ocpi.routing import PartyRef
from push import delivery, services
from push.models import Delivery

pytestmark = pytest.mark.django_db

OWNER = PartyRef.of("NL", "TNM")
PATH = ["NL", "TNM", "S1"]


def push(method: str, payload: dict) -> None:
    services.push_change(
        module="sessions",
        method=method,
        owner=OWNER,
        object_key="sessions:NL:TNM:S1",
        path=PATH,
        payload=payload,
        targets=services.party_targets("sessions", PartyRef.of("DE", "ABC")),
    )


def period(minute: int) -> dict:
    return {
        "start_date_time": f"2026-01-01T10:{minute:02d}:00Z",
        "dimensions": [{"type": "ENERGY", "volume": 1}],
    }


@pytest.fixture
def partner(sink, make_partner):
    partner = make_partner(sink.url)
    PartnerEndpoint.objects.create(
        partner=partner, identifier="sessions", role="RECEIVER", url=f"{sink.url}/sessions"
    )
    return partner


def statuses() -> list[str]:
    return list(Delivery.objects.order_by("pk").values_list("status", flat=True))


def test_patches_with_periods_all_arrive_in_order(sink, partner):
    push("PUT", {"id": "S1", "kwh": 0})
    for minute in (5, 10, 15):
        push(
            "PATCH",
            {"kwh": minute, "charging_periods": [period(minute)], "last_updated": f"T{minute}"},
        )

    while delivery.deliver_due(partner.pk):
        pass

    assert [(r.method, r.body.get("kwh")) for r in sink.received] == [
        ("PUT", 0),
        ("PATCH", 5),
        ("PATCH", 10),
        ("PATCH", 15),
    ]
    assert [
        p["start_date_time"] for r in sink.received[1:] for p in r.body["charging_periods"]
    ] == [
        "2026-01-01T10:05:00Z",
        "2026-01-01T10:10:00Z",
        "2026-01-01T10:15:00Z",
    ]
    assert statuses() == ["DELIVERED"] * 4


def test_a_patch_without_periods_is_still_covered_by_a_later_one(sink, partner):
    push("PUT", {"id": "S1", "kwh": 0})
    push("PATCH", {"auth_method": "COMMAND", "last_updated": "T1"})
    push(
        "PATCH", {"auth_method": "WHITELIST", "charging_periods": [period(5)], "last_updated": "T2"}
    )

    while delivery.deliver_due(partner.pk):
        pass

    assert [(r.method, r.body.get("auth_method")) for r in sink.received] == [
        ("PUT", None),
        ("PATCH", "WHITELIST"),
    ]
    assert statuses() == ["DELIVERED", "SUPERSEDED", "DELIVERED"]


def test_a_put_still_supersedes_pending_patches_with_periods(sink, partner):
    push("PATCH", {"charging_periods": [period(5)], "last_updated": "T1"})
    push("PUT", {"id": "S1", "charging_periods": [period(5), period(10)]})

    delivery.deliver_due(partner.pk)

    assert [r.method for r in sink.received] == ["PUT"]
    assert statuses() == ["SUPERSEDED", "DELIVERED"]
