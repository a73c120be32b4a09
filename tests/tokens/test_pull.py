"""Pulling tokens from an eMSP's Sender interface (mod_tokens, Pull model; Pagination), against
a fake eMSP on loopback: pages, Link, invalid objects, foreign parties, full and delta pulls,
routing headers, failures and the pull log."""

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from credentials.models import PartnerEndpoint, PartnerPlatform
from ocpi.time import format_datetime, now, parse_datetime
from tests.ocpi.loopback import Received
from tests.tokens.conftest import cache_token, make_partner, token_payload
from tests.tokens.fake_emsp import FakeEmsp
from tokens.models import PullStatus, Token, TokenPull
from tokens.pull import PullAlreadyRunning, token_pull

pytestmark = pytest.mark.django_db

T1 = "2026-03-01T12:00:00Z"


def tokens(count: int, *, party: str = "TNM", country: str = "DE", **fields: Any) -> list[Any]:
    return [
        token_payload(f"{party}-{n}", country_code=country, party_id=party, **fields)
        for n in range(count)
    ]


def cached() -> list[tuple[str, str, str, bool]]:
    return list(Token.objects.order_by("pk").values_list("party_id", "uid", "whitelist", "valid"))


def query(request: Received) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.path).query)


def routing(request: Received) -> tuple[str | None, ...]:
    names = ("OCPI-from-country-code", "OCPI-from-party-id", "OCPI-to-country-code")
    return (*(request.headers.get(name) for name in names), request.headers.get("OCPI-to-party-id"))


