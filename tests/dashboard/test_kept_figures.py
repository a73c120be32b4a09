"""The figures kept per day (ocpi.daily_figures; sessions.daily, cdrs.daily) are exactly the
direct aggregations' (the selectors'), through corrections, late commits, sessions updated
after their day and a change of time zone; a refresh that fails leaves them as they were."""

import dataclasses
import io
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

from cdrs import daily as cdr_days
from cdrs.models import Cdr, CdrDayFigures
from ocpi import daily_figures
from ocpi.models import FiguresWatermark
from ocpi.time import now
from sessions import daily as session_days
from sessions.models import Session, SessionDayFigures, SessionStatus
from tests.dashboard.direct_figures import (
    cdr_figures_per,
    cdr_revenue_by_currency,
    cdr_revenue_per_day,
    charged_session_totals,
    charged_sessions_per_day,
)
from tests.dashboard.estate import MOMENT, add_cdr, add_session, at, build_estate

T0 = datetime(2026, 3, 15, 12, 0, tzinfo=ZoneInfo("UTC"))  # the clock the refreshes read


class Clock:
    def __init__(self) -> None:
        self.moment = T0

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    ticking = Clock()
    monkeypatch.setattr(daily_figures, "now", ticking)
    return ticking


def written(row: Session | Cdr, moment: datetime) -> None:
    """As if `row`'s last write had been at `moment` (its transaction committing now)."""
    type(row).objects.filter(pk=row.pk).update(last_updated=moment)


def kept_equals_direct() -> None:
    """Both ways of the overview's 30 days, today and this month at MOMENT agree."""
    zone = ZoneInfo(settings.TIME_ZONE)
    today = MOMENT.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    month, since = today.replace(day=1), today - timedelta(days=29)
    days: dict[str, date] = {"today": today.date(), "month": month.date(), "since": since.date()}
    totals, per_day = session_days.kept_session_figures(**days)
    assert totals == charged_session_totals(today=today, month=month)
    assert per_day == charged_sessions_per_day(since=since, zone=zone)
    revenue, revenue_per_day, partners = cdr_days.kept_cdr_figures(**days)
    assert revenue == cdr_revenue_by_currency(today=today, month=month)
    assert revenue_per_day == cdr_revenue_per_day(since=since, zone=zone)
    assert partners == cdr_figures_per("partner", since=since)


@pytest.fixture
def estate(db: None, clock: Clock) -> dict[str, Any]:
    built = build_estate()  # EUR and CHF CDRs, a credited one
    for model in (Session, Cdr):
        model.objects.update(last_updated=T0 - timedelta(hours=1))
    kept_equals_direct()  # the first refresh computes everything
    return built


def test_the_first_refresh_computes_everything(estate: dict[str, Any]) -> None:
    assert SessionDayFigures.objects.filter(day=date(2026, 3, 15)).get().sessions == 2
    marks = FiguresWatermark.objects.order_by("name").values_list("name", "until", "zone")
    assert list(marks) == [("cdrs:day", T0, "UTC"), ("sessions:day", T0, "UTC")]


def test_a_correction_moves_the_day_of_the_cdr_it_replaces(
    estate: dict[str, Any], clock: Clock
) -> None:
    original = add_cdr("FIX-ME", at("2026-03-03"), "8.00", currency="GBP")
    written(original, T0 + timedelta(minutes=30))
    clock.moment = T0 + timedelta(hours=1)
    kept_equals_direct()
    # An hour later: the credit and the corrected CDR end days later than the original, whose
    # own row was written long before the watermark: only Cdr.corrects says its day moved.
    credit = add_cdr(
        "FIX-ME-C",
        at("2026-03-09"),
        "-8.00",
        currency="GBP",
        credit=True,
        original=original,
        credit_reference_id="FIX-ME",
    )
    corrected = add_cdr("FIX-ME-2", at("2026-03-09"), "6.00", currency="GBP", corrects=original)
    for row in (credit, corrected):
        written(row, T0 + timedelta(hours=2))
    clock.moment = T0 + timedelta(hours=2, minutes=1)
    kept_equals_direct()
    gbp_on_the_3rd = CdrDayFigures.objects.get(day=date(2026, 3, 3), currency="GBP")
    assert (gbp_on_the_3rd.sessions, gbp_on_the_3rd.revenue_excl_vat) == (0, Decimal("8.00"))


def test_a_write_that_commits_after_the_refresh_is_found_by_the_next(
    estate: dict[str, Any], clock: Clock
) -> None:
    clock.moment = T0 + timedelta(hours=1)
    kept_equals_direct()
    # Written (last_updated) two minutes before that refresh, committed after it.
    late = add_session(estate["location"], "LATE", at("2026-03-11"), "4.5")
    written(late, clock.moment - timedelta(minutes=2))
    late_cdr = add_cdr("LATE", at("2026-03-11"), "2.00")
    written(late_cdr, clock.moment - timedelta(minutes=2))
    clock.moment += timedelta(minutes=1)
    kept_equals_direct()
    assert SessionDayFigures.objects.get(day=date(2026, 3, 11)).sessions == 1


def test_a_session_updated_after_its_day(estate: dict[str, Any], clock: Clock) -> None:
    session = Session.objects.get(ocpi_id="MONTH-1")  # started 2 March, counted
    Session.objects.filter(pk=session.pk).update(
        status=SessionStatus.INVALID, last_updated=T0 + timedelta(hours=3)
    )
    clock.moment = T0 + timedelta(hours=3, seconds=1)
    kept_equals_direct()
    assert not SessionDayFigures.objects.filter(day=date(2026, 3, 2)).exists()


