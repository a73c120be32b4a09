"""Authorization of a driver's token: the cache, real time at the eMSP, the whitelist rules and
the offline fallback (mod_tokens, Real-time authorization, WhitelistType, POST Method), against
a fake eMSP on loopback."""

import time
from typing import Any

import pytest
from pytest_django import DjangoAssertNumQueries

from credentials.models import LocalParty, PartnerPlatform
from ocpi.routing import PartyRef
from tests.ocpi.loopback import Received, Reply, envelope_reply
from tests.tokens.conftest import cache_token, make_partner, token_payload
from tests.tokens.fake_emsp import FakeEmsp, authorize_target, body_of
from tokens.authorization import AuthorizationDecision, LocationReferences, Result, Source
from tokens.models import Token
from tokens.services import authorize

pytestmark = pytest.mark.django_db

DE_TNM = PartyRef("DE", "TNM")
BE_BEC = PartyRef("BE", "BEC")
HERE = LocationReferences("LOC1", ("LOC1-E1", "LOC1-E2"))


def info(allowed: str = "ALLOWED", **fields: Any) -> dict[str, Any]:
    return {
        "allowed": allowed,
        "token": token_payload(last_updated="2026-03-01T12:00:00Z"),
        "authorization_reference": "REF-0001",
        **fields,
    }


def answer(data: Any = None, **kwargs: Any) -> Any:
    def respond(request: Received) -> Reply:
        return envelope_reply(data, **kwargs)

    return respond


def outcome(decision: AuthorizationDecision) -> tuple[bool, Result, Source]:
    return decision.allowed, decision.result, decision.source


def asked(emsp: FakeEmsp) -> int:
    return len(emsp.requests("POST"))


@pytest.fixture(autouse=True)
def _short_timeout(settings: Any) -> None:
    settings.TOKENS_AUTHORIZE_TIMEOUT = 1.0


# --- whitelist rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("whitelist", "valid", "expected"),
    [
        ("ALWAYS", True, (True, Result.ALLOWED, Source.CACHE)),
        ("ALWAYS", False, (False, Result.BLOCKED, Source.CACHE)),
        ("ALLOWED", True, (True, Result.ALLOWED, Source.CACHE)),
    ],
)
def test_the_cache_decides_without_asking(
    emsp: FakeEmsp,
    emsp_partner: PartnerPlatform,
    whitelist: str,
    valid: bool,
    expected: tuple[bool, Result, Source],
) -> None:
    token = cache_token(whitelist=whitelist, valid=valid)

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == expected
    assert (decision.token, decision.party, decision.authorization_reference) == (
        token,
        DE_TNM,
        None,
    )
    assert asked(emsp) == 0


@pytest.mark.parametrize(
    ("whitelist", "valid"),
    [("ALLOWED", False), ("ALLOWED_OFFLINE", True), ("ALLOWED_OFFLINE", False), ("NEVER", True)],
)
def test_these_ask_the_emsp_whatever_the_cache_says(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, whitelist: str, valid: bool
) -> None:
    cache_token(whitelist=whitelist, valid=valid)
    emsp.authorize = answer(info("BLOCKED"))

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == (False, Result.BLOCKED, Source.REALTIME)
    assert asked(emsp) == 1


@pytest.mark.parametrize(
    ("whitelist", "valid", "expected"),
    [
        ("ALLOWED_OFFLINE", True, (True, Result.ALLOWED, Source.OFFLINE)),
        ("ALLOWED_OFFLINE", False, (False, Result.NO_ANSWER, Source.OFFLINE)),
        ("ALLOWED", False, (False, Result.NO_ANSWER, Source.OFFLINE)),
        ("NEVER", True, (False, Result.NO_ANSWER, Source.OFFLINE)),
    ],
)
def test_an_unreachable_emsp_falls_back_on_the_whitelist(
    emsp: FakeEmsp,
    emsp_partner: PartnerPlatform,
    whitelist: str,
    valid: bool,
    expected: tuple[bool, Result, Source],
) -> None:
    cache_token(whitelist=whitelist, valid=valid)
    emsp.server.stop()

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == expected
    assert decision.reason.startswith("eMSP gave no answer (POST http://")


