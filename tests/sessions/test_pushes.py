"""Sessions pushed to the eMSP that owns the token (mod_sessions, Push model), delivered by the
outbox in-process to a sink: a PUT on creation, then PATCHes with the changed fields, the new
charging periods only, and last_updated."""

import json as stdlib_json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from credentials.models import PartnerPlatform
from locations.models import Location
from ocpi import json
from push import delivery
from push.models import Change, Delivery
from sessions import services
from sessions.metering import Reading
from sessions.models import Session
from sessions.serializers import render_session
from tests.push.sink import Received, Sink
from tests.sessions.conftest import START, cdr_token, connector, start

pytestmark = pytest.mark.usefixtures("location")

MINUTE = timedelta(minutes=1)


@pytest.fixture
def emsp_url(sink: Sink) -> str:
    return f"{sink.url}/sessions"


def deliver(*partners: PartnerPlatform) -> None:
    for partner in partners:
        while delivery.deliver_due(partner.pk):
            pass


def as_json(value: Any) -> Any:
    """Our data as the sink reads it (the standard library's json: floats)."""
    return stdlib_json.loads(json.dumps(value))


def summary(received: list[Received]) -> list[tuple[str, str, str]]:
    return [(r.method, r.path, r.headers["ocpi-to-party-id"]) for r in received]


def test_a_new_session_is_put_to_its_emsp_whole(
    sink: Sink, partner_a: PartnerPlatform, partner_b: PartnerPlatform
) -> None:
    session = start()

    deliver(partner_a, partner_b)

    [put] = sink.received
    assert summary([put]) == [("PUT", f"/sessions/BE/BEC/{session.ocpi_id}", "TNM")]
    assert put.headers["ocpi-from-party-id"] == "BEC"
    assert put.body == as_json(render_session(session))
    assert put.body == {
        "country_code": "BE",
        "party_id": "BEC",
        "id": session.ocpi_id,
        "start_date_time": "2026-03-02T09:00:00Z",
        "kwh": 0,
        "cdr_token": cdr_token(),
        "auth_method": "WHITELIST",
        "location_id": "LOC1",
        "evse_uid": "3256",
        "connector_id": "1",
        "currency": "EUR",
        "status": "ACTIVE",
        "last_updated": put.body["last_updated"],
    }


def test_changes_are_patched_with_only_the_new_periods_in_order(
    sink: Sink, partner_a: PartnerPlatform
) -> None:
    session = start()
    session = services.session_meter(
        session=session, at=START + 5 * MINUTE, reading=Reading(kwh=Decimal(1))
    )
    session = services.session_meter(
        session=session, at=START + 10 * MINUTE, reading=Reading(kwh=Decimal("1.9"))
    )
    session = services.session_stop(session=session, at=START + 12 * MINUTE)

    deliver(partner_a)

    path = f"/sessions/BE/BEC/{session.ocpi_id}"
    assert summary(sink.received) == [("PUT", path, "TNM")] + [("PATCH", path, "TNM")] * 3
    patches = [r.body for r in sink.received[1:]]
    assert patches[0] == {
        "kwh": 1,
        "charging_periods": [
            {
                "start_date_time": "2026-03-02T09:00:00Z",
                "dimensions": [
                    {"type": "ENERGY", "volume": 1},
                    {"type": "TIME", "volume": 0.0833},
                ],
                "tariff_id": "11",
            }
        ],
        "total_cost": {"excl_vat": 0.75, "incl_vat": 0.875},
        "last_updated": patches[0]["last_updated"],
    }
    assert [sorted(p) for p in patches[1:]] == [
        ["charging_periods", "kwh", "last_updated", "total_cost"],
        ["charging_periods", "end_date_time", "last_updated", "status", "total_cost"],
    ]
    assert (patches[2]["status"], patches[2]["end_date_time"]) == (
        "COMPLETED",
        "2026-03-02T09:12:00Z",
    )
    sent_periods = [p for patch in patches for p in patch["charging_periods"]]
    assert sent_periods == as_json(render_session(session))["charging_periods"]
    stamps = [r.body["last_updated"] for r in sink.received]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 4


def test_activating_a_reservation_patches_status_start_evse_and_its_period(
    sink: Sink, partner_a: PartnerPlatform
) -> None:
    reserved = services.session_reserve(
        location=Location.objects.get(), token=cdr_token(), at=START, authorization_reference="R1"
    )
    services.session_activate(
        session=reserved,
        at=START + 30 * MINUTE,
        connector=connector("3257"),
        authorization_reference="R2",
    )

    deliver(partner_a)

    put, patch = (r.body for r in sink.received)
    assert (put["status"], put["evse_uid"], put["connector_id"]) == ("RESERVATION", "#NA", "#NA")
    assert patch == {
        "start_date_time": "2026-03-02T09:30:00Z",
        "authorization_reference": "R2",
        "evse_uid": "3257",
        "connector_id": "1",
        "charging_periods": [
            {
                "start_date_time": "2026-03-02T09:00:00Z",
                "dimensions": [{"type": "RESERVATION_TIME", "volume": 0.5}],
                "tariff_id": "12",
            }
        ],
        "total_cost": {"excl_vat": 2.5, "incl_vat": 3},
        "status": "ACTIVE",
        "last_updated": patch["last_updated"],
    }


def test_each_emsp_gets_the_sessions_of_its_own_tokens_only(
    sink: Sink, partner_a: PartnerPlatform, partner_b: PartnerPlatform
) -> None:
    of_a = start(token=cdr_token("A1"))
    of_b = start(token=cdr_token("B1", country="NL", party="BBB"))
    services.session_invalidate(session=of_b)

    deliver(partner_a, partner_b)

    assert sorted(summary(sink.received)) == sorted(
        [
            ("PUT", f"/sessions/BE/BEC/{of_a.ocpi_id}", "TNM"),
            ("PUT", f"/sessions-b/BE/BEC/{of_b.ocpi_id}", "BBB"),
            ("PATCH", f"/sessions-b/BE/BEC/{of_b.ocpi_id}", "BBB"),
        ]
    )
    invalidated = [r.body for r in sink.received if r.method == "PATCH"]
    assert [sorted(body) for body in invalidated] == [["last_updated", "status"]]


def test_a_session_of_an_emsp_that_is_not_registered_is_not_pushed(
    partner_a: PartnerPlatform,
) -> None:
    start(token=cdr_token(country="FR", party="XYZ"))

    assert not Change.objects.exists()
    assert Session.objects.count() == 1


def test_pending_patches_are_not_coalesced_away(partner_a: PartnerPlatform) -> None:
    session = start()
    for minute in (1, 2, 3):
        session = services.session_meter(
            session=session, at=START + minute * MINUTE, reading=Reading(kwh=Decimal(minute))
        )

    assert list(Delivery.objects.values_list("status", flat=True)) == ["PENDING"] * 4
