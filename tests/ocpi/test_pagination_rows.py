"""A list compiled once per process (ocpi.pagination.paginated_rows) pages exactly as
paginated_response() does: same objects, same headers, dates and cursor honoured."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_django import Settings
from rest_framework.test import APIClient

from tests.ocpi.testapp import views
from tests.ocpi.testapp.models import Item

pytestmark = [pytest.mark.urls("tests.ocpi.testapp.urls"), pytest.mark.django_db]

BASE = "https://cpo.example.com"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
LINK = re.compile(r"<(?P<url>[^>]+)>;\s*rel=\"next\"")


@pytest.fixture(autouse=True)
def _public_base_url(settings: Settings) -> None:
    settings.OCPI_BASE_URL = BASE


@pytest.fixture
def items(db: None) -> Callable[[int], None]:
    """Items ITEM-0… created in that order, each an hour older than the one before."""

    def make(count: int) -> None:
        for n in range(count):
            Item.objects.create(ocpi_id=f"ITEM-{n}", last_updated=T0 + timedelta(hours=-n))

    return make


def following(response: Any) -> str:
    """The path of the response's next page."""
    match = LINK.search(response["Link"])
    assert match is not None
    return match["url"].removeprefix(BASE)


def pull(client: APIClient, url: str) -> list[tuple[list[dict[str, Any]], dict[str, str | None]]]:
    """Every page following Link: (objects, headers without the Link's own path)."""
    pages = []
    path: str | None = url
    while path is not None:
        response = client.get(path)
        assert response.status_code == 200
        link = response.get("Link")
        headers = {
            "X-Total-Count": response.get("X-Total-Count"),
            "X-Limit": response.get("X-Limit"),
            "Link": None if link is None else re.sub(r"test(items|rows)", "LIST", link),
        }
        pages.append((response.json()["data"], headers))
        match = LINK.search(link or "")
        path = match["url"].removeprefix(BASE) if match else None
    return pages


@pytest.mark.parametrize(
    "query",
    [
        "limit=2",
        "limit=3&date_from=2026-02-28T20:00:00Z",
        "limit=2&date_to=2026-02-28T23:00:00Z",
        "limit=2&offset=1",
    ],
)
def test_the_pages_are_those_of_paginated_response(
    partner_client: APIClient, items: Callable[[int], None], query: str
) -> None:
    items(7)

    compiled = pull(partner_client, f"/ocpi/cpo/2.2.1/testrows?{query}")

    assert compiled == pull(partner_client, f"/ocpi/cpo/2.2.1/testitems?{query}")
    assert len(compiled) > 1


def test_the_list_is_built_once_for_every_page_after_the_first(
    partner_client: APIClient, items: Callable[[int], None]
) -> None:
    items(9)
    views.built.clear()

    # A shape of its own (limit 2, date_from only): compiled lists are kept per process,
    # across tests.
    pages = pull(partner_client, "/ocpi/cpo/2.2.1/testrows?limit=2&date_from=2026-02-27T00:00:00Z")

    # The first page (an offset) builds it; the first cursor page builds and compiles it.
    assert (len(pages), len(views.built)) == (5, 2)


def test_a_row_has_its_columns_converted_as_the_orm_would(
    partner_client: APIClient, items: Callable[[int], None]
) -> None:
    items(3)
    first = partner_client.get("/ocpi/cpo/2.2.1/testrows?limit=1")
    second = partner_client.get(following(first))

    assert second.json()["data"] == [{"id": "ITEM-1", "last_updated": "2026-02-28T23:00:00Z"}]


def test_an_object_added_behind_the_cursor_is_found_by_the_next_page(
    partner_client: APIClient, items: Callable[[int], None]
) -> None:
    items(2)
    first = partner_client.get("/ocpi/cpo/2.2.1/testrows?limit=1")
    Item.objects.create(ocpi_id="LATE", last_updated=T0)

    second = partner_client.get(following(first))
    third = partner_client.get(following(second))

    assert [o["id"] for r in (first, second, third) for o in r.json()["data"]] == [
        "ITEM-0",
        "ITEM-1",
        "LATE",
    ]
    assert third["X-Total-Count"] == "3"


def test_two_scopes_of_one_shape_share_the_compiled_list_never_its_values(
    partner_client: APIClient, items: Callable[[int], None]
) -> None:
    items(8)
    views.built.clear()

    evens = pull(partner_client, "/ocpi/cpo/2.2.1/testchosen?limit=1&only=ITEM-0,ITEM-2,ITEM-4")
    odds = pull(partner_client, "/ocpi/cpo/2.2.1/testchosen?limit=1&only=ITEM-1,ITEM-3,ITEM-5")

    assert [o["id"] for page, _ in evens for o in page] == ["ITEM-0", "ITEM-2", "ITEM-4"]
    assert [o["id"] for page, _ in odds for o in page] == ["ITEM-1", "ITEM-3", "ITEM-5"]
    assert [headers["X-Total-Count"] for _, headers in odds] == ["3", "3", "3"]