def test_a_slow_emsp_times_out_within_the_budget_then_falls_back(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, settings: Any
) -> None:
    settings.TOKENS_AUTHORIZE_TIMEOUT = 0.4
    cache_token(whitelist="ALLOWED_OFFLINE")

    def never_in_time(request: Received) -> Reply:
        emsp.server.release.wait(timeout=10)  # set when the server stops, after the test
        return envelope_reply(info())

    emsp.authorize = never_in_time
    started = time.monotonic()

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    elapsed = time.monotonic() - started
    assert outcome(decision) == (True, Result.ALLOWED, Source.OFFLINE)
    assert "Read timed out" in decision.reason
    # The read share of the budget (0.3 s), plus our own few milliseconds.
    assert 0.3 <= elapsed < 0.6


@pytest.mark.parametrize(
    "reply",
    [
        answer(status=500, status_code=3000),
        answer(status_code=3000),
        answer(status_code=4002),
        answer(info("ALLOWED", token={"uid": "missing everything"})),
    ],
    ids=["http-500", "ocpi-3000", "hub-4002-timeout", "invalid-authorization-info"],
)
def test_no_usable_answer_falls_back_on_the_whitelist(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, reply: Any
) -> None:
    cache_token(whitelist="ALLOWED_OFFLINE")
    emsp.authorize = reply

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == (True, Result.ALLOWED, Source.OFFLINE)


# --- the eMSP's answers ---------------------------------------------------------------------


@pytest.mark.parametrize("allowed", ["BLOCKED", "EXPIRED", "NO_CREDIT", "NOT_ALLOWED"])
def test_refusals_arrive_as_200_with_authorization_info(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, allowed: str
) -> None:
    cache_token(whitelist="NEVER")
    emsp.authorize = answer(info(allowed))

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == (False, Result(allowed), Source.REALTIME)
    assert decision.reason == f"eMSP answered {allowed}"
    assert decision.authorization_reference == "REF-0001"


