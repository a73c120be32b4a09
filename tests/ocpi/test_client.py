"""The one outbound client (ocpi/client.py) against real HTTP servers on loopback.

Every call carries the token header, a new X-Request-ID, the current X-Correlation-ID and,
when given, the routing headers; it never follows redirects and turns every way a call can fail
into OcpiTransportError or OcpiUnauthorized.
"""

import json
import logging
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from pytest_django import Settings

from ocpi.client import (
    OcpiClient,
    OcpiTransportError,
    OcpiUnauthorized,
    join_url,
)
from ocpi.routing import PartyRef, RoutingHeaders
from tests.ocpi.loopback import LoopbackServer, Received, Reply, Responder, envelope_reply

Start = Callable[[Responder], LoopbackServer]


def ok(request: Received) -> Reply:
    return envelope_reply({"echo": request.path})


def is_uuid(value: str | None) -> bool:
    return value is not None and str(uuid.UUID(value)) == value


def test_a_get_sends_the_base64_token_and_trace_headers(loopback: Start) -> None:
    server = loopback(ok)

    OcpiClient("example-token").get(f"{server.url}/ocpi/versions")

    [received] = server.received
    assert (received.method, received.path, received.body) == ("GET", "/ocpi/versions", b"")
    assert received.headers["Authorization"] == "Token ZXhhbXBsZS10b2tlbg=="
    assert received.headers["Accept"] == "application/json"
    assert received.headers["User-Agent"] == "ocpi-platform/2.2.1"
    assert received.headers["Content-Type"] is None
    assert is_uuid(received.headers["X-Request-ID"])
    assert is_uuid(received.headers["X-Correlation-ID"])


def test_a_plain_token_partner_gets_the_raw_token(loopback: Start) -> None:
    server = loopback(ok)

    OcpiClient("example-token", plain_token=True).get(f"{server.url}/ocpi/versions")

    assert server.received[0].headers["Authorization"] == "Token example-token"


def test_each_call_has_a_new_request_id(loopback: Start) -> None:
    server = loopback(ok)
    client = OcpiClient("t")

    client.get(server.url)
    client.get(server.url)

    first, second = (r.headers["X-Request-ID"] for r in server.received)
    assert (is_uuid(first), is_uuid(second)) == (True, True)
    assert first != second


def test_calls_carry_the_current_correlation_id(loopback: Start, correlation_id: str) -> None:
    server = loopback(ok)
    client = OcpiClient("t")

    client.get(server.url)
    client.request("PUT", server.url, json={})

    assert [r.headers["X-Correlation-ID"] for r in server.received] == [correlation_id] * 2


def test_routing_headers_are_sent_when_given(loopback: Start) -> None:
    server = loopback(ok)
    routing = RoutingHeaders(from_party=PartyRef("NL", "TNM"), to_party=PartyRef("DE", "EMS"))

    OcpiClient("t").get(f"{server.url}/ocpi/emsp/2.2.1/tokens", routing=routing)

    headers = server.received[0].headers
    assert [headers[name] for name in routing.as_headers()] == ["NL", "TNM", "DE", "EMS"]


def test_no_routing_headers_unless_given(loopback: Start) -> None:
    server = loopback(ok)

    OcpiClient("t").get(server.url)

    assert [name for name in server.received[0].headers if name.lower().startswith("ocpi-")] == []


def test_a_body_is_json_with_exact_decimals(loopback: Start) -> None:
    server = loopback(ok)

    OcpiClient("t").request(
        "PUT",
        f"{server.url}/ocpi/emsp/2.2.1/sessions/NL/TNM/S1",
        json={"kwh": Decimal("12.375"), "total": Decimal("0.1") + Decimal("0.2"), "n": "é"},
    )

    [received] = server.received
    assert received.method == "PUT"
    assert received.headers["Content-Type"] == "application/json"
    assert received.body == '{"kwh":12.375,"total":0.3,"n":"é"}'.encode()


