"""Authorize (OCPP 1.6 and 2.0.1) → tokens.services.authorize(): the cache, real time at a fake
eMSP, the one table of statuses and the one of idToken types; the decision and the eMSP's
authorization_reference reused by the transaction that follows (no second question)."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chargers.authorization import (
    ID_TOKEN_TYPE_PAIRS,
    STATUSES,
    ocpi_token_type,
    ocpp_id_token_type,
    status_of,
)
from chargers.models import AuthorizationRecord, ChargePoint, ChargerTransaction
from sessions.models import Session
from tests.chargers.transactions_setup import (
    MINUTE,
    START,
    TOKEN_UID,
    call,
    cdr_of,
    charge_point,
    emsp,
    estate,
    session_of,
    stamp,
    token,
)
from tests.ocpi.loopback import Received, Reply, envelope_reply
from tests.tokens.conftest import token_payload
from tests.tokens.fake_emsp import FakeEmsp, body_of, running_emsp
from tokens.authorization import AuthorizationDecision, LocationReferences, Result, Source

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)
EXPIRY = stamp(START + timedelta(seconds=900))


@pytest.fixture
def fake_emsp() -> Iterator[FakeEmsp]:
    with running_emsp() as running:
        yield running


@pytest.fixture
def setup(settings: Any) -> None:
    settings.TOKENS_AUTHORIZE_TIMEOUT = 1.0
    settings.OCPP_AUTHORIZATION_REUSE_SECONDS = 900
    estate()


def authorize_16(point: ChargePoint, id_tag: str = TOKEN_UID, at: Any = START) -> Any:
    return call(point, "Authorize", {"idTag": id_tag}, at)


def start_16(point: ChargePoint, connector: int = 1, at: Any = START + MINUTE) -> Any:
    payload = {
        "connectorId": connector,
        "idTag": TOKEN_UID,
        "meterStart": 0,
        "timestamp": stamp(at),
    }
    return call(point, "StartTransaction", payload, at + SECOND)


def asked(fake: FakeEmsp) -> list[Received]:
    return fake.requests("POST")


# --- the tables -----------------------------------------------------------------------------


@pytest.mark.parametrize("result", list(Result))
def test_every_result_has_a_status_in_each_version(result: Result) -> None:
    decision = AuthorizationDecision(result == Result.ALLOWED, result, Source.CACHE, "test")

    assert (status_of(decision, "1.6"), status_of(decision, "2.0.1")) == STATUSES[result]


def test_a_decision_for_other_evses_is_not_accepted_at_this_one() -> None:
    here = LocationReferences("LOC1", ("3257",))
    decision = AuthorizationDecision(True, Result.ALLOWED, Source.REALTIME, "t", location=here)

    assert status_of(decision, "2.0.1", "3257") == "Accepted"
    assert status_of(decision, "2.0.1", "3256") == "NotAtThisLocation"
    assert status_of(decision, "1.6", "3256") == "Blocked"


def test_id_token_types_map_both_ways() -> None:
    assert {ocpp: ocpi_token_type(ocpp) for ocpp, _ in ID_TOKEN_TYPE_PAIRS} == {
        "ISO14443": "RFID",
        "ISO15693": "RFID",
        "Central": "APP_USER",
        "eMAID": "OTHER",
        "KeyCode": "OTHER",
        "Local": "OTHER",
        "MacAddress": "OTHER",
    }
    assert (ocpi_token_type(""), ocpi_token_type("NoAuthorization")) == ("RFID", None)
    assert [ocpp_id_token_type(t) for t in ("RFID", "APP_USER", "AD_HOC_USER", "OTHER")] == [
        "ISO14443",
        "Central",
        "Central",
        "eMAID",
    ]


# --- from the cache -----------------------------------------------------------------------------


@pytest.mark.usefixtures("setup")
def test_a_cached_token_is_accepted_and_the_decision_recorded() -> None:
    token()
    point = charge_point("CP16", "1.6")

    answer = authorize_16(point)

    assert answer == {
        "idTagInfo": {"status": "Accepted", "expiryDate": EXPIRY, "parentIdTag": "DF000-2001-8999"}
    }
    record = AuthorizationRecord.objects.get()
    assert (record.id_token, record.allowed, record.source, record.decided_at) == (
        TOKEN_UID,
        True,
        "CACHE",
        START,
    )


@pytest.mark.usefixtures("setup")
def test_an_unknown_token_is_invalid_in_1_6_and_unknown_in_2_0_1() -> None:
    old, new = charge_point("CP16", "1.6"), charge_point("CP201", "2.0.1", mapped=False)
    unknown = {"idToken": {"idToken": "NOBODY", "type": "ISO14443"}}

    assert authorize_16(old, "NOBODY") == {"idTagInfo": {"status": "Invalid"}}
    assert call(new, "Authorize", unknown, START) == {"idTokenInfo": {"status": "Unknown"}}


@pytest.mark.usefixtures("setup")
def test_2_0_1_answers_the_token_s_group_language_and_cache_expiry() -> None:
    token()
    point = charge_point("CP201", "2.0.1")
    payload = {"idToken": {"idToken": TOKEN_UID, "type": "ISO14443"}}

    answer = call(point, "Authorize", payload, START)

    assert answer == {
        "idTokenInfo": {
            "status": "Accepted",
            "cacheExpiryDateTime": EXPIRY,
            "groupIdToken": {"idToken": "DF000-2001-8999", "type": "Central"},
            "language1": "it",
        }
    }


@pytest.mark.usefixtures("setup")
def test_no_authorization_is_accepted_and_bills_nobody() -> None:
    point = charge_point("CP201", "2.0.1")
    free = {"idToken": "", "type": "NoAuthorization"}
    started = {
        "eventType": "Started",
        "timestamp": stamp(START),
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "FREE", "chargingState": "Charging"},
        "idToken": free,
        "evse": {"id": 1},
    }

    assert call(point, "Authorize", {"idToken": free}, START)["idTokenInfo"]["status"] == "Accepted"
    answer = call(point, "TransactionEvent", started, START + SECOND)

    assert answer["idTokenInfo"]["status"] == "Accepted"
    assert ChargerTransaction.objects.get().session is None
    assert not Session.objects.exists()


# --- in real time -------------------------------------------------------------------------------


def realtime(fake: FakeEmsp, **answer: Any) -> None:
    """The token is cached with whitelist NEVER: every decision is the eMSP's."""
    emsp(tokens_url=fake.tokens_url)
    token(whitelist="NEVER")
    info = {
        "allowed": "ALLOWED",
        "token": token_payload(TOKEN_UID, whitelist="NEVER"),
        "authorization_reference": "AUTH-REF-7",
        **answer,
    }

    def respond(request: Received) -> Reply:
        return envelope_reply(info)

    fake.authorize = respond


