"""The client's pager (transport_and_format.asciidoc, Pagination, client side).

Follow `Link: <…>; rel="next"` until it is absent; when X-Total-Count drops between pages,
objects before our offset have gone and the rest moved forward: read again so none is missed.
"""

from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from ocpi.client import OcpiClient, OcpiClientError
from tests.ocpi.loopback import LoopbackServer, Received, Reply, Responder, envelope_reply

Start = Callable[[Responder], LoopbackServer]


class PagedSender:
    """A partner's Sender list GET over `ids`, paged as the spec says, with a cap of `cap`.

    `drop_after_first_page` is deleted from the data set once the first page has been served,
    as if the partner removed an object while we crawl.
    """

    def __init__(
        self,
        ids: list[str],
        *,
        cap: int = 3,
        relative_links: bool = False,
        drop_after_first_page: str | None = None,
    ) -> None:
        self.ids = list(ids)
        self.cap = cap
        self.relative_links = relative_links
        self.drop_after_first_page = drop_after_first_page
        self.base = ""
        self.served = 0

    def __call__(self, request: Received) -> Reply:
        parts = urlsplit(request.path)
        query = dict(parse_qsl(parts.query))
        offset = int(query.get("offset", 0))
        limit = min(int(query.get("limit", self.cap)), self.cap)
        page = self.ids[offset : offset + limit]
        headers = {"X-Total-Count": str(len(self.ids)), "X-Limit": str(self.cap)}
        if page and offset + len(page) < len(self.ids):
            following = urlencode({**query, "offset": offset + len(page), "limit": limit})
            base = "" if self.relative_links else self.base
            headers["Link"] = f'<{base}{parts.path}?{following}>; rel="next"'
        self.served += 1
        if self.served == 1 and self.drop_after_first_page:
            self.ids.remove(self.drop_after_first_page)
        return envelope_reply(page, headers=headers)


def start_sender(loopback: Start, sender: PagedSender) -> LoopbackServer:
    server = loopback(sender)
    sender.base = server.url
    return server


def offsets(server: LoopbackServer) -> list[int]:
    return [int(dict(parse_qsl(urlsplit(r.path).query)).get("offset", 0)) for r in server.received]


IDS = [str(n) for n in range(1, 11)]


