"""Sessions with extrawest-ocpi as the eMSP: pushed by a real Celery worker, and pulled.

We register with the peer (our platform on live_server), start a `celery worker` process on
the test database, and run a session of a token of the peer's party DE*XWE through our
services. The worker pushes the Session PUT and the PATCHes; the peer checks them with its
own pydantic models (py_ocpi's Session, SessionPartialUpdate, CdrToken, ChargingPeriod) and
stores them. We check what it received and stored; then the peer pulls our Sender list with
the token we gave it. mod_sessions.asciidoc, eMSP and CPO interfaces. What we tolerate from
the peer: extrawest_peer/README.md, "Sessions".
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from credentials.models import PartnerPlatform
from locations.models import Connector
from ocpi.time import format_datetime, now
from push.models import Change, Delivery, DeliveryStatus
from push.tasks import resend_due
from sessions import services
from sessions.metering import Reading
from sessions.models import Session
from sessions.serializers import render_session
from tests.examples import example, tariff_example, upsert_location, upsert_tariff
from tests.interop.helpers import Entry, as_received, stored_if
from tests.interop.peer import ExtrawestPeer
from tests.push.polling import wait_until
from tests.push.worker import CeleryWorker

pytestmark = [pytest.mark.interop, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

SESSIONS_PATH = "/ocpi/emsp/2.2.1/sessions/BE/BEC"
MINUTE = timedelta(minutes=1)
PEER_TOKEN = {
    "country_code": "DE",
    "party_id": "XWE",
    "uid": "XW-RFID-0001",
    "type": "RFID",
    "contract_id": "DE-XWE-C00000001",
}


# --- the parties and processes ---------------------------------------------------------------


@pytest.fixture
def connector(partner: PartnerPlatform) -> Connector:
    """Connector 1 of EVSE 3256 at LOC1, priced by tariff 11 (tariff_10: FLAT, ENERGY, parking)."""
    upsert_tariff(tariff_example("tariff_10_025kwh_parking_start.json", id="11"))
    upsert_location(example("locations", "location_example.json"))
    return Connector.objects.get(evse__uid="3256", ocpi_id="1")


# --- reading the peer --------------------------------------------------------------------


def session_requests(peer: ExtrawestPeer, session: Session) -> list[Entry]:
    path = f"{SESSIONS_PATH}/{session.ocpi_id}"
    return [e for e in peer.state()["request_log"] if e["path"] == path]


def stored_completed(peer: ExtrawestPeer, session: Session) -> Entry | None:
    key = f"BE/BEC/{session.ocpi_id.upper()}"
    return stored_if(peer, "sessions", key, lambda kept: kept["status"] == "COMPLETED")


def all_delivered() -> bool:
    """Every session push delivered (the CDR that follows is tests/interop's cdrs business)."""
    pushes = Delivery.objects.filter(change__module="sessions")
    return pushes.exists() and not pushes.exclude(status=DeliveryStatus.DELIVERED).exists()


def charge(connector: Connector) -> Session:
    """A session of the peer's token: 20 minutes ago, two readings, stopped 5 minutes later."""
    begin = now().replace(microsecond=0) - 20 * MINUTE
    session = services.session_start(
        connector=connector,
        token=PEER_TOKEN,
        auth_method="AUTH_REQUEST",
        authorization_reference="XW-AUTH-1",
        at=begin,
        status="ACTIVE",
    )
    for minutes, kwh in ((5, "1.8"), (10, "3.7")):
        session = services.session_meter(
            session=session,
            at=begin + minutes * MINUTE,
            reading=Reading(kwh=Decimal(kwh), max_power=Decimal(22)),
        )
    return services.session_stop(
        session=session, at=begin + 15 * MINUTE, reading=Reading(kwh=Decimal("4.6"))
    )


# --- the tests ---------------------------------------------------------------------------------


def test_our_session_put_and_patches_pass_the_peer_s_validation_and_are_stored(
    peer: ExtrawestPeer, connector: Connector, worker: CeleryWorker
) -> None:
    session = charge(connector)

    # beat's resend_due stands in for Celery beat: on a busy machine a wake-up can come late.
    kept = wait_until(
        lambda: stored_completed(peer, session),
        beat=resend_due,
        timeout=30,
        what="the completed session stored by the peer",
    )
    wait_until(all_delivered, beat=resend_due, timeout=30, what="every session push delivered")

    requests = session_requests(peer, session)
    path = f"{SESSIONS_PATH}/{session.ocpi_id}"
    assert [
        (e["method"], e["path"], e["response_status"], e["response_body"]["status_code"])
        for e in requests
    ] == [("PUT", path, 200, 1000)] + [("PATCH", path, 200, 1000)] * 3
    sent = [c.payload for c in Change.objects.filter(module="sessions").order_by("pk")]
    assert [e["body"] for e in requests] == as_received(sent)
    patches = [e["body"] for e in requests[1:]]
    assert requests[0]["headers"]["ocpi-to-party-id"] == "XWE"
    # Each PATCH carries only its new period; together they are the session's periods.
    assert [len(p["charging_periods"]) for p in patches] == [1, 1, 1]
    ours = as_received(render_session(session))
    assert [p["charging_periods"][0] for p in patches] == ours["charging_periods"]

    assert (kept["id"], kept["status"], kept["kwh"]) == (session.ocpi_id.upper(), "COMPLETED", 4.6)
    assert kept["cdr_token"] == {**PEER_TOKEN, "uid": "XW-RFID-0001"}
    assert kept["total_cost"] == ours["total_cost"] == {"excl_vat": 1.65, "incl_vat": 1.865}
    assert (kept["start_date_time"], kept["end_date_time"]) == (
        ours["start_date_time"],
        ours["end_date_time"],
    )
    assert (kept["location_id"], kept["evse_uid"], kept["connector_id"]) == ("LOC1", "3256", "1")
    assert kept["authorization_reference"] == "XW-AUTH-1"
    # py_ocpi replaces the stored list with a PATCH's charging_periods where the spec appends
    # them (README, Sessions): the peer keeps the last period only.
    assert kept["charging_periods"] == [ours["charging_periods"][-1]]


def test_the_peer_pulls_our_sessions_with_every_period(
    peer: ExtrawestPeer, connector: Connector
) -> None:
    session = charge(connector)
    since = format_datetime(session.start_date_time - MINUTE)

    answer = peer.call("GET", module="sessions", params={"date_from": since})
    without_date = peer.call("GET", module="sessions")

    assert (answer["status_code"], answer["body"]["status_code"]) == (200, 1000)
    assert answer["body"]["data"] == [as_received(render_session(session))]
    assert len(answer["body"]["data"][0]["charging_periods"]) == 3
    assert answer["headers"]["x-total-count"] == "1"
    assert (without_date["status_code"], without_date["body"]["status_code"]) == (200, 2001)
