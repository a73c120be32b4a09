"""The operator's session screens: a live read-only list and detail, and the two actions."""

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from credentials.models import LocalParty, PartnerPlatform, PartnerStatus
from push.models import Change
from sessions import services
from sessions.metering import Reading
from sessions.models import Session
from tests.admin_pages import (
    filter_choices,
    messages_of,
    page_text,
    run_action,
    scans_for_choices,
)
from tests.sessions.conftest import START, cdr_token, start

pytestmark = pytest.mark.usefixtures("location")

SESSIONS = "/admin/charging_sessions/session/"
REFRESH = '<meta http-equiv="refresh" content="15">'


def listed(response: Any) -> list[str]:
    return re.findall(
        r'<th class="field-ocpi_id"><a href="[^"]+">([^<]+)</a>', response.content.decode()
    )


def metered() -> Session:
    session = start(session_id="S-METERED")
    return services.session_meter(
        session=session,
        at=START + timedelta(minutes=5),
        reading=Reading(kwh=Decimal("0.9"), max_power=Decimal(11)),
    )


def test_the_list_shows_where_who_how_long_how_much_and_refreshes(operator: Client) -> None:
    metered()

    response = operator.get(SESSIONS)

    assert response.status_code == 200
    text = page_text(response)
    assert "S-METERED Active LOC1 / BE*BEC*E041503001 / 1 RFID 012345678 (DE*TNM)" in text
    # FLAT 0.50 (20 % VAT) + 0.9 kWh × 0.25 (10 % VAT)
    assert "0.9 0.725 EUR (0.8475 incl. VAT)" in text
    assert REFRESH in response.content.decode()


def test_a_list_of_finished_sessions_does_not_refresh(operator: Client) -> None:
    services.session_stop(session=metered(), at=START + timedelta(minutes=65))

    response = operator.get(SESSIONS)

    assert "1:05:00" in page_text(response)
    assert REFRESH not in response.content.decode()


def test_filters_and_search(
    operator: Client, partner_a: PartnerPlatform, partner_b: PartnerPlatform
) -> None:
    active = start(session_id="S-A", token=cdr_token("A1"))
    other = start(session_id="S-B", token=cdr_token("B1", country="NL", party="BBB"))
    services.session_invalidate(session=other)

    assert listed(operator.get(SESSIONS, {"status__exact": "INVALID"})) == ["S-B"]
    assert listed(operator.get(SESSIONS, {"emsp": "DE*TNM"})) == ["S-A"]
    assert listed(operator.get(SESSIONS, {"emsp": "nl*bbb"})) == ["S-B"]
    assert listed(operator.get(SESSIONS, {"cpo": "BE*BEC"})) == ["S-B", "S-A"]
    assert listed(operator.get(SESSIONS, {"q": "b1"})) == ["S-B"]
    assert listed(operator.get(SESSIONS, {"q": "LOC1"})) == ["S-B", "S-A"]
    assert active.status == "ACTIVE"


def test_the_party_filters_list_our_parties_and_the_partners_emsps(
    operator: Client, partner_a: PartnerPlatform, partner_b: PartnerPlatform
) -> None:
    start(session_id="S-A")

    response = operator.get(SESSIONS)

    assert filter_choices(response, "emsp") == ["DE*TNM", "NL*BBB"]
    assert filter_choices(response, "cpo") == ["BE*BEC"]


def test_the_party_filters_keep_ended_partners_inactive_parties_and_a_gone_party(
    operator: Client, partner_a: PartnerPlatform, our_party: LocalParty
) -> None:
    start(session_id="S-A")
    PartnerPlatform.objects.filter(pk=partner_a.pk).update(status=PartnerStatus.UNREGISTERED)
    LocalParty.objects.filter(pk=our_party.pk).update(is_active=False)

    response = operator.get(SESSIONS)

    assert filter_choices(response, "emsp") == ["DE*TNM"]
    assert filter_choices(response, "cpo") == ["BE*BEC"]
    # A party no row knows any longer (a kept link) still filters: nothing, not everything.
    gone = operator.get(SESSIONS, {"emsp": "XX*GON"})
    assert listed(gone) == []
    assert filter_choices(gone, "emsp") == ["DE*TNM", "XX*GON"]


def copies(session: Session, count: int) -> None:
    """`count` more rows like `session` (only what the list shows: no service needed)."""
    for number in range(count):
        session.pk = None
        session.ocpi_id = f"S-COPY-{number}"
        session.save()


def test_the_list_reads_no_filter_choice_from_the_sessions_and_no_query_per_row(
    operator: Client, partner_a: PartnerPlatform
) -> None:
    start(session_id="S-ONE")
    with CaptureQueriesContext(connection) as one:
        assert listed(operator.get(SESSIONS)) == ["S-ONE"]
    copies(Session.objects.get(), 29)
    with CaptureQueriesContext(connection) as thirty:
        assert len(listed(operator.get(SESSIONS))) == 30

    assert len(thirty.captured_queries) == len(one.captured_queries)
    assert scans_for_choices(thirty, "charging_sessions_session") == []


def test_the_detail_is_read_only_with_periods_and_frozen_data(operator: Client) -> None:
    session = metered()

    response = operator.get(f"{SESSIONS}{session.pk}/change/")

    assert response.status_code == 200
    text = page_text(response)
    assert "ENERGY 0.9 kWh, TIME 0.0833 h, MAX_POWER 11 kW" in text
    assert '"address": "F.Rooseveltlaan 3A"' in text
    assert '"evse_id": "BE*BEC*E041503001"' in text
    assert "tariff that prices it: 11" in text.replace(
        "Tariff that prices it: ", "tariff that prices it: "
    )
    assert '"price": 0.25' in text
    assert REFRESH in response.content.decode()
    assert 'name="_save"' not in response.content.decode()
    assert operator.get(f"{SESSIONS}add/").status_code == 403
    assert operator.post(f"{SESSIONS}{session.pk}/delete/", {"post": "yes"}).status_code == 403


def test_stopping_from_the_admin_completes_and_pushes(
    operator: Client, partner_a: PartnerPlatform
) -> None:
    session = metered()

    response = run_action(operator, SESSIONS, "stop_sessions", session.pk)

    assert messages_of(response) == ["Stopped: S-METERED."]
    session.refresh_from_db()
    assert session.status == "COMPLETED"
    last = Change.objects.order_by("pk").last()
    assert last is not None
    assert last.payload is not None
    assert (last.method, last.payload["status"]) == ("PATCH", "COMPLETED")


def test_an_action_that_a_session_refuses_says_why(operator: Client) -> None:
    session = services.session_stop(session=start(session_id="S-DONE"), at=START)

    response = run_action(operator, SESSIONS, "invalidate_sessions", session.pk)

    assert messages_of(response) == ["Session S-DONE is COMPLETED and cannot become INVALID"]
    session.refresh_from_db()
    assert session.status == "COMPLETED"


def test_a_viewer_sees_sessions_but_cannot_stop_them(
    client: Client, django_user_model: Any
) -> None:
    viewer = django_user_model.objects.create_user("viewer", password="v-pass-123", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_session", content_type__app_label="charging_sessions")
    )
    client.force_login(viewer)
    session = start(session_id="S-VIEWED")

    listing = client.get(SESSIONS)
    refused = run_action(client, SESSIONS, "stop_sessions", session.pk)

    assert listed(listing) == ["S-VIEWED"]
    assert "stop_sessions" not in listing.content.decode()
    assert refused.status_code == 200
    session.refresh_from_db()
    assert session.status == "ACTIVE"
