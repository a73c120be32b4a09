"""The location and EVSE pages in the location's time zone: exceptional openings and closings
are typed and shown on the location's clock (the zone the page posts, else the stored one),
labelled with it, and stored in UTC as OCPI wants; last_updated on the pages shows in the
location's zone, as the lists show it (ocpi.display). Pages are posted as rendered."""

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from credentials.models import PartnerPlatform
from locations.models import EVSE, Location
from push.models import Change
from tests.locations.conftest import location_payload, upsert
from tests.locations.test_admin import EVSES, LOCATIONS, form_errors, location_form
from tests.page_form import posted_form

CLOSINGS = "opening_times-exceptional_closings"
CLOSED = {"period_begin": "2026-12-25T00:00:00Z", "period_end": "2026-12-26T00:00:00Z"}


def located(zone: str, **hours: Any) -> Location:
    opening_times = {"twentyfourseven": True, **hours}
    return upsert(location_payload("LOC1", time_zone=zone, opening_times=opening_times))


def page(operator: Client, location: Location) -> str:
    response = operator.get(f"{LOCATIONS}{location.pk}/change/")
    assert response.status_code == 200
    return str(response.content.decode())


def closings_header(html: str) -> str:
    """The header row of the exceptional closings' table: its columns and their help."""
    return html.split(f'name="{CLOSINGS}-TOTAL_ROWS"')[1].split("</thead>")[0]


def stored_closings(location: Location) -> Any:
    location.refresh_from_db()
    return location.opening_times["exceptional_closings"]


