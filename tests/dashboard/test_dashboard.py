"""The admin's first page: the overview's figures against an estate built here, its links,
its cost in queries whatever the data, and who sees what."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cdrs.selectors import Revenue
from chargers.fleet import Presence
from monitoring.models import Alert, AlertRule
from push.models import DeliveryStatus
from sessions.selectors import SessionTotals
from tests.admin_pages import page_text
from tests.cdrs.conftest import cdr_location
from tests.dashboard.estate import (
    MOMENT,
    add_cdr,
    add_delivery,
    add_pull,
    add_session,
    at,
    build_estate,
)
from tests.partners import registered_emsp
from tokens.models import PullStatus

INDEX = "/admin/"


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dashboard.overview.now", lambda: MOMENT)
    monkeypatch.setattr("push.admin.now", lambda: MOMENT)


@pytest.fixture
def estate(db: None) -> dict[str, Any]:
    return build_estate()


def overview_of(response: Any) -> Any:
    assert response.status_code == 200
    return response.context["overview"]


def test_the_figures_of_the_estate(operator: Client, estate: dict[str, Any]) -> None:
    page = overview_of(operator.get(INDEX))

    assert page.presence == Presence(online=1, offline=2)
    assert {tile.label: tile.count for tile in page.evse_statuses} == {
        "AVAILABLE": 1,
        "BLOCKED": 0,
        "CHARGING": 2,
        "INOPERATIVE": 0,
        "OUTOFORDER": 1,
        "PLANNED": 0,
        "REMOVED": 1,
        "RESERVED": 0,
        "UNKNOWN": 0,
    }
    assert page.active_sessions.count == 1
    # Invalid sessions and reservations do not count; January's is before the month.
    assert page.session_totals == SessionTotals(
        sessions_today=2,
        sessions_month=3,
        kwh_today=Decimal("15.75"),
        kwh_month=Decimal("35.75"),
    )
    # The credited CDR and its credit net to nothing; February's is before the month.
    assert page.revenue == [
        Revenue("CHF", Decimal("7.00"), Decimal("7.00")),
        Revenue("EUR", Decimal("10.50"), Decimal("14.75")),
    ]
    [alpha, beta] = page.partners
    assert (alpha.partner.name, alpha.backlog, alpha.failed) == ("Alpha", 3, 1)
    assert alpha.oldest_open_at == at("2026-03-15", "10:00")
    assert alpha.last_token_pull_at == at("2026-03-15", "06:01")
    assert alpha.alerts == ["Delivery queue stuck"]
    assert beta.alerts == []  # cleared
    assert (beta.partner.name, beta.backlog, beta.failed) == ("Beta", 0, 0)
    assert beta.oldest_open_at is None
    assert beta.last_token_pull_at is None
    assert [delivery.pk for delivery in page.failed_deliveries] == [estate["failed"].pk]
    assert [pull.partner.name for pull in page.failed_pulls] == ["Beta"]


def test_the_page_says_it(operator: Client, estate: dict[str, Any]) -> None:
    text = page_text(operator.get(INDEX))

    assert "2026-03-15 12:00 UTC" in text
    assert "1 charge point online" in text
    assert "2 charge points offline" in text
    assert "1 active session " in text
    assert "2 sessions today 3 this month" in text
    assert "15.8 kWh energy today 35.8 kWh this month" in text
    assert "10.50 EUR revenue today 14.75 EUR this month" in text
    assert "7.00 CHF revenue today 7.00 CHF this month" in text
    assert "2 CHARGING" in text
    assert (
        "Alpha Registered 3 1 2026-03-15 10:00 UTC (2 hours ago) closed 2026-03-15 06:01 UTC "
        "Delivery queue stuck" in text
    )
    assert "Beta Registered 0 0 – closed never –" in text
    assert "HTTP 503, OCPI 3000: down" in text
    assert "HTTP 500 from the tokens module" in text
    # Django's model list is still there, below.
    assert "Charge detail records" in text or "CDRs" in text


def test_the_charts_draw_thirty_days_as_svg(operator: Client, estate: dict[str, Any]) -> None:
    page = overview_of(operator.get(INDEX))
    charts = {chart.title: chart for chart in page.charts}

    assert list(charts) == [
        "Sessions per day",
        "Energy per day",
        "Revenue per day, CHF excl. VAT",
        "Revenue per day, EUR excl. VAT",
    ]
    sessions = charts["Sessions per day"]
    assert (sessions.first_day, sessions.last_day) == ("2026-02-14", "2026-03-15")
    assert len(sessions.bars) == 30
    assert sessions.peak == "2 sessions"
    heights = {bar.label: bar.height for bar in sessions.bars}
    assert heights["2026-03-15: 2 sessions"] == "116.0"  # the tallest: the whole plot
    assert heights["2026-03-02: 1 session"] == "58.0"
    assert heights["2026-02-20: 1 session"] == "58.0"
    assert heights["2026-03-01: 0 sessions"] == "0.0"
    assert charts["Energy per day"].peak == "20.0 kWh"
    eur = charts["Revenue per day, EUR excl. VAT"]
    assert eur.peak == "100.00 EUR"
    labels = [bar.label for bar in eur.bars]
    assert "2026-03-02: 0.00 EUR" in labels  # credited
    assert "2026-02-27: 100.00 EUR" in labels

    content = operator.get(INDEX).content.decode()
    rankings = [ranking for ranking in page.rankings if not ranking.empty]
    assert content.count('<svg class="op-svg"') == 4 + len(rankings)
    assert "<title>2026-03-15: 2 sessions</title>" in content


def test_the_tiles_link_to_the_filtered_lists(operator: Client, estate: dict[str, Any]) -> None:
    content = operator.get(INDEX).content.decode()
    alpha = estate["alpha"].pk

    charging = "/admin/locations/evse/?status__exact=CHARGING"
    active = "/admin/charging_sessions/session/?status__exact=ACTIVE"
    offline = "/admin/chargers/chargepoint/?online=no"
    backlog = f"/admin/push/delivery/?partner__id__exact={alpha}&amp;status__in=PENDING%2CIN_FLIGHT"
    failed = f"/admin/push/delivery/?partner__id__exact={alpha}&amp;status__exact=FAILED"
    alerts = f"/admin/monitoring/alert/?state=open&amp;partner__id__exact={alpha}"
    locations_map = "/admin/locations/location/map/"
    for link in (charging, active, offline, backlog, failed, alerts, locations_map):
        assert f'href="{link}"' in content

    assert "2 EVSEs" in page_text(operator.get(charging))
    assert "1 session" in page_text(operator.get(active))
    assert "2 charge points" in page_text(operator.get(offline))
    backlog_page = operator.get(backlog.replace("&amp;", "&"))
    assert backlog_page.status_code == 200
    assert "3 deliveries" in page_text(backlog_page)
    assert "1 delivery" in page_text(operator.get(failed.replace("&amp;", "&")))
    assert "1 alert" in page_text(operator.get(alerts.replace("&amp;", "&")))


def _queries_for_index(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        overview_of(client.get(INDEX))
    return len(queries)


def test_the_page_costs_the_same_queries_whatever_the_data(
    operator: Client, estate: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    # The first view computes the figures kept per day (ocpi.daily_figures); every later one
    # recomputes the days written since (here: always some, as on a busy platform), in the
    # same statements however many days and rows; the site ranking is its own transaction
    # (its work_mem, on PostgreSQL).
    with django_assert_max_num_queries(37):
        overview_of(operator.get(INDEX))
    add_session(estate["location"], "ONE-MORE", MOMENT - timedelta(hours=1), "5")
    add_cdr("ONE-MORE", MOMENT - timedelta(hours=1), "3.00")
    few = _queries_for_index(operator)

    location = estate["location"]
    for index in range(30):
        day = MOMENT - timedelta(days=index % 40, hours=1)
        add_session(location, f"MORE-{index}", day, "5")
        add_cdr(f"MORE-{index}", day, "3.00", currency=("EUR", "GBP", "USD")[index % 3])
    for index in range(6):
        partner = registered_emsp(f"Partner {index}", f"token-{index}", ("FR", f"P{index}"))
        for status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
            add_delivery(partner, status, MOMENT - timedelta(hours=index), f"{index}{status}")
        add_pull(partner, PullStatus.FAILED, MOMENT - timedelta(hours=index), "down")
        add_pull(partner, PullStatus.SUCCEEDED, MOMENT - timedelta(days=1))
        Alert.objects.create(
            rule=AlertRule.PULL_FAILED, partner=partner, message="down", started_at=MOMENT
        )

    assert _queries_for_index(operator) == few


def test_an_empty_platform_shows_zeros(operator: Client, db: None) -> None:
    page = overview_of(operator.get(INDEX))

    assert page.presence == Presence(online=0, offline=0)
    assert page.session_totals == SessionTotals(0, 0, Decimal(0), Decimal(0))
    assert page.revenue == []
    assert all(chart.empty for chart in page.charts)
    text = page_text(operator.get(INDEX))
    assert "no revenue this month" in text
    assert "0 active sessions" in text


def test_only_staff_get_the_page(client: Client, django_user_model: Any, db: None) -> None:
    assert client.get(INDEX).url == f"/admin/login/?next={INDEX}"  # type: ignore[attr-defined]
    client.force_login(django_user_model.objects.create_user("driver", password="d-pass-123"))
    assert client.get(INDEX).url == f"/admin/login/?next={INDEX}"  # type: ignore[attr-defined]


def test_a_viewer_sees_the_figures_of_what_they_may_view(
    client: Client, django_user_model: Any, estate: dict[str, Any]
) -> None:
    viewer = django_user_model.objects.create_user("viewer", password="v-pass-123", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(
            codename="view_session", content_type__app_label="charging_sessions"
        ),
        Permission.objects.get(codename="view_evse", content_type__app_label="locations"),
    )
    client.force_login(viewer)

    page = overview_of(client.get(INDEX))

    assert page.active_sessions.count == 1
    assert page.session_totals.sessions_today == 2
    assert [chart.title for chart in page.charts] == ["Sessions per day", "Energy per day"]
    assert page.evse_statuses is not None
    assert page.presence is None
    assert page.revenue is None
    assert page.partners is None
    assert page.failed_deliveries is None
    assert page.failed_pulls is None
    text = page_text(client.get(INDEX))
    assert "Partner health" not in text
    assert "Delivery queue stuck" not in text
    assert "revenue" not in text
    assert "Alpha" not in text
    assert "Map of locations" not in text  # the map is the locations' (view_location)


def test_today_is_the_admins_day(operator: Client, estate: dict[str, Any], settings: Any) -> None:
    """In Berlin's time zone noon UTC is 13:00, and a session at 23:30 UTC the day before is
    today's."""
    settings.TIME_ZONE = "Europe/Berlin"
    add_session(estate["location"], "BERLIN-MIDNIGHT", at("2026-03-14", "23:30"), "1")

    page = overview_of(operator.get(INDEX))

    assert page.zone == "Europe/Berlin"
    assert page.session_totals.sessions_today == 3
    chart = page.charts[0]
    assert chart.last_day == date(2026, 3, 15).isoformat()
    assert "2026-03-15: 3 sessions" in [bar.label for bar in chart.bars]