def test_a_full_pull_follows_link_to_the_last_page(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    emsp.tokens = tokens(5)

    pull = token_pull(partner=emsp_partner, full=True)

    assert pull.status == PullStatus.SUCCEEDED
    assert pull.counts() == {
        "received": 5,
        "created": 5,
        "updated": 0,
        "unchanged": 0,
        "invalid": 0,
        "ignored": 0,
        "invalidated": 0,
        "held": 0,
    }
    assert cached() == [("TNM", f"TNM-{n}", "ALLOWED", True) for n in range(5)]
    # DE*TNM's crawl: three pages; NL*TNM's: one empty page.
    gets = emsp.requests("GET")
    assert [query(request).get("offset") for request in gets] == [None, ["2"], ["4"], None]
    assert all("date_from" not in query(request) for request in gets)
    assert pull.full is True
    assert pull.date_from is None
    assert pull.error == ""
    assert pull.finished_at is not None


def test_each_of_the_partners_emsp_parties_is_pulled_from_our_party(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    emsp.tokens = [*tokens(1, party="TNM", country="DE"), *tokens(1, party="TNM", country="NL")]

    token_pull(partner=emsp_partner, full=True)

    assert [routing(request) for request in emsp.requests("GET")] == [
        ("BE", "BEC", "DE", "TNM"),
        ("BE", "BEC", "NL", "TNM"),
    ]
    assert list(Token.objects.order_by("pk").values_list("country_code", "uid")) == [
        ("DE", "TNM-0"),
        ("NL", "TNM-0"),
    ]
    authorization = emsp.requests("GET")[0].headers["Authorization"]
    assert authorization == "Token b3V0LWVtc3AtYS10b2tlbg=="  # base64("out-emsp-a-token")


def test_invalid_objects_are_skipped_counted_and_logged(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    broken = token_payload("BROKEN")
    del broken["issuer"]
    emsp.tokens = [
        *tokens(2),
        broken,
        token_payload("LONG", group_id="G" * 37),
        "not a token",
        token_payload("LAST"),
    ]

    with caplog.at_level(logging.WARNING, logger="tokens.pull"):
        pull = token_pull(partner=emsp_partner, full=True)

    assert pull.status == PullStatus.SUCCEEDED
    # NL*TNM's crawl reads the object that is not a token too (the fake serves it to all).
    assert (pull.received, pull.created, pull.invalid) == (7, 3, 4)
    assert [uid for _, uid, _, _ in cached()] == ["TNM-0", "TNM-1", "LAST"]
    prefix = f"Token pull {pull.pk} from partner {emsp_partner.pk}: "
    assert [record.getMessage() for record in caplog.records] == [
        prefix + "page 1 object 0 (uid 'BROKEN') skipped: issuer: This field is required.",
        prefix + "page 1 object 1 (uid 'LONG') skipped: "
        "group_id: Ensure this field has no more than 36 characters.",
        prefix + "page 2 object 0 (uid None) skipped: "
        "body: Invalid data. Expected a dictionary, but got str.",
        prefix + "page 0 object 0 (uid None) skipped: "
        "body: Invalid data. Expected a dictionary, but got str.",
    ]


def test_objects_of_other_parties_are_ignored_and_counted(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    emsp.filter_by_to_party = False  # a platform that serves everything it has
    emsp.tokens = [*tokens(1), *tokens(2, party="XXX")]

    pull = token_pull(partner=emsp_partner, full=True)

    # Two crawls (DE*TNM, NL*TNM) each read the three objects.
    assert (pull.received, pull.created, pull.unchanged, pull.ignored) == (6, 1, 1, 4)
    assert cached() == [("TNM", "TNM-0", "ALLOWED", True)]


def test_a_full_pull_is_the_new_truth(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, settings: Any
) -> None:
    settings.TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE = 1  # its one valid token goes: never held
    cache_token("GONE")
    cache_token("ALREADY-INVALID", valid=False)
    other = make_partner("EmspB", "b", ("DE", "BBB"))
    cache_token("OTHERS", party_id="BBB")
    emsp.tokens = tokens(1)

    pull = token_pull(partner=emsp_partner, full=True)

    assert pull.invalidated == 1
    assert cached() == [
        ("TNM", "GONE", "ALLOWED", False),
        ("TNM", "ALREADY-INVALID", "ALLOWED", False),
        ("BBB", "OTHERS", "ALLOWED", True),
        ("TNM", "TNM-0", "ALLOWED", True),
    ]
    gone = Token.objects.get(uid="GONE")
    assert gone.missing_since is not None
    # Kept, with the owner's last_updated: only validity changed.
    assert format_datetime(gone.last_updated) == token_payload()["last_updated"]
    assert other.token_pulls.count() == 0


def test_a_token_that_comes_back_is_no_longer_missing(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, settings: Any
) -> None:
    settings.TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE = 1
    emsp.tokens = tokens(1)
    token_pull(partner=emsp_partner, full=True)
    emsp.tokens = []
    token_pull(partner=emsp_partner, full=True)
    emsp.tokens = tokens(1)

    pull = token_pull(partner=emsp_partner, full=True)

    token = Token.objects.get()
    assert (token.valid, token.missing_since) == (True, None)
    assert (pull.updated, pull.invalidated) == (1, 0)


def test_a_token_put_during_the_crawl_is_not_invalidated(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    emsp.tokens = tokens(1)
    started = now()
    cache_token("PUT-MEANWHILE", last_updated=format_datetime(started + timedelta(seconds=1)))

    token_pull(partner=emsp_partner, full=True)

    assert cached() == [
        ("TNM", "PUT-MEANWHILE", "ALLOWED", True),
        ("TNM", "TNM-0", "ALLOWED", True),
    ]


def test_a_delta_pull_asks_from_the_last_successful_start_less_the_overlap(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, settings: Any
) -> None:
    settings.TOKENS_PULL_OVERLAP_SECONDS = 60
    emsp.tokens = tokens(2)
    first = token_pull(partner=emsp_partner, full=True)
    emsp.server.received.clear()
    changed = token_payload("TNM-1", whitelist="NEVER", last_updated=format_datetime(now()))
    emsp.tokens = [emsp.tokens[0], changed]

    pull = token_pull(partner=emsp_partner)

    expected = format_datetime(first.started_at - timedelta(seconds=60))
    assert [query(request)["date_from"] for request in emsp.requests("GET")] == [[expected]] * 2
    assert (pull.full, pull.date_from) == (False, first.started_at - timedelta(seconds=60))
    assert (pull.received, pull.updated, pull.invalidated) == (1, 1, 0)
    assert cached() == [("TNM", "TNM-0", "ALLOWED", True), ("TNM", "TNM-1", "NEVER", True)]


def test_the_first_pull_of_a_partner_is_full(emsp: FakeEmsp, emsp_partner: PartnerPlatform) -> None:
    pull = token_pull(partner=emsp_partner, full=False)

    assert (pull.full, pull.date_from) == (True, None)


def test_a_failed_crawl_keeps_what_it_read_and_invalidates_nothing(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    emsp.tokens = tokens(3)
    first = token_pull(partner=emsp_partner, full=True)
    cache_token("NOT-RETURNED")
    emsp.tokens = tokens(3, whitelist="NEVER", last_updated=T1)
    emsp.broken_pages = {2}

    failed = token_pull(partner=emsp_partner, full=True)

    assert failed.status == PullStatus.FAILED
    assert failed.error.startswith("DE*TNM: GET ")
    assert "HTTP 500" in failed.error
    assert (failed.received, failed.updated, failed.invalidated) == (2, 2, 0)
    assert cached() == [
        ("TNM", "TNM-0", "NEVER", True),
        ("TNM", "TNM-1", "NEVER", True),
        ("TNM", "TNM-2", "ALLOWED", True),
        ("TNM", "NOT-RETURNED", "ALLOWED", True),
    ]
    # The next delta still starts from the last successful pull.
    emsp.broken_pages = set()
    delta = token_pull(partner=emsp_partner)
    assert delta.date_from == first.started_at - timedelta(seconds=300)


def test_an_older_copy_does_not_overwrite_a_newer_cached_one(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache_token("TNM-0", whitelist="NEVER", last_updated=T1)
    emsp.tokens = tokens(1, last_updated="2026-02-01T00:00:00Z")

    pull = token_pull(partner=emsp_partner, full=True)

    assert (pull.updated, pull.unchanged) == (0, 1)
    assert cached() == [("TNM", "TNM-0", "NEVER", True)]


def test_pulling_twice_changes_nothing_the_second_time(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    emsp.tokens = tokens(3)
    token_pull(partner=emsp_partner, full=True)
    before = list(Token.objects.order_by("pk").values())

    again = token_pull(partner=emsp_partner, full=True)

    assert (again.created, again.updated, again.unchanged, again.invalidated) == (0, 0, 3, 0)
    assert list(Token.objects.order_by("pk").values()) == before


def test_a_partner_without_a_tokens_sender_fails_with_the_reason(
    emsp_partner: PartnerPlatform,
) -> None:
    PartnerEndpoint.objects.filter(partner=emsp_partner).delete()

    pull = token_pull(partner=PartnerPlatform.objects.get(pk=emsp_partner.pk), full=True)

    assert (pull.status, pull.error) == (
        PullStatus.FAILED,
        "The partner has no tokens Sender endpoint",
    )


def test_a_partner_without_an_emsp_party_fails_with_the_reason(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    emsp_partner.roles.update(role="CPO")

    pull = token_pull(partner=emsp_partner, full=True)

    assert (pull.status, pull.error) == (PullStatus.FAILED, "The partner has no eMSP party")
    assert emsp.requests("GET") == []


def test_an_unreachable_partner_fails_every_party(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    emsp.server.stop()

    pull = token_pull(partner=emsp_partner, full=True)

    assert pull.status == PullStatus.FAILED
    assert [line.split(":")[0] for line in pull.error.splitlines()] == ["DE*TNM", "NL*TNM"]


def test_a_second_pull_waits_for_the_running_one(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    running = TokenPull.objects.create(partner=emsp_partner, full=True, started_at=now())

    with pytest.raises(PullAlreadyRunning) as raised:
        token_pull(partner=emsp_partner, full=True)

    assert raised.value.pull == running
    assert emsp.requests("GET") == []


def test_a_pull_left_running_past_the_lease_does_not_block(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    TokenPull.objects.create(
        partner=emsp_partner, full=True, started_at=now() - timedelta(seconds=3601)
    )

    pull = token_pull(partner=emsp_partner, full=True)

    assert pull.status == PullStatus.SUCCEEDED


def test_the_pull_log_reads_newest_first(emsp: FakeEmsp, emsp_partner: PartnerPlatform) -> None:
    first = token_pull(partner=emsp_partner, full=True)
    second = token_pull(partner=emsp_partner)

    assert list(TokenPull.objects.all()) == [second, first]
    assert parse_datetime(format_datetime(second.started_at)) >= first.started_at