def test_refreshing_twice_counts_once(estate: dict[str, Any], clock: Clock) -> None:
    add_session(estate["location"], "NEW", at("2026-03-15", "11:30"), "1")  # written now
    clock.moment = T0 + timedelta(minutes=1)
    kept_equals_direct()
    kept_equals_direct()  # the same days again, within the overlap: replaced, not added
    assert SessionDayFigures.objects.get(day=date(2026, 3, 15)).sessions == 3


def test_another_time_zone_rebuilds_the_figures(
    estate: dict[str, Any], clock: Clock, settings: Any
) -> None:
    add_session(estate["location"], "LATE-EVENING", at("2026-03-14", "23:30"), "1")
    written(Session.objects.get(ocpi_id="LATE-EVENING"), T0 - timedelta(hours=2))
    settings.TIME_ZONE = "Europe/Berlin"  # 23:30 UTC is 00:30 the next day there
    clock.moment = T0 + timedelta(hours=1)
    kept_equals_direct()
    assert SessionDayFigures.objects.get(day=date(2026, 3, 15)).sessions == 3
    assert set(FiguresWatermark.objects.values_list("zone", flat=True)) == {"Europe/Berlin"}


def test_a_refresh_that_fails_changes_nothing(
    estate: dict[str, Any], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = list(SessionDayFigures.objects.order_by("day").values_list("day", "sessions"))
    add_session(estate["location"], "NEW", at("2026-03-15", "11:30"), "1")
    clock.moment = T0 + timedelta(minutes=1)

    def broken(*_: Any) -> list[SessionDayFigures]:
        raise RuntimeError("database went away")

    failing = dataclasses.replace(session_days.KEPT, figures=broken)
    with pytest.raises(RuntimeError):
        daily_figures.refresh(failing)

    assert list(SessionDayFigures.objects.order_by("day").values_list("day", "sessions")) == before
    assert FiguresWatermark.objects.get(name="sessions:day").until == T0
    kept_equals_direct()  # the next refresh does what this one did not


def test_an_empty_platform_has_no_figures(db: None) -> None:
    kept_equals_direct()
    assert not SessionDayFigures.objects.exists()
    assert not CdrDayFigures.objects.exists()
    assert FiguresWatermark.objects.filter(until__isnull=False).count() == 2


def test_the_command_computes_them_ahead_of_the_first_view(estate: dict[str, Any]) -> None:
    FiguresWatermark.objects.all().delete()
    SessionDayFigures.objects.all().delete()
    out = io.StringIO()
    call_command("refresh_dashboard_figures", stdout=out)
    assert "cdrs:day: up to date in" in out.getvalue()
    assert FiguresWatermark.objects.filter(until__isnull=False).count() == 2
    assert SessionDayFigures.objects.exists()
    kept_equals_direct()


def test_the_command_rebuilds_a_day_a_long_transaction_left_behind(
    estate: dict[str, Any], clock: Clock
) -> None:
    clock.moment = T0 + timedelta(hours=1)
    kept_equals_direct()
    # Stamped an hour before that refresh, committed after it: beyond the overlap.
    late = add_session(estate["location"], "VERY-LATE", at("2026-03-11"), "4.5")
    written(late, clock.moment - timedelta(hours=1))
    clock.moment += timedelta(minutes=1)
    daily_figures.refresh(session_days.KEPT)
    assert not SessionDayFigures.objects.filter(day=date(2026, 3, 11)).exists()  # missed

    call_command("refresh_dashboard_figures", "--rebuild", stdout=io.StringIO())

    assert SessionDayFigures.objects.get(day=date(2026, 3, 11)).sessions == 1
    kept_equals_direct()


def test_a_cdr_created_a_second_ago_shows_on_the_next_view(
    operator: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dashboard.overview.now", lambda: MOMENT)
    build_estate()

    def eur_today() -> Decimal:
        page = operator.get("/admin/").context["overview"]
        return next(one.today for one in page.revenue if one.currency == "EUR")

    assert eur_today() == Decimal("10.50")
    add_cdr(
        "JUST-NOW", MOMENT - timedelta(minutes=5), "1.25", last_updated=now() - timedelta(seconds=1)
    )
    assert eur_today() == Decimal("11.75")


def _refresh_at_once(readers: int) -> list[BaseException]:
    """`readers` threads (each its own connection) refreshing both tables at the same moment."""
    start, failures = threading.Barrier(readers), []

    def read() -> None:
        try:
            start.wait()
            for kept in (session_days.KEPT, cdr_days.KEPT):
                daily_figures.refresh(kept)
        except BaseException as exc:  # noqa: BLE001  (reported by the test)
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures


def test_readers_at_once_count_each_day_once(transactional_db: None) -> None:
    """The watermark's row lock lets one reader at a time replace a day's rows: without it two
    first readers would both insert every day (the unique day would refuse the second)."""
    estate = build_estate()
    assert _refresh_at_once(4) == []
    add_session(estate["location"], "AT-ONCE", at("2026-03-15", "11:45"), "2")
    add_cdr("AT-ONCE", at("2026-03-15", "11:45"), "2.00", currency="GBP")
    assert _refresh_at_once(4) == []
    kept_equals_direct()
    assert SessionDayFigures.objects.get(day=date(2026, 3, 15)).sessions == 3
