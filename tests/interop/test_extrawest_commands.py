"""Commands from the eMSP, end to end: the extrawest-ocpi peer sends START_SESSION,
STOP_SESSION and UNLOCK_CONNECTOR to us (its control API makes it call); simulated OCPP 1.6 and
2.0.1 charge points (Authorize-less remote starts) behind a real gateway act on them; a real
Celery worker runs the calls' follow-ups and pushes. The peer receives the CommandResults at
its response_url, the Session (with the command's token and authorization_reference) and
the CDR. Issue 13, "Tests".
"""

from decimal import Decimal

import pytest

from cdrs.models import Cdr
from push.tasks import resend_due
from sessions.models import Session, SessionStatus
from tests.chargers.central_system import FleetThread
from tests.interop.commands_setup import EVSE_OF, command, result_at_peer, result_url
from tests.interop.helpers import peer_token, stored_if
from tests.interop.peer import ExtrawestPeer
from tests.push.polling import wait_until
from tests.push.worker import CeleryWorker

pytestmark = [pytest.mark.interop, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

APP_UID = "XW-APP-0007"


def test_start_stop_and_unlock_from_the_emsp(
    peer: ExtrawestPeer,
    worker: CeleryWorker,
    charge_point: FleetThread,
    version: str,
) -> None:
    evse_uid = EVSE_OF[version]
    started = command(
        peer,
        "START_SESSION",
        {
            "response_url": result_url(peer, f"start-{version}"),
            "token": peer_token(APP_UID, type="APP_USER", whitelist="ALLOWED"),
            "location_id": "LOC1",
            "evse_uid": evse_uid,
            "authorization_reference": f"XW-AUTH-{version}",
        },
    )
    assert started["status_code"] == 1000
    assert started["data"]["result"] == "ACCEPTED"
    assert result_at_peer(peer, f"start-{version}")["result"] == "ACCEPTED"

    session = wait_until(
        lambda: Session.objects.filter(evse__uid=evse_uid).first(), timeout=30, what="a session"
    )
    assert (session.token_uid, session.auth_method) == (APP_UID, "COMMAND")
    assert session.authorization_reference == f"XW-AUTH-{version}"
    kept = wait_until(
        lambda: stored_if(peer, "sessions", f"BE/BEC/{session.ocpi_id.upper()}", bool),
        beat=resend_due,
        timeout=60,
        what="the Session at the peer",
    )
    assert kept["cdr_token"]["uid"] == APP_UID
    assert kept["authorization_reference"] == f"XW-AUTH-{version}"
    # The peer never asked to authorize the token: the command did.
    assert not [e for e in peer.state()["request_log"] if "/authorize" in e["path"]]

    wait_until(  # some energy before the stop
        lambda: Session.objects.filter(pk=session.pk, kwh__gt=0).exists(),
        timeout=30,
        what="energy metered",
    )
    stopped = command(
        peer,
        "STOP_SESSION",
        {"response_url": result_url(peer, f"stop-{version}"), "session_id": session.ocpi_id},
    )
    assert stopped["data"]["result"] == "ACCEPTED"
    assert result_at_peer(peer, f"stop-{version}")["result"] == "ACCEPTED"
    cdr = wait_until(
        lambda: Cdr.objects.filter(session_id=session.ocpi_id).first(), timeout=30, what="CDR"
    )
    kept_cdr = wait_until(
        lambda: stored_if(peer, "cdrs", cdr.ocpi_id.upper(), bool),
        beat=resend_due,
        timeout=60,
        what="the CDR at the peer",
    )
    assert kept_cdr["cdr_token"]["uid"] == APP_UID
    assert kept_cdr["authorization_reference"] == f"XW-AUTH-{version}"
    assert Decimal(str(kept_cdr["total_energy"])) == cdr.total_energy > 0
    session.refresh_from_db()
    assert session.status == SessionStatus.COMPLETED

    unlocked = command(
        peer,
        "UNLOCK_CONNECTOR",
        {
            "response_url": result_url(peer, f"unlock-{version}"),
            "location_id": "LOC1",
            "evse_uid": evse_uid,
            "connector_id": "1",
        },
    )
    assert unlocked["data"]["result"] == "ACCEPTED"
    assert result_at_peer(peer, f"unlock-{version}")["result"] == "ACCEPTED"