def test_stored_periods_show_on_the_location_s_clock_labelled_with_its_zone(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = located("Asia/Tokyo", exceptional_closings=[CLOSED])

    html = page(operator, location)
    posted = posted_form(html, "location_form")

    assert posted[f"{CLOSINGS}-0-period_begin"] == ["2026-12-25T09:00:00"]  # UTC+9
    assert posted[f"{CLOSINGS}-0-period_end"] == ["2026-12-26T09:00:00"]
    header = closings_header(html)
    assert header.count(">Asia/Tokyo</div>") == 2  # period_begin, period_end
    assert ">UTC" not in header


def test_saved_as_shown_the_periods_stay_the_same_moments_and_nothing_is_pushed(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = located("America/New_York", exceptional_closings=[CLOSED])
    Change.objects.all().delete()

    response = operator.post(
        f"{LOCATIONS}{location.pk}/change/", posted_form(page(operator, location), "location_form")
    )

    assert response.status_code == 302
    assert stored_closings(location) == [CLOSED]
    assert Change.objects.count() == 0


def test_a_typed_period_is_read_in_the_zone_the_page_posts(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = located("Europe/Brussels", exceptional_closings=[CLOSED])
    posted = posted_form(page(operator, location), "location_form")
    # Moved to Tokyo on the same page: the wall-clock times typed are Tokyo's.
    posted["time_zone"] = ["Asia/Tokyo"]
    posted[f"{CLOSINGS}-0-period_begin"] = ["2026-12-25T09:00"]
    posted[f"{CLOSINGS}-0-period_end"] = ["2026-12-26T09:00"]

    response = operator.post(f"{LOCATIONS}{location.pk}/change/", posted)

    assert response.status_code == 302, form_errors(response)
    assert stored_closings(location) == [CLOSED]


def test_a_new_location_s_periods_are_typed_in_its_zone(
    operator: Client, partner: PartnerPlatform
) -> None:
    form = location_form(
        time_zone="America/New_York",
        **{
            f"{CLOSINGS}-TOTAL_ROWS": "1",
            f"{CLOSINGS}-0-period_begin": "2026-12-24T19:00",
            f"{CLOSINGS}-0-period_end": "2026-12-25T19:00",
        },
    )

    response = operator.post(f"{LOCATIONS}add/", form)

    assert response.status_code == 302, form_errors(response)
    assert stored_closings(Location.objects.get()) == [CLOSED]


def test_without_a_zone_the_add_page_types_in_utc_and_says_so(operator: Client) -> None:
    html = operator.get(f"{LOCATIONS}add/").content.decode()

    assert closings_header(html).count(">UTC</div>") == 2


def test_a_time_the_clocks_skip_is_refused_on_its_field_and_nothing_is_stored(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = located("Europe/Brussels", exceptional_closings=[CLOSED])
    posted = posted_form(page(operator, location), "location_form")
    posted[f"{CLOSINGS}-0-period_begin"] = ["2026-03-29T02:30"]  # 02:00 → 03:00 that night
    posted[f"{CLOSINGS}-0-period_end"] = ["2026-03-29T05:00"]

    response = operator.post(f"{LOCATIONS}{location.pk}/change/", posted)

    assert response.status_code == 200
    assert form_errors(response) == {
        "opening_times": [
            "exceptional_closings: row 1: period_begin: 2026-03-29 02:30 does not exist in "
            "Europe/Brussels: the clocks go forward over it."
        ]
    }
    assert stored_closings(location) == [CLOSED]


def test_an_unknown_posted_zone_is_refused_and_the_periods_read_in_the_stored_one(
    operator: Client, partner: PartnerPlatform
) -> None:
    location = located("Asia/Tokyo", exceptional_closings=[CLOSED])
    posted = posted_form(page(operator, location), "location_form")
    posted["time_zone"] = ["Mars/Olympus_Mons"]

    response = operator.post(f"{LOCATIONS}{location.pk}/change/", posted)

    assert response.status_code == 200
    errors = form_errors(response)
    assert list(errors) == ["time_zone"]
    shown = posted_form(response.content.decode(), "location_form")
    assert shown[f"{CLOSINGS}-0-period_begin"] == ["2026-12-25T09:00:00"]  # as typed
    assert closings_header(response.content.decode()).count(">Asia/Tokyo</div>") == 2
    assert stored_closings(location) == [CLOSED]


# --- last_updated on the pages -------------------------------------------------------------


@pytest.fixture
def tokyo_evse(partner: PartnerPlatform, settings: Any) -> EVSE:
    settings.TIME_ZONE = "Europe/Brussels"  # the operator's zone: not the location's
    location = located("Asia/Tokyo")
    return EVSE.objects.get(location=location)


def _shown_updated(html: str) -> str:
    """The text of the first read-only last_updated field on a page."""
    return html.split('<time datetime="', 1)[1].split(">", 1)[1].split("</time>", 1)[0]


def test_the_evse_page_shows_last_updated_in_its_location_s_zone(
    operator: Client, tokyo_evse: EVSE
) -> None:
    html = operator.get(f"{EVSES}{tokyo_evse.pk}/change/").content.decode()

    local = tokyo_evse.last_updated.astimezone(ZoneInfo("Asia/Tokyo"))
    assert _shown_updated(html) == f"{local:%Y-%m-%d %H:%M} JST"
    assert html.count(" JST</time>") >= 2  # the EVSE's and its connector's
    assert " CET</time>" not in html


def test_the_location_page_shows_its_and_its_evses_last_updated_in_its_zone(
    operator: Client, tokyo_evse: EVSE
) -> None:
    html = page(operator, tokyo_evse.location)

    assert html.count(" JST</time>") >= 2  # the location's, its EVSE row's
    assert " CET</time>" not in html


def test_a_location_with_an_unknown_zone_shows_the_operator_s(
    operator: Client, tokyo_evse: EVSE
) -> None:
    Location.objects.filter(pk=tokyo_evse.location_id).update(time_zone="Mars/Olympus_Mons")

    html = operator.get(f"{EVSES}{tokyo_evse.pk}/change/").content.decode()

    assert " CET</time>" in html
    assert " JST</time>" not in html


def test_the_evse_add_page_has_no_location_yet_and_still_shows(operator: Client) -> None:
    assert operator.get(f"{EVSES}add/").status_code == 200


SCHEDULE = "status_schedule"
PLANNED = {"period_begin": "2026-12-24T08:00:00Z", "status": "PLANNED"}


def test_the_evse_page_shows_its_status_schedule_on_its_location_s_clock(
    operator: Client, tokyo_evse: EVSE
) -> None:
    EVSE.objects.filter(pk=tokyo_evse.pk).update(status_schedule=[PLANNED])

    html = operator.get(f"{EVSES}{tokyo_evse.pk}/change/").content.decode()
    posted = posted_form(html, "evse_form")

    assert posted[f"{SCHEDULE}-0-period_begin"] == ["2026-12-24T17:00:00"]  # UTC+9
    header = html.split(f'name="{SCHEDULE}-TOTAL_ROWS"')[1].split("</thead>")[0]
    assert ">Asia/Tokyo" in header
    assert ">UTC" not in header


def test_the_evse_page_saved_as_shown_keeps_its_schedule_and_pushes_nothing(
    operator: Client, tokyo_evse: EVSE
) -> None:
    EVSE.objects.filter(pk=tokyo_evse.pk).update(status_schedule=[PLANNED])
    Change.objects.all().delete()
    url = f"{EVSES}{tokyo_evse.pk}/change/"

    response = operator.post(url, posted_form(operator.get(url).content.decode(), "evse_form"))

    assert response.status_code == 302, form_errors(response)
    tokyo_evse.refresh_from_db()
    assert tokyo_evse.status_schedule == [PLANNED]
    assert Change.objects.count() == 0


def schedule_typed(operator: Client, evse: EVSE, period_begin: str) -> list[dict[str, Any]]:
    """`evse`'s status schedule once its page is posted as rendered with one INOPERATIVE
    period typed from `period_begin`."""
    url = f"{EVSES}{evse.pk}/change/"
    posted = posted_form(operator.get(url).content.decode(), "evse_form")
    posted[f"{SCHEDULE}-0-period_begin"] = [period_begin]
    posted[f"{SCHEDULE}-0-status"] = ["INOPERATIVE"]

    response = operator.post(url, posted)

    assert response.status_code == 302, form_errors(response)
    evse.refresh_from_db()
    return list(evse.status_schedule)


def test_a_schedule_typed_on_the_evse_page_is_read_on_its_location_s_clock(
    operator: Client, tokyo_evse: EVSE
) -> None:
    assert schedule_typed(operator, tokyo_evse, "2026-12-24T09:00") == [
        {"period_begin": "2026-12-24T00:00:00Z", "status": "INOPERATIVE"}
    ]


def test_an_evse_of_a_location_with_an_unknown_zone_types_its_schedule_in_utc(
    operator: Client, tokyo_evse: EVSE
) -> None:
    Location.objects.filter(pk=tokyo_evse.location_id).update(time_zone="Mars/Olympus_Mons")

    schedule = schedule_typed(operator, tokyo_evse, "2026-12-24T09:00")

    assert schedule[0]["period_begin"] == "2026-12-24T09:00:00Z"