def test_partner_health_without_alerts_for_who_may_not_view_them(
    client: Client, django_user_model: Any, estate: dict[str, Any]
) -> None:
    viewer = django_user_model.objects.create_user("viewer", password="v-pass-123", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(
            codename="view_partnerplatform", content_type__app_label="credentials"
        )
    )
    client.force_login(viewer)

    page = overview_of(client.get(INDEX))

    assert [health.backlog for health in page.partners] == [3, 0]
    assert [health.alerts for health in page.partners] == [None, None]
    text = page_text(client.get(INDEX))
    assert "Alerts firing" not in text
    assert "Delivery queue stuck" not in text


def test_the_charts_escape_the_names_they_draw(operator: Client, estate: dict[str, Any]) -> None:
    add_cdr(
        "X-1",
        MOMENT - timedelta(hours=1),
        "500.00",
        cdr_location=cdr_location(id="LOCX", name='<b>"Site"</b>'),
    )

    content = operator.get(INDEX).content.decode()

    assert "<title>&lt;b&gt;&quot;Site&quot;&lt;/b&gt;: 500.00 EUR</title>" in content
    assert 'aria-label="Revenue per site, EUR excl. VAT; &lt;b&gt;&quot;Site&quot;' in content
    assert '<b>"Site"</b>' not in content