@pytest.mark.usefixtures("setup")
def test_the_emsp_is_asked_once_and_its_reference_reaches_session_and_cdr(
    fake_emsp: FakeEmsp,
) -> None:
    realtime(fake_emsp)
    point = charge_point("CP16", "1.6")

    authorized = authorize_16(point)
    started = start_16(point)
    stop = {
        "transactionId": started["transactionId"],
        "meterStop": 2_000,
        "timestamp": stamp(START + 9 * MINUTE),
    }
    call(point, "StopTransaction", stop, START + 10 * MINUTE)

    [request] = asked(fake_emsp)
    assert body_of(request) == {"location_id": "LOC1", "evse_uids": ["3256", "3257"]}
    assert authorized["idTagInfo"]["status"] == started["idTagInfo"]["status"] == "Accepted"
    session = session_of(ChargerTransaction.objects.get())
    assert (session.auth_method, session.authorization_reference) == ("AUTH_REQUEST", "AUTH-REF-7")
    assert cdr_of(session).authorization_reference == "AUTH-REF-7"


@pytest.mark.usefixtures("setup")
def test_an_old_decision_is_not_reused(fake_emsp: FakeEmsp) -> None:
    realtime(fake_emsp)
    point = charge_point("CP16", "1.6")

    authorize_16(point)
    start_16(point, at=START + 15 * MINUTE + SECOND)

    assert len(asked(fake_emsp)) == 2


@pytest.mark.usefixtures("setup")
def test_an_emsp_that_allows_one_evse_is_told_to_the_charge_point(fake_emsp: FakeEmsp) -> None:
    realtime(fake_emsp, location={"location_id": "LOC1", "evse_uids": ["3257"]})
    old = charge_point("CP16", "1.6")

    elsewhere = start_16(old, connector=1)
    there = start_16(old, connector=2, at=START + 2 * MINUTE)

    assert (elsewhere["idTagInfo"]["status"], there["idTagInfo"]["status"]) == (
        "Blocked",
        "Accepted",
    )
    assert [s.evse.uid for s in Session.objects.all()] == ["3257"]  # type: ignore[union-attr]
    assert len(asked(fake_emsp)) == 1


@pytest.mark.usefixtures("setup")
def test_2_0_1_says_which_evses_the_token_may_use(fake_emsp: FakeEmsp) -> None:
    realtime(fake_emsp, location={"location_id": "LOC1", "evse_uids": ["3257"]})
    point = charge_point("CP201", "2.0.1")
    payload = {"idToken": {"idToken": TOKEN_UID, "type": "ISO14443"}}

    answer = call(point, "Authorize", payload, START)

    assert answer["idTokenInfo"]["evseId"] == [2]


@pytest.mark.usefixtures("setup")
def test_an_emsp_that_refuses_is_answered_and_nothing_is_billed(fake_emsp: FakeEmsp) -> None:
    realtime(fake_emsp, allowed="NO_CREDIT")
    point = charge_point("CP201", "2.0.1")
    started = {
        "eventType": "Started",
        "timestamp": stamp(START),
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "T1"},
        "idToken": {"idToken": TOKEN_UID, "type": "ISO14443"},
        "evse": {"id": 1},
    }

    answer = call(point, "TransactionEvent", started, START + SECOND)

    assert answer["idTokenInfo"]["status"] == "NoCredit"
    assert ChargerTransaction.objects.get().authorization_status == "NoCredit"
    assert not Session.objects.exists()
