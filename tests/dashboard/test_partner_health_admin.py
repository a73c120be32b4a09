"""Each partner's push queue on the partner platform screens, and deliveries by partner."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from push.models import Change, DeliveryStatus
from tests.admin_pages import filter_choices, page_text, scans_for_choices
from tests.dashboard.estate import MOMENT, add_delivery, build_estate
from tests.partners import registered_emsp

PARTNERS = "/admin/credentials/partnerplatform/"
DELIVERIES = "/admin/push/delivery/"


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("push.admin.now", lambda: MOMENT)


@pytest.fixture
def estate(db: None) -> dict[str, Any]:
    return build_estate()


def test_the_partner_list_shows_backlog_failed_and_oldest(
    operator: Client, estate: dict[str, Any]
) -> None:
    text = page_text(operator.get(PARTNERS))

    assert "Push backlog Failed pushes Oldest waiting push" in text
    assert "3 1 2026-03-15 10:00 UTC (2 hours ago)" in text  # Alpha
    assert "0 0 –" in text  # Beta


def test_the_partner_list_costs_the_same_queries_with_more_partners(
    operator: Client, estate: dict[str, Any]
) -> None:
    with CaptureQueriesContext(connection) as few:
        assert operator.get(PARTNERS).status_code == 200
    for index in range(5):
        partner = registered_emsp(f"More {index}", f"more-{index}", ("FR", f"M{index}"))
        add_delivery(partner, DeliveryStatus.PENDING, MOMENT, f"more-{index}")
        add_delivery(partner, DeliveryStatus.FAILED, MOMENT, f"more-failed-{index}")
    with CaptureQueriesContext(connection) as many:
        assert operator.get(PARTNERS).status_code == 200

    assert len(many) == len(few)


def test_the_list_sorts_by_backlog(operator: Client, estate: dict[str, Any]) -> None:
    columns = operator.get(PARTNERS).context["cl"].list_display
    by_backlog = f"?o=-{columns.index('delivery_backlog') + 1}"

    names = [
        partner.name for partner in operator.get(PARTNERS + by_backlog).context["cl"].result_list
    ]

    assert names[0] == "Alpha"


def test_the_partner_page_shows_its_queue_linked_to_its_deliveries(
    operator: Client, estate: dict[str, Any]
) -> None:
    alpha = estate["alpha"].pk
    response = operator.get(f"{PARTNERS}{alpha}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert f"{DELIVERIES}?partner__id__exact={alpha}&amp;status__exact=FAILED" in content
    text = page_text(response)
    assert "Push backlog: 3" in text
    assert "Failed pushes: 1" in text
    assert "Oldest waiting push: 2026-03-15 10:00 UTC (2 hours ago)" in text


def test_deliveries_filter_by_partner(operator: Client, estate: dict[str, Any]) -> None:
    beta = estate["beta"]
    add_delivery(beta, DeliveryStatus.PENDING, MOMENT, "beta-only")

    response = operator.get(DELIVERIES, {"partner__id__exact": beta.pk})

    assert [d.partner.name for d in response.context["cl"].result_list] == ["Beta"]
    assert "Beta" in page_text(operator.get(DELIVERIES))  # the filter offers it


def test_deliveries_filter_by_module_and_date_without_reading_the_outbox_for_choices(
    operator: Client, estate: dict[str, Any]
) -> None:
    """The module choices are the OCPI modules and the date filter needs no query: neither a
    DISTINCT over the outbox nor the bounds of its dates (a date hierarchy) on every page."""
    sessions = add_delivery(estate["beta"], DeliveryStatus.PENDING, MOMENT, "a-session")
    Change.objects.filter(pk=sessions.change_id).update(module="sessions")

    with CaptureQueriesContext(connection) as captured:
        response = operator.get(DELIVERIES, {"module": "sessions"})

    assert [d.pk for d in response.context["cl"].result_list] == [sessions.pk]
    assert "sessions" in filter_choices(response, "module")
    assert "hubclientinfo" in filter_choices(response, "module")
    assert scans_for_choices(captured, "push_delivery") == []
    assert scans_for_choices(captured, "push_change") == []
