"""session_start_authorized: an authorization decision becomes the session's auth data, and
the eMSP's authorization_reference reaches the session and its CDR."""

from datetime import timedelta
from decimal import Decimal

import pytest

from cdrs.models import Cdr
from ocpi.routing import PartyRef
from sessions import services
from sessions.errors import NotAuthorized
from sessions.metering import Reading
from sessions.models import Session
from tests.sessions.conftest import START, connector
from tests.tokens.conftest import cache_token
from tokens.authorization import AuthorizationDecision, LocationReferences, Result, Source

pytestmark = pytest.mark.usefixtures("location")


def decision(source: Source, *, allowed: bool = True, **kwargs: object) -> AuthorizationDecision:
    token = cache_token("TOKEN1")
    return AuthorizationDecision(
        allowed=allowed,
        result=Result.ALLOWED if allowed else Result.BLOCKED,
        source=source,
        reason="test",
        party=PartyRef.of("DE", "TNM"),
        token=token,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_real_time_answer_is_auth_request_and_its_reference_reaches_the_cdr() -> None:
    answer = decision(Source.REALTIME, authorization_reference="REF-7")

    session = services.session_start_authorized(
        connector=connector(), decision=answer, at=START, status="ACTIVE"
    )
    services.session_stop(
        session=session, at=START + timedelta(minutes=30), reading=Reading(kwh=Decimal(5))
    )

    session.refresh_from_db()
    assert (session.auth_method, session.authorization_reference) == ("AUTH_REQUEST", "REF-7")
    assert (session.token_uid, session.contract_id) == ("TOKEN1", answer.token.contract_id)  # type: ignore[union-attr]
    cdr = Cdr.objects.get(charging_session=session)
    assert (cdr.auth_method, cdr.authorization_reference) == ("AUTH_REQUEST", "REF-7")


@pytest.mark.parametrize("source", [Source.CACHE, Source.OFFLINE])
def test_a_decision_without_the_emsp_is_whitelist(source: Source) -> None:
    session = services.session_start_authorized(
        connector=connector(), decision=decision(source), at=START
    )

    assert (session.auth_method, session.authorization_reference) == ("WHITELIST", "")


def test_a_refused_driver_or_another_evse_starts_nothing() -> None:
    with pytest.raises(NotAuthorized, match="not authorized at EVSE 3256"):
        services.session_start_authorized(
            connector=connector(), decision=decision(Source.REALTIME, allowed=False), at=START
        )
    elsewhere = decision(Source.REALTIME, location=LocationReferences("LOC1", ("OTHER-EVSE",)))
    with pytest.raises(NotAuthorized, match="not authorized at EVSE 3256"):
        services.session_start_authorized(connector=connector(), decision=elsewhere, at=START)

    assert not Session.objects.exists()


def test_an_authorization_without_a_token_bills_no_one() -> None:
    anonymous = AuthorizationDecision(
        allowed=True, result=Result.ALLOWED, source=Source.REALTIME, reason="test"
    )

    with pytest.raises(NotAuthorized, match="no token"):
        services.session_start_authorized(connector=connector(), decision=anonymous, at=START)
    assert not Session.objects.exists()
