"""One format for moments on the operator's screens: the location's zone, labelled, DST
included; the operator's zone (settings.TIME_ZONE) when there is no location."""

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import formats, timezone

from ocpi.display import LocalTimeColumn, local_time, local_time_html, truncated, zone_label

WINTER = datetime(2026, 12, 7, 13, 6, tzinfo=UTC)
SUMMER = datetime(2026, 7, 7, 13, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        (WINTER, "Europe/Berlin", "2026-12-07 14:06 CET"),
        (SUMMER, "Europe/Berlin", "2026-07-07 15:06 CEST"),
        (WINTER, "Europe/London", "2026-12-07 13:06 GMT"),
        (SUMMER, "Europe/London", "2026-07-07 14:06 BST"),
        (WINTER, "America/New_York", "2026-12-07 08:06 EST"),
        # Zones whose abbreviation is only numeric get an offset that says what it is.
        (WINTER, "Europe/Istanbul", "2026-12-07 16:06 UTC+03:00"),
        (WINTER, "Asia/Kolkata", "2026-12-07 18:36 IST"),
        (WINTER, "America/St_Johns", "2026-12-07 09:36 NST"),
        (WINTER, "America/Sao_Paulo", "2026-12-07 10:06 UTC-03:00"),
        (WINTER, "UTC", "2026-12-07 13:06 UTC"),
    ],
)
def test_a_moment_is_shown_in_the_zone_with_its_label(
    moment: datetime, zone: str, shown: str
) -> None:
    assert local_time(moment, zone) == shown


def test_the_clocks_going_forward_and_back_keep_the_label_right() -> None:
    # Europe/Berlin: summer time from 2026-03-29 01:00 UTC until 2026-10-25 01:00 UTC.
    assert local_time(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "Europe/Berlin") == (
        "2026-03-29 01:59 CET"
    )
    assert local_time(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "Europe/Berlin") == (
        "2026-03-29 03:00 CEST"
    )
    # The hour that happens twice in October is told apart by its label.
    assert local_time(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Europe/Berlin") == (
        "2026-10-25 02:30 CEST"
    )
    assert local_time(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Europe/Berlin") == (
        "2026-10-25 02:30 CET"
    )


def test_without_a_zone_the_operators_is_used_and_named() -> None:
    assert local_time(WINTER) == "2026-12-07 13:06 UTC"
    assert local_time(WINTER, "") == "2026-12-07 13:06 UTC"
    assert local_time(WINTER, "Mars/Olympus_Mons") == "2026-12-07 13:06 UTC"
    assert local_time(None, "Europe/Berlin") == "–"


def test_the_operators_zone_is_the_setting(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Amsterdam"

    assert local_time(WINTER) == "2026-12-07 14:06 CET"
    assert local_time(WINTER, "Europe/London") == "2026-12-07 13:06 GMT"
    assert formats.localize(timezone.localtime(WINTER)) == local_time(WINTER)


def test_an_offset_label_has_its_sign_and_minutes() -> None:
    kathmandu = WINTER.astimezone(ZoneInfo("Asia/Kathmandu"))
    assert zone_label(kathmandu) == "UTC+05:45"


def test_djangos_own_cells_use_the_same_format() -> None:
    """What the admin shows for any DateTimeField it renders itself (config/formats)."""
    assert formats.localize(timezone.localtime(WINTER)) == local_time(WINTER)
    rendered = Template("{% load local_times %}{{ moment|local_time:'Europe/Paris' }}").render(
        Context({"moment": WINTER})
    )
    assert rendered == "2026-12-07 14:06 CET"


def test_the_html_says_the_utc_instant_in_its_tooltip() -> None:
    assert local_time_html(WINTER, "Europe/Berlin") == (
        '<time datetime="2026-12-07T13:06:00+00:00" title="2026-12-07 13:06:00 UTC">'
        "2026-12-07 14:06 CET</time>"
    )


def test_a_column_reads_the_field_and_the_objects_zone() -> None:
    column = LocalTimeColumn("started_at", "started", lambda obj: obj.zone)
    row = SimpleNamespace(started_at=SUMMER, zone="Europe/Brussels")

    assert column(row) == local_time_html(SUMMER, "Europe/Brussels")
    assert (column.short_description, column.admin_order_field) == ("started", "started_at")


def test_long_text_is_cut_with_the_whole_in_its_title() -> None:
    assert truncated("LOC1", 10) == "LOC1"
    assert truncated("BE*BEC*E041503003-LONG", 10) == (
        '<span title="BE*BEC*E041503003-LONG">BE*BEC*E0…</span>'
    )
