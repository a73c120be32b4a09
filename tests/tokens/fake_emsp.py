"""A fake eMSP tokens Sender on loopback (mod_tokens, Sender Interface), written from the spec.

GET `/tokens` serves `tokens` paginated (date_from inclusive, date_to exclusive, offset,
limit capped at `page_size`; Link only when more follows; X-Total-Count, X-Limit), filtered
by the OCPI-to party when the request names one. POST `/tokens/{uid}/authorize` answers with
`authorize` (a function of the request), by default a 1000 AuthorizationInfo of the token
it has, or HTTP 404 + 2004. Every request is kept in `received`.
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.ocpi.loopback import LoopbackServer, Received, Reply, envelope_reply

TOKENS_PATH = "/ocpi/emsp/2.2.1/tokens"


def parse_time(value: str) -> str:
    """DateTimes of the fake compare as text: the tests write them in one shape (…Z)."""
    return value if value.endswith("Z") else value + "Z"


class FakeEmsp:
    def __init__(self, *, page_size: int = 2) -> None:
        self.page_size = page_size
        self.tokens: list[Any] = []
        self.authorize: Callable[[Received], Reply] = self.answer_from_tokens
        self.broken_pages: set[int] = set()  # offsets answered with HTTP 500
        self.filter_by_to_party = True
        self.server = LoopbackServer(self._respond)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def tokens_url(self) -> str:
        return self.server.url + TOKENS_PATH

    def requests(self, method: str) -> list[Received]:
        return [request for request in self.server.received if request.method == method]

    # --- answers ----------------------------------------------------------------------------

    def _respond(self, request: Received) -> Reply:
        path = urlsplit(request.path).path
        if request.method == "GET" and path.rstrip("/") == TOKENS_PATH:
            return self._list(request)
        if request.method == "POST" and path.startswith(TOKENS_PATH + "/"):
            return self.authorize(request)
        return envelope_reply(status_code=2000, status=404)

    def _list(self, request: Received) -> Reply:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        selected = [
            token
            for token in self.tokens
            if not self.filter_by_to_party or _addressed(token, request)
        ]
        if "date_from" in query:
            since = parse_time(query["date_from"])
            selected = [t for t in selected if parse_time(t["last_updated"]) >= since]
        if "date_to" in query:
            until = parse_time(query["date_to"])
            selected = [t for t in selected if parse_time(t["last_updated"]) < until]
        offset = int(query.get("offset", 0))
        if offset in self.broken_pages:
            return Reply(status=500, body=b"upstream failed")
        limit = min(int(query.get("limit", self.page_size)), self.page_size)
        page = selected[offset : offset + limit]
        headers = {"X-Total-Count": str(len(selected)), "X-Limit": str(self.page_size)}
        if offset + limit < len(selected):
            following = {**query, "offset": str(offset + limit), "limit": str(limit)}
            headers["Link"] = f'<{self.tokens_url}?{urlencode(following)}>; rel="next"'
        return envelope_reply(page, headers=headers)

    def answer_from_tokens(self, request: Received) -> Reply:
        """ALLOWED for a valid token it has, BLOCKED for an invalid one, else 404 + 2004."""
        uid, token_type = authorize_target(request)
        for token in self.tokens:
            if token["uid"].upper() == uid.upper() and token["type"] == token_type:
                info = {
                    "allowed": "ALLOWED" if token["valid"] else "BLOCKED",
                    "token": token,
                    "authorization_reference": "AUTH-REF-1",
                }
                return envelope_reply(info)
        return envelope_reply(status_code=2004, status=404)


def authorize_target(request: Received) -> tuple[str, str]:
    """(uid, type) of a POST …/tokens/{uid}/authorize?type=…; type RFID when absent."""
    parts = urlsplit(request.path)
    uid = unquote(parts.path[len(TOKENS_PATH) + 1 :].removesuffix("/authorize"))
    token_type = parse_qs(parts.query).get("type", ["RFID"])[0]
    return uid, token_type


def body_of(request: Received) -> Any:
    return json.loads(request.body) if request.body else None


def _addressed(token: Any, request: Received) -> bool:
    """A platform filters a GET by the OCPI-to party (ocpi-2.2.1.md §4.1); what is not a
    token at all is served to everyone."""
    if not isinstance(token, dict):
        return True
    country = request.headers.get("OCPI-to-country-code")
    party = request.headers.get("OCPI-to-party-id")
    if country is None or party is None:
        return True
    return bool(
        token["country_code"].upper() == country.upper()
        and token["party_id"].upper() == party.upper()
    )


@contextmanager
def running_emsp(**kwargs: Any) -> Iterator[FakeEmsp]:
    emsp = FakeEmsp(**kwargs)
    emsp.server.start()
    try:
        yield emsp
    finally:
        emsp.server.stop()