def test_query_parameters_are_encoded(loopback: Start) -> None:
    server = loopback(ok)

    OcpiClient("t").get(
        f"{server.url}/cdrs", params={"date_from": "2026-03-01T00:00:00Z", "limit": 10}
    )

    assert server.received[0].path == "/cdrs?date_from=2026-03-01T00%3A00%3A00Z&limit=10"


def test_the_reply_exposes_the_envelope_with_decimals(loopback: Start) -> None:
    body = (
        b'{"data":{"kwh":0.3},"status_code":1000,"status_message":"fine",'
        b'"timestamp":"2026-03-01T12:00:00Z"}'
    )
    server = loopback(
        lambda r: Reply(200, body, {"Content-Type": "application/json", "X-Total-Count": "1"})
    )

    reply = OcpiClient("t").get(server.url)

    assert (reply.http_status, reply.status_code, reply.status_message, reply.ok) == (
        200,
        1000,
        "fine",
        True,
    )
    assert reply.data == {"kwh": Decimal("0.3")}
    assert reply.headers["x-total-count"] == "1"
    assert reply.duration >= 0


@pytest.mark.parametrize(
    ("status", "status_code", "ok_"),
    [(200, 2001, False), (200, 1900, True), (500, 3000, False), (404, 2000, False)],
)
def test_ocpi_errors_in_an_envelope_are_replies_not_exceptions(
    loopback: Start, status: int, status_code: int, ok_: bool
) -> None:
    server = loopback(lambda r: envelope_reply(None, status_code=status_code, status=status))

    reply = OcpiClient("t").get(server.url)

    assert (reply.http_status, reply.status_code, reply.ok) == (status, status_code, ok_)


def test_an_envelope_without_data_is_fine(loopback: Start) -> None:
    server = loopback(
        lambda r: Reply(200, b'{"status_code":1000,"timestamp":"2026-03-01T12:00:00Z"}')
    )

    reply = OcpiClient("t").request("PATCH", server.url, json={"status": "ACTIVE"})

    assert (reply.status_code, reply.data) == (1000, None)


def test_a_timestamp_with_an_offset_is_logged_not_refused(
    loopback: Start, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"status_code":1000,"timestamp":"2026-03-01T12:00:00+01:00"}'
    server = loopback(lambda r: Reply(200, body))

    with caplog.at_level(logging.WARNING, logger="ocpi.client"):
        reply = OcpiClient("t").get(server.url)

    assert reply.status_code == 1000
    assert [r.getMessage() for r in caplog.records if r.name == "ocpi.client"] == [
        f"OCPI GET {server.url}: envelope timestamp '2026-03-01T12:00:00+01:00' is not UTC"
    ]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_not_followed(loopback: Start, status: int) -> None:
    target = loopback(ok)
    server = loopback(lambda r: Reply(status, b"", {"Location": f"{target.url}/elsewhere"}))

    with pytest.raises(OcpiTransportError) as caught:
        OcpiClient("t").request("POST", f"{server.url}/ocpi/2.2.1/credentials", json={"a": 1})

    assert caught.value.http_status == status
    assert str(caught.value) == (
        f"POST {server.url}/ocpi/2.2.1/credentials: HTTP {status} redirect, not followed"
    )
    assert (len(server.received), target.received) == (1, [])


def test_a_slow_partner_times_out(loopback: Start) -> None:
    def stall(request: Received) -> Reply:
        server.release.wait(timeout=30)  # until the test is over
        return envelope_reply()

    server = loopback(stall)

    with pytest.raises(OcpiTransportError, match="Read timed out"):
        OcpiClient("t", timeout=(2, 0.2)).get(server.url)


