"""Paginated Sender GETs (transport_and_format.asciidoc, Pagination).

offset/limit under the server's cap, date_from inclusive and date_to exclusive, a stable order
(oldest first by creation), `Link: <…>; rel="next"` only when more follows and carrying every
filter, `X-Total-Count`, and `X-Limit` = the cap. Our Links also carry a cursor (`after`, the
primary key of the page's last object): following pages are read by keyset, not OFFSET.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries, Settings
from rest_framework.request import Request
from rest_framework.test import APIClient

from ocpi.exceptions import InvalidParameters
from ocpi.limits import MAX_QUERY_INTEGER
from ocpi.pagination import (
    PageParams,
    note_list_change,
    page_params,
    paginated_response,
    total_count,
)
from tests.ocpi.testapp.models import Item
from tests.ocpi.testapp.views import render_items

pytestmark = [pytest.mark.urls("tests.ocpi.testapp.urls"), pytest.mark.django_db]

URL = "/ocpi/cpo/2.2.1/testitems"
BASE = "https://cpo.example.com"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _public_base_url(settings: Settings) -> None:
    settings.OCPI_BASE_URL = BASE


@pytest.fixture
def make_items(db: None) -> Callable[[int], list[str]]:
    """Create items ITEM-0… in that order, each an hour *older* than the one before.

    Creation order and last_updated order are opposite, so a test sees which one pages follow.
    """

    def make(count: int) -> list[str]:
        return [
            Item.objects.create(
                ocpi_id=f"ITEM-{n}", last_updated=T0 + timedelta(hours=count - 1 - n)
            ).ocpi_id
            for n in range(count)
        ]

    return make


def ids(response: Any) -> list[str]:
    return [item["id"] for item in response.json()["data"]]


def pk_of(ocpi_id: str) -> int:
    return Item.objects.get(ocpi_id=ocpi_id).pk


def headers(response: Any) -> dict[str, str | None]:
    return {name: response.get(name) for name in ("X-Total-Count", "X-Limit", "Link")}


def test_a_short_list_is_one_page_without_link(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    created = make_items(3)

    response = partner_client.get(URL)

    assert response.status_code == 200
    assert ids(response) == created
    assert headers(response) == {"X-Total-Count": "3", "X-Limit": "100", "Link": None}


def test_objects_are_rendered_with_their_last_updated(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    make_items(2)

    response = partner_client.get(URL)

    assert response.json()["data"] == [
        {"id": "ITEM-0", "last_updated": "2026-03-01T01:00:00Z"},
        {"id": "ITEM-1", "last_updated": "2026-03-01T00:00:00Z"},
    ]


def test_offset_and_limit_select_a_page_and_link_the_next(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    created = make_items(5)

    response = partner_client.get(URL, {"offset": 1, "limit": 2})

    assert ids(response) == created[1:3]
    assert headers(response) == {
        "X-Total-Count": "5",
        "X-Limit": "100",
        "Link": f'<{BASE}{URL}?offset=3&limit=2&after={pk_of("ITEM-2")}>; rel="next"',
    }


def test_the_last_page_has_no_link(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    created = make_items(5)

    response = partner_client.get(URL, {"offset": 3, "limit": 2})

    assert ids(response) == created[3:5]
    assert headers(response) == {"X-Total-Count": "5", "X-Limit": "100", "Link": None}


def test_a_short_last_page_has_no_link(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    created = make_items(5)

    response = partner_client.get(URL, {"offset": 4, "limit": 2})

    assert ids(response) == created[4:]
    assert headers(response)["Link"] is None


def test_an_offset_past_the_end_is_an_empty_page(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    make_items(2)

    response = partner_client.get(URL, {"offset": 10})

    assert (response.json()["status_code"], ids(response)) == (1000, [])
    assert headers(response) == {"X-Total-Count": "2", "X-Limit": "100", "Link": None}


def test_an_empty_list_is_an_empty_page(partner_client: APIClient) -> None:
    response = partner_client.get(URL)

    assert response.json()["data"] == []
    assert headers(response) == {"X-Total-Count": "0", "X-Limit": "100", "Link": None}


def test_a_limit_above_the_cap_is_capped_and_x_limit_is_the_cap(
    partner_client: APIClient, make_items: Callable[[int], list[str]], settings: Settings
) -> None:
    settings.OCPI_PAGE_LIMIT = 3
    created = make_items(7)

    response = partner_client.get(URL, {"limit": 2000})

    assert ids(response) == created[:3]
    assert headers(response) == {
        "X-Total-Count": "7",
        "X-Limit": "3",
        "Link": f'<{BASE}{URL}?offset=3&limit=3&after={pk_of("ITEM-2")}>; rel="next"',
    }


def test_x_limit_is_the_cap_even_when_the_client_asks_for_less(
    partner_client: APIClient, make_items: Callable[[int], list[str]], settings: Settings
) -> None:
    settings.OCPI_PAGE_LIMIT = 3
    make_items(7)

    response = partner_client.get(URL, {"limit": 1})

    assert len(ids(response)) == 1
    assert response["X-Limit"] == "3"


def test_without_limit_a_page_holds_the_cap(
    partner_client: APIClient, make_items: Callable[[int], list[str]], settings: Settings
) -> None:
    settings.OCPI_PAGE_LIMIT = 3
    created = make_items(4)

    response = partner_client.get(URL)

    assert ids(response) == created[:3]
    assert response["Link"] == f'<{BASE}{URL}?offset=3&limit=3&after={pk_of("ITEM-2")}>; rel="next"'


def test_limit_zero_means_the_servers_page_size(
    partner_client: APIClient, make_items: Callable[[int], list[str]], settings: Settings
) -> None:
    """A zero limit would page forever; it is read as "no preference"."""
    settings.OCPI_PAGE_LIMIT = 3
    created = make_items(4)

    response = partner_client.get(URL, {"limit": 0})

    assert ids(response) == created[:3]


def test_the_order_is_creation_order_not_last_updated(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    created = make_items(4)
    Item.objects.filter(ocpi_id="ITEM-0").update(last_updated=T0 - timedelta(days=1))

    pages = [ids(partner_client.get(URL, {"offset": offset, "limit": 2})) for offset in (0, 2)]

    assert pages == [created[:2], created[2:]]


def test_date_from_is_inclusive_and_date_to_exclusive(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    make_items(5)  # last_updated: ITEM-0 at T0+4h … ITEM-4 at T0

    response = partner_client.get(
        URL, {"date_from": "2026-03-01T01:00:00Z", "date_to": "2026-03-01T03:00:00Z"}
    )

    assert ids(response) == ["ITEM-2", "ITEM-3"]  # T0+2h and T0+1h; T0+3h is excluded
    assert response["X-Total-Count"] == "2"


def test_dates_without_z_are_utc(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    make_items(5)

    response = partner_client.get(URL, {"date_from": "2026-03-01T03:00:00"})

    assert ids(response) == ["ITEM-0", "ITEM-1"]


def test_the_link_carries_the_filters_and_the_new_offset_and_limit(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    make_items(6)

    response = partner_client.get(
        URL,
        {
            "date_from": "2026-03-01T00:00:00Z",
            "date_to": "2026-03-01T05:00:00Z",
            "offset": "0",
            "limit": "2",
        },
    )

    assert ids(response) == ["ITEM-1", "ITEM-2"]  # ITEM-0 (T0+5h) is at date_to: excluded
    assert headers(response) == {
        "X-Total-Count": "5",
        "X-Limit": "100",
        "Link": (
            f"<{BASE}{URL}?date_from=2026-03-01T00%3A00%3A00Z&date_to=2026-03-01T05%3A00%3A00Z"
            f'&offset=2&limit=2&after={pk_of("ITEM-2")}>; rel="next"'
        ),
    }


def test_following_links_visits_every_object_once(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    created = make_items(7)

    first = partner_client.get(URL, {"limit": 3})
    second = partner_client.get(path_of(first["Link"]))
    third = partner_client.get(path_of(second["Link"]))

    assert ids(first) + ids(second) + ids(third) == created
    assert third.get("Link") is None


def path_of(link: str) -> str:
    """The URL inside `<…>; rel="next"`, without our public base (the test client wants a path)."""
    return link[len(f"<{BASE}") : link.index(">")]


# --- the cursor in our Links: keyset paging ------------------------------------------------


def test_a_cursor_reads_the_objects_after_it_whatever_the_offset(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    """The offset only counts (the Link's next offset); the cursor says where the page is."""
    created = make_items(7)

    response = partner_client.get(URL, {"offset": "0", "limit": "2", "after": str(pk_of("ITEM-3"))})

    assert ids(response) == created[4:6]
    assert headers(response) == {
        "X-Total-Count": "7",
        "X-Limit": "100",
        "Link": f'<{BASE}{URL}?offset=2&limit=2&after={pk_of("ITEM-5")}>; rel="next"',
    }


def test_a_cursor_at_the_end_is_an_empty_page_without_link(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    make_items(2)

    response = partner_client.get(URL, {"offset": "2", "after": str(pk_of("ITEM-1"))})

    assert (response.json()["status_code"], ids(response)) == (1000, [])
    assert headers(response) == {"X-Total-Count": "2", "X-Limit": "100", "Link": None}


def test_the_link_replaces_the_cursor_it_was_asked_with(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    make_items(5)

    response = partner_client.get(
        URL, {"after": str(pk_of("ITEM-0")), "date_from": "2026-03-01T00:00:00Z", "limit": "2"}
    )

    assert ids(response) == ["ITEM-1", "ITEM-2"]
    assert response["Link"] == (
        f"<{BASE}{URL}?date_from=2026-03-01T00%3A00%3A00Z"
        f'&offset=2&limit=2&after={pk_of("ITEM-2")}>; rel="next"'
    )


def test_objects_leaving_before_the_cursor_do_not_shift_the_following_pages(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    """By OFFSET the second page would skip ITEM-2 and ITEM-3, and the count (4) would end
    the crawl at offset 4 before ITEM-4 and ITEM-5."""
    created = make_items(6)

    first = partner_client.get(URL, {"limit": 2})
    Item.objects.filter(ocpi_id__in=["ITEM-0", "ITEM-1"]).delete()
    second = partner_client.get(path_of(first["Link"]))
    third = partner_client.get(path_of(second["Link"]))

    assert [ids(first), ids(second), ids(third)] == [created[:2], created[2:4], created[4:]]
    assert [page["X-Total-Count"] for page in (first, second, third)] == ["6", "4", "4"]
    assert third.get("Link") is None


def test_objects_created_while_crawling_come_on_the_later_pages(
    partner_client: APIClient, make_items: Callable[[int], list[str]]
) -> None:
    created = make_items(3)

    first = partner_client.get(URL, {"limit": 2})
    Item.objects.create(ocpi_id="NEW", last_updated=T0)
    second = partner_client.get(path_of(first["Link"]))

    assert ids(first) + ids(second) == [*created, "NEW"]
    assert [first["X-Total-Count"], second["X-Total-Count"]] == ["3", "4"]
    assert second.get("Link") is None


def test_a_page_by_cursor_is_an_index_range_not_an_offset(
    make_items: Callable[[int], list[str]],
) -> None:
    make_items(5)
    cursor = pk_of("ITEM-1")

    with CaptureQueriesContext(connection) as by_cursor:
        paginated_response(
            drf_request({"offset": "2", "after": str(cursor)}), Item.objects.all(), render_items
        )
    with CaptureQueriesContext(connection) as by_offset:
        paginated_response(drf_request({"offset": "2"}), Item.objects.all(), render_items)

    page_by_cursor, page_by_offset = by_cursor[-1]["sql"], by_offset[-1]["sql"]
    assert f'"id" > {cursor}' in page_by_cursor
    assert "OFFSET" not in page_by_cursor
    assert "OFFSET 2" in page_by_offset


# --- X-Total-Count: exact, from the cache while the list has not changed ---------------------


def count(*, dated: bool = False, **filters: Any) -> int:
    return total_count(Item.objects.filter(**filters), name="testitems", dated=dated)


def test_a_count_is_cached_until_a_write_announces_a_change(
    make_items: Callable[[int], list[str]],
) -> None:
    make_items(3)
    note_list_change("testitems", key=1, membership=True)

    first = count()
    Item.objects.create(ocpi_id="UNANNOUNCED", last_updated=T0)  # breaks the writers' contract
    cached = count()
    note_list_change("testitems", key=2, membership=True)
    fresh = count()

    assert (first, cached, fresh) == (3, 3, 4)


def test_a_count_costs_one_query_cached_or_not(
    make_items: Callable[[int], list[str]], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    make_items(3)
    note_list_change("testitems", key=1, membership=True)

    with django_assert_num_queries(1):
        fresh = count()
    with django_assert_num_queries(1):
        cached = count()

    assert (fresh, cached) == (3, 3)


def test_a_new_last_updated_refreshes_dated_counts_only(
    make_items: Callable[[int], list[str]],
) -> None:
    """Undated counts follow membership (created, deleted, hidden); dated ones every update."""
    make_items(3)  # ITEM-0 at T0+2h, ITEM-1 at T0+1h, ITEM-2 at T0
    window = {"last_updated__gte": T0 + timedelta(hours=1)}
    note_list_change("testitems", key=1, membership=True)
    before = (count(), count(dated=True, **window))

    Item.objects.filter(ocpi_id="ITEM-2").update(last_updated=T0 + timedelta(hours=5))
    Item.objects.create(ocpi_id="UNANNOUNCED", last_updated=T0)  # not in the window
    note_list_change("testitems", key=3, membership=False)
    after = (count(), count(dated=True, **window))

    assert (before, after) == ((3, 2), (3, 3))


def test_each_query_has_its_own_cached_count(make_items: Callable[[int], list[str]]) -> None:
    make_items(3)
    note_list_change("testitems", key=1, membership=True)

    first = [count(), count(ocpi_id="ITEM-1"), count(dated=True, last_updated__lt=T0)]
    again = [count(), count(ocpi_id="ITEM-1"), count(dated=True, last_updated__lt=T0)]

    assert first == again == [3, 1, 0]


def test_a_list_never_announced_is_counted_every_time(
    make_items: Callable[[int], list[str]],
) -> None:
    make_items(2)

    first = count()
    Item.objects.create(ocpi_id="NEW", last_updated=T0)

    assert (first, count()) == (2, 3)


def test_a_page_with_the_cached_count_costs_two_queries(
    make_items: Callable[[int], list[str]], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    make_items(3)
    note_list_change("testitems", key=1, membership=True)
    paginated_response(drf_request(), Item.objects.all(), render_items, count_cache="testitems")

    with django_assert_num_queries(2):  # the generation (the count is cached) and the page
        response = paginated_response(
            drf_request({"limit": "2"}), Item.objects.all(), render_items, count_cache="testitems"
        )

    assert response["X-Total-Count"] == "3"
    assert [item["id"] for item in response.data["data"]] == ["ITEM-0", "ITEM-1"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"offset": "-1"}, f"offset must be an integer from 0 to {MAX_QUERY_INTEGER}"),
        ({"offset": "two"}, f"offset must be an integer from 0 to {MAX_QUERY_INTEGER}"),
        ({"offset": "1.5"}, f"offset must be an integer from 0 to {MAX_QUERY_INTEGER}"),
        ({"limit": "-5"}, f"limit must be an integer from 0 to {MAX_QUERY_INTEGER}"),
        ({"limit": "ten"}, f"limit must be an integer from 0 to {MAX_QUERY_INTEGER}"),
        ({"after": "-1"}, f"after must be an integer from 0 to {MAX_QUERY_INTEGER}"),
        ({"after": "ITEM-3"}, f"after must be an integer from 0 to {MAX_QUERY_INTEGER}"),
        ({"after": "2.0"}, f"after must be an integer from 0 to {MAX_QUERY_INTEGER}"),
        (
            {"date_from": "2026-03-01"},
            "date_from: expected YYYY-MM-DDThh:mm:ss[.fff][Z] in UTC; "
            "time zone offsets are not allowed",
        ),
        (
            {"date_to": "2026-03-01T00:00:00+01:00"},
            "date_to: expected YYYY-MM-DDThh:mm:ss[.fff][Z] in UTC; "
            "time zone offsets are not allowed",
        ),
        (
            {"date_from": "2026-03-01T00:00:00Z", "date_to": "2026-03-01T00:00:00Z"},
            "date_to must be later than date_from",
        ),
        (
            {"date_from": "2026-03-02T00:00:00Z", "date_to": "2026-03-01T00:00:00Z"},
            "date_to must be later than date_from",
        ),
    ],
)
def test_bad_parameters_are_2001(
    partner_client: APIClient, query: dict[str, str], message: str
) -> None:
    response = partner_client.get(URL, query)

    assert response.status_code == 200
    assert response.json() == {
        "status_code": 2001,
        "status_message": message,
        "timestamp": response.json()["timestamp"],
    }


# --- the helpers a module view calls ---------------------------------------------------------


def drf_request(query: dict[str, str] | None = None) -> Request:
    return Request(RequestFactory().get(URL, query or {}))


@pytest.mark.parametrize("count", [1, 3, 10])
def test_a_page_costs_two_queries_whatever_its_size(
    make_items: Callable[[int], list[str]],
    django_assert_num_queries: DjangoAssertNumQueries,
    count: int,
) -> None:
    make_items(count)

    with django_assert_num_queries(2):  # the count and the page
        response = paginated_response(drf_request(), Item.objects.all(), render_items)

    assert len(response.data["data"]) == count


@pytest.mark.parametrize("count", [1, 10])
def test_an_http_page_costs_a_constant_number_of_queries(
    partner_client: APIClient,
    make_items: Callable[[int], list[str]],
    django_assert_num_queries: DjangoAssertNumQueries,
    count: int,
) -> None:
    make_items(count)
    partner_client.get(URL)  # the caller, then kept by the process

    # The credentials generation, the count and the page.
    with django_assert_num_queries(3):
        response = partner_client.get(URL)

    assert len(ids(response)) == count


def test_page_params_read_every_parameter() -> None:
    request = drf_request(
        {
            "offset": "5",
            "limit": "20",
            "date_from": "2026-03-01T00:00:00Z",
            "date_to": "2026-03-02T00:00:00",
        }
    )

    assert page_params(request) == PageParams(
        offset=5,
        limit=20,
        date_from=datetime(2026, 3, 1, tzinfo=UTC),
        date_to=datetime(2026, 3, 2, tzinfo=UTC),
    )


def test_page_params_read_the_cursor() -> None:
    assert page_params(drf_request({"offset": "200", "after": "4711"}), max_limit=25) == PageParams(
        offset=200, limit=25, date_from=None, date_to=None, after=4711
    )


def test_page_params_default_to_the_first_page_of_the_cap() -> None:
    assert page_params(drf_request(), max_limit=25) == PageParams(
        offset=0, limit=25, date_from=None, date_to=None
    )


def test_page_params_treat_empty_values_as_absent() -> None:
    request = drf_request({"offset": "", "limit": "", "date_from": "", "date_to": ""})

    assert page_params(request, max_limit=25) == PageParams(
        offset=0, limit=25, date_from=None, date_to=None
    )


def test_page_params_can_require_date_from() -> None:
    """Sessions Sender GET declares date_from required (mod_sessions.asciidoc)."""
    with pytest.raises(InvalidParameters, match="^date_from is required$"):
        page_params(drf_request(), date_from_required=True)