def test_an_allowed_answer_carries_the_reference_and_refreshes_the_cache(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache_token(whitelist="NEVER", visual_number="OLD")
    emsp.authorize = answer(
        info(
            location={"location_id": "LOC1", "evse_uids": ["LOC1-E2"]},
            info={"language": "en", "text": "Enjoy"},
        )
    )

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == (True, Result.ALLOWED, Source.REALTIME)
    assert decision.authorization_reference == "REF-0001"
    assert decision.info == {"language": "en", "text": "Enjoy"}
    assert decision.location == LocationReferences("LOC1", ("LOC1-E2",))
    assert (decision.allows_evse("loc1-e2"), decision.allows_evse("LOC1-E1")) == (True, False)
    token = Token.objects.get()
    assert decision.token == token
    assert (token.visual_number, token.whitelist) == ("DF000-2001-8999-1", "ALLOWED")
    assert decision.duration is not None


def test_an_answer_that_changes_nothing_costs_two_queries(
    emsp: FakeEmsp,
    emsp_partner: PartnerPlatform,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    cache_token(whitelist="NEVER")
    emsp.authorize = answer(info(token=token_payload(whitelist="NEVER")))

    # The cached token with its eMSP's tokens Sender (one statement), our default party:
    # no write.
    with django_assert_num_queries(2):
        decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == (True, Result.ALLOWED, Source.REALTIME)


def test_with_the_charge_points_party_two_queries_are_enough(
    emsp: FakeEmsp,
    emsp_partner: PartnerPlatform,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    cache_token("04A2B3C4D5", whitelist="NEVER")
    emsp.authorize = answer(info(token=token_payload("04A2B3C4D5", whitelist="NEVER")))

    # An RFID tap: the uid alone finds the token, then its eMSP's tokens Sender.
    with django_assert_num_queries(2):
        decision = authorize(party=None, uid="04a2b3c4d5", location=HERE, cpo=BE_BEC)

    assert outcome(decision) == (True, Result.ALLOWED, Source.REALTIME)


def test_the_request_follows_the_spec(emsp: FakeEmsp, emsp_partner: PartnerPlatform) -> None:
    cache_token(whitelist="NEVER")
    emsp.authorize = answer(info())

    authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    (request,) = emsp.requests("POST")
    assert request.path == "/ocpi/emsp/2.2.1/tokens/TOKEN1/authorize?type=RFID"
    assert body_of(request) == {"location_id": "LOC1", "evse_uids": ["LOC1-E1", "LOC1-E2"]}
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == "Token b3V0LWVtc3AtYS10b2tlbg=="
    headers = ("OCPI-from-country-code", "OCPI-from-party-id")
    assert [request.headers[name] for name in headers] == ["BE", "BEC"]
    headers = ("OCPI-to-country-code", "OCPI-to-party-id")
    assert [request.headers[name] for name in headers] == ["DE", "TNM"]


def test_without_a_location_the_post_has_no_body(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache_token(whitelist="NEVER", type="APP_USER")
    emsp.authorize = answer(info(token=token_payload(type="APP_USER")))

    decision = authorize(party=DE_TNM, uid="TOKEN1", token_type="APP_USER")

    (request,) = emsp.requests("POST")
    assert authorize_target(request) == ("TOKEN1", "APP_USER")
    assert (request.body, request.headers.get("Content-Type")) == (b"", None)
    assert decision.allowed is True


@pytest.mark.parametrize(
    "reply",
    [
        answer(status=404, status_code=2004),
        answer(status_code=2004),
        lambda request: Reply(status=404, body=b'{"detail":"Object not found."}'),
    ],
    ids=["http-404-ocpi-2004", "ocpi-2004", "http-404-without-envelope"],
)
def test_unknown_at_the_emsp_is_refused(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform, reply: Any
) -> None:
    cache_token(whitelist="ALLOWED_OFFLINE")
    emsp.authorize = reply

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == (False, Result.UNKNOWN_TOKEN, Source.REALTIME)


def test_not_enough_information_is_refused(emsp: FakeEmsp, emsp_partner: PartnerPlatform) -> None:
    cache_token(whitelist="NEVER")
    emsp.authorize = answer(status_code=2002)

    decision = authorize(party=DE_TNM, uid="TOKEN1")

    assert outcome(decision) == (False, Result.NOT_ENOUGH_INFORMATION, Source.REALTIME)
    assert asked(emsp) == 1


def test_another_client_error_is_refused(emsp: FakeEmsp, emsp_partner: PartnerPlatform) -> None:
    cache_token(whitelist="ALLOWED_OFFLINE")
    emsp.authorize = answer(status_code=2001)

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == (False, Result.REJECTED, Source.REALTIME)


def test_allowed_at_another_location_is_not_allowed_here(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache_token(whitelist="NEVER")
    emsp.authorize = answer(info(location={"location_id": "LOC2"}))

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == (False, Result.NOT_ALLOWED, Source.REALTIME)
    assert decision.allows_evse("LOC1-E1") is False


def test_allowed_for_none_of_the_evses_asked_is_not_allowed(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache_token(whitelist="NEVER")
    emsp.authorize = answer(info(location={"location_id": "LOC1", "evse_uids": ["LOC1-E9"]}))

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == (False, Result.NOT_ALLOWED, Source.REALTIME)


def test_an_answer_wrapped_in_a_list_is_read(emsp: FakeEmsp, emsp_partner: PartnerPlatform) -> None:
    cache_token(whitelist="NEVER")
    emsp.authorize = answer([info()])

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == (True, Result.ALLOWED, Source.REALTIME)


def test_an_answer_about_another_token_does_not_touch_the_cache(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    token = cache_token(whitelist="NEVER")
    emsp.authorize = answer(info(token=token_payload("SOMEONE-ELSE")))

    decision = authorize(party=DE_TNM, uid="TOKEN1", location=HERE)

    assert outcome(decision) == (True, Result.ALLOWED, Source.REALTIME)
    assert list(Token.objects.values_list("uid", "whitelist")) == [("TOKEN1", "NEVER")]
    assert decision.token == token


# --- which eMSP to ask ----------------------------------------------------------------------


def test_an_uncached_token_of_a_known_party_is_asked_and_cached(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    emsp.tokens = [token_payload("APP-1", type="APP_USER", whitelist="NEVER")]

    decision = authorize(party=PartyRef("de", "tnm"), uid="app-1", token_type="APP_USER")

    assert outcome(decision) == (True, Result.ALLOWED, Source.REALTIME)
    assert decision.authorization_reference == "AUTH-REF-1"
    assert list(Token.objects.values_list("uid", "type", "whitelist")) == [
        ("APP-1", "APP_USER", "NEVER")
    ]
    assert decision.token == Token.objects.get()


def test_an_uncached_token_unknown_to_its_emsp_is_refused(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    decision = authorize(party=DE_TNM, uid="NOBODY")

    assert outcome(decision) == (False, Result.UNKNOWN_TOKEN, Source.REALTIME)
    assert Token.objects.count() == 0


def test_an_unknown_rfid_without_a_party_asks_nobody(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    decision = authorize(party=None, uid="NOBODY", location=HERE)

    assert outcome(decision) == (False, Result.UNKNOWN_TOKEN, Source.NONE)
    assert decision.reason == "RFID NOBODY is not a cached token and no eMSP is named to ask"
    assert asked(emsp) == 0


def test_a_cached_rfid_without_a_party_is_found_by_its_uid(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache_token("04A2B3C4D5", whitelist="NEVER")
    emsp.authorize = answer(info(token=token_payload("04A2B3C4D5")))

    decision = authorize(party=None, uid="04a2b3c4d5", location=HERE)

    assert outcome(decision) == (True, Result.ALLOWED, Source.REALTIME)
    assert decision.party == DE_TNM
    assert authorize_target(emsp.requests("POST")[0]) == ("04A2B3C4D5", "RFID")


def test_a_uid_of_several_emsps_without_a_party_is_refused(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    cache_token("SHARED", whitelist="ALWAYS")
    cache_token("SHARED", party_id="BBB", whitelist="ALWAYS")

    decision = authorize(party=None, uid="SHARED")

    assert outcome(decision) == (False, Result.UNKNOWN_TOKEN, Source.NONE)
    assert decision.reason == "RFID SHARED is a token of several eMSPs; the eMSP must be named"


def test_a_party_on_no_connected_platform_cannot_be_asked(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    decision = authorize(party=PartyRef("FR", "XYZ"), uid="TOKEN1")

    assert outcome(decision) == (False, Result.NO_ANSWER, Source.NONE)
    assert decision.reason == (
        "eMSP gave no answer (no registered platform serves tokens of FR*XYZ); "
        "whitelist none (not cached) does not allow charging offline"
    )


def test_a_cached_allowed_offline_token_of_a_platform_without_a_sender_falls_back(
    our_party: Any,
) -> None:
    make_partner("NoSender", "tok", ("DE", "TNM"))
    cache_token(whitelist="ALLOWED_OFFLINE")

    decision = authorize(party=DE_TNM, uid="TOKEN1")

    assert outcome(decision) == (True, Result.ALLOWED, Source.OFFLINE)


def test_our_charge_points_party_is_the_sender(
    emsp: FakeEmsp, emsp_partner: PartnerPlatform
) -> None:
    LocalParty.objects.create(country_code="NL", party_id="CPX", role="CPO", business_name="X")
    cache_token(whitelist="NEVER")
    emsp.authorize = answer(info())

    authorize(party=DE_TNM, uid="TOKEN1", cpo=PartyRef("NL", "CPX"))

    (request,) = emsp.requests("POST")
    headers = ("OCPI-from-country-code", "OCPI-from-party-id")
    assert [request.headers[name] for name in headers] == ["NL", "CPX"]