def test_pages_are_followed_until_there_is_no_link(loopback: Start) -> None:
    server = start_sender(loopback, PagedSender(IDS))

    pages = list(OcpiClient("t").iter_pages(f"{server.url}/ocpi/cpo/2.2.1/locations"))

    assert pages == [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"], ["10"]]
    assert offsets(server) == [0, 3, 6, 9]


def test_a_single_page_is_one_request(loopback: Start) -> None:
    server = start_sender(loopback, PagedSender(["1", "2"]))

    pages = list(OcpiClient("t").iter_pages(server.url))

    assert (pages, len(server.received)) == ([["1", "2"]], 1)


def test_an_empty_list_is_one_empty_page(loopback: Start) -> None:
    server = start_sender(loopback, PagedSender([]))

    assert list(OcpiClient("t").iter_pages(server.url)) == [[]]


def test_the_first_request_carries_the_filters_and_the_links_keep_them(loopback: Start) -> None:
    server = start_sender(loopback, PagedSender(IDS[:5]))

    list(
        OcpiClient("t").iter_pages(
            f"{server.url}/cdrs", params={"date_from": "2026-03-01T00:00:00Z", "limit": 3}
        )
    )

    assert [r.path for r in server.received] == [
        "/cdrs?date_from=2026-03-01T00%3A00%3A00Z&limit=3",
        "/cdrs?date_from=2026-03-01T00%3A00%3A00Z&limit=3&offset=3",
    ]


def test_relative_links_are_resolved_against_the_page_url(loopback: Start) -> None:
    server = start_sender(loopback, PagedSender(IDS[:4], relative_links=True))

    pages = list(OcpiClient("t").iter_pages(f"{server.url}/tariffs"))

    assert pages == [["1", "2", "3"], ["4"]]


def test_a_shrinking_total_is_read_again_so_nothing_is_skipped(loopback: Start) -> None:
    server = start_sender(loopback, PagedSender(IDS, drop_after_first_page="2"))

    pages = list(OcpiClient("t").iter_pages(f"{server.url}/locations"))

    seen = [item for page in pages for item in page]
    assert set(IDS) - {"2"} <= set(seen)
    # Page two at offset 3 came back with total 9: read again one position earlier.
    assert offsets(server) == [0, 3, 2, 5, 8]
    assert pages == [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"], ["10"]]


def test_without_the_reread_an_object_would_have_been_missed(loopback: Start) -> None:
    """The same partner, crawled naively by following links: object 4 is never seen."""
    sender = PagedSender(IDS, drop_after_first_page="2")
    server = start_sender(loopback, sender)
    client = OcpiClient("t")

    first = client.get(f"{server.url}/locations")
    second = client.get(first.headers["Link"][1 : first.headers["Link"].index(">")])

    assert first.data + second.data == ["1", "2", "3", "5", "6", "7"]


@pytest.mark.parametrize(
    "link",
    [
        "<{url}?offset=1&limit=1>; rel=next",
        '<{url}?offset=1&limit=1>;rel="next"',
        '<{url}?offset=1&limit=1>; REL="NEXT"',
        '<{url}?offset=0&limit=1>; rel="prev", <{url}?offset=1&limit=1>; rel="next"',
    ],
)
def test_link_headers_are_read_leniently(loopback: Start, link: str) -> None:
    def two_pages(request: Received) -> Reply:
        query = dict(parse_qsl(urlsplit(request.path).query))
        if query.get("offset") == "1":
            return envelope_reply(["b"], headers={"X-Total-Count": "2"})
        return envelope_reply(
            ["a"], headers={"X-Total-Count": "2", "Link": link.format(url=server.url + "/x")}
        )

    server = loopback(two_pages)

    assert list(OcpiClient("t").iter_pages(f"{server.url}/x")) == [["a"], ["b"]]


def test_a_page_with_an_ocpi_error_stops_the_crawl(loopback: Start) -> None:
    def failing_second_page(request: Received) -> Reply:
        if "offset=1" in request.path:
            return envelope_reply(None, status_code=3000)
        return envelope_reply(
            ["a"], headers={"Link": f'<{server.url}/x?offset=1&limit=1>; rel="next"'}
        )

    server = loopback(failing_second_page)
    pages = OcpiClient("t").iter_pages(f"{server.url}/x")

    assert next(pages) == ["a"]
    with pytest.raises(OcpiClientError) as caught:
        next(pages)
    assert str(caught.value) == f"GET {server.url}/x?offset=1&limit=1: HTTP 200, OCPI 3000"
    assert caught.value.http_status == 200


def test_a_crawl_stops_after_max_pages(loopback: Start) -> None:
    server = start_sender(loopback, PagedSender(IDS))
    pages = OcpiClient("t").iter_pages(f"{server.url}/x", max_pages=2)

    assert [next(pages), next(pages)] == [["1", "2", "3"], ["4", "5", "6"]]
    with pytest.raises(OcpiClientError, match="more than 2 pages, stopped$"):
        next(pages)


def test_a_link_to_another_host_is_not_followed_with_our_token(loopback: Start) -> None:
    server = loopback(
        lambda request: envelope_reply(
            ["a"], headers={"Link": '<http://127.0.0.2:9/x?offset=1>; rel="next"'}
        )
    )
    pages = OcpiClient("t").iter_pages(f"{server.url}/x")

    assert next(pages) == ["a"]
    with pytest.raises(OcpiClientError, match="Link leads to another host: 127.0.0.2$"):
        next(pages)
    assert len(server.received) == 1