def test_a_refused_connection_is_a_transport_error(loopback: Start) -> None:
    server = loopback(ok)
    url = server.url
    server.stop()

    with pytest.raises(OcpiTransportError, match=f"^GET {url}/ocpi/versions failed: "):
        OcpiClient("t").get(f"{url}/ocpi/versions")


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_unauthorized(loopback: Start, status: int) -> None:
    server = loopback(lambda r: envelope_reply(None, status_code=2000, status=status))

    with pytest.raises(OcpiUnauthorized) as caught:
        OcpiClient("t").get(server.url)

    assert caught.value.http_status == status
    assert str(caught.value) == f"GET {server.url}: HTTP {status}, token refused"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            Reply(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"}),
            "body is not JSON",
        ),
        (Reply(200, b'{"status_code": 1000'), "body is not JSON"),
        (Reply(200, b"\xff\xfe{}"), "body is not JSON"),
        # A partner's JSON nested deeper than the parser recurses (issue 10, finding 3).
        (Reply(200, b"[" * 100_000 + b"]" * 100_000), "body is not JSON"),
        (Reply(200, b""), "not an OCPI envelope"),
        (Reply(200, b"[1, 2]"), "not an OCPI envelope"),
        (Reply(200, b'{"data": []}'), "not an OCPI envelope"),
        (Reply(200, b'{"status_code": "1000"}'), "not an OCPI envelope"),
        (Reply(200, b'{"detail": "Not found."}'), "not an OCPI envelope"),
    ],
)
def test_answers_that_are_not_the_envelope_are_transport_errors(
    loopback: Start, reply: Reply, reason: str
) -> None:
    server = loopback(lambda r: reply)

    with pytest.raises(OcpiTransportError) as caught:
        OcpiClient("t").get(server.url)

    assert caught.value.http_status == reply.status
    assert str(caught.value).startswith(f"GET {server.url}: HTTP {reply.status}, {reason}: ")


def test_private_urls_are_refused_without_a_call(loopback: Start, settings: Settings) -> None:
    server = loopback(ok)
    settings.OCPI_ALLOW_PRIVATE_URLS = False

    with pytest.raises(OcpiTransportError) as caught:
        OcpiClient("t").get(f"{server.url}/ocpi/versions")

    assert str(caught.value) == (
        f"refusing to call {server.url}/ocpi/versions: "
        "127.0.0.1 resolves to 127.0.0.1, a private or reserved address"
    )
    assert server.received == []


def test_a_malformed_url_is_a_transport_error() -> None:
    with pytest.raises(OcpiTransportError) as caught:
        OcpiClient("t").get("http://127.0.0.1:99999/ocpi/versions")

    assert str(caught.value) == (
        "refusing to call http://127.0.0.1:99999/ocpi/versions: "
        "malformed URL: Port out of range 0-65535"
    )


def test_timeouts_default_to_the_settings(settings: Settings, loopback: Start) -> None:
    settings.OCPI_HTTP_CONNECT_TIMEOUT = 2
    settings.OCPI_HTTP_READ_TIMEOUT = 0.2

    def stall(request: Received) -> Reply:
        server.release.wait(timeout=30)
        return envelope_reply()

    server = loopback(stall)

    with pytest.raises(OcpiTransportError, match="Read timed out"):
        OcpiClient("t").get(server.url)


@pytest.mark.parametrize(
    ("base", "segments", "url"),
    [
        (
            "https://emsp.example.com/ocpi/tokens",
            ("NL", "TNM", "T1"),
            "https://emsp.example.com/ocpi/tokens/NL/TNM/T1",
        ),
        (
            "https://emsp.example.com/ocpi/tokens/",
            ("T1", "authorize"),
            "https://emsp.example.com/ocpi/tokens/T1/authorize",
        ),
        (
            "https://emsp.example.com/ocpi/commands",
            ("/START_SESSION/",),
            "https://emsp.example.com/ocpi/commands/START_SESSION",
        ),
        ("https://emsp.example.com/ocpi/versions", (), "https://emsp.example.com/ocpi/versions"),
        ("https://emsp.example.com/ocpi/versions/", (), "https://emsp.example.com/ocpi/versions"),
    ],
)
def test_join_url_puts_exactly_one_slash_between_parts(
    base: str, segments: tuple[str, ...], url: str
) -> None:
    assert join_url(base, *segments) == url


def test_the_reply_body_excerpt_is_kept_for_logs(loopback: Start) -> None:
    body = json.dumps({"status_code": 1000, "timestamp": "2026-03-01T12:00:00Z", "data": "x" * 600})
    server = loopback(lambda r: Reply(200, body.encode()))

    reply = OcpiClient("t").get(server.url)

    assert reply.body_excerpt == body[:500]
