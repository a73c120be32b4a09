"""Commands from the eMSP, end to end: the extrawest-ocpi peer sends START_SESSION,
STOP_SESSION and UNLOCK_CONNECTOR to us (its control API makes it call); simulated OCPP 1.6 and
2.0.1 charge points (Authorize-less remote starts) behind a real gateway act on them; a real
Celery worker runs the calls' follow-ups and pushes. The peer receives the CommandResults at
its response_url, the Session (with the command's token and authorization_reference) and
the CDR. Issue 13, "Tests".
"""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from cdrs.models import Cdr
from chargers.models import ChargePoint
from chargers.provisioning import charge_point_provision
from chargers.simulator.scenarios import Behaviour
from chargers.simulator.station import EvseSpec, Options, StationSpec
from credentials.models import PartnerPlatform
from push.tasks import resend_due
from sessions.models import Session, SessionStatus
from tests.chargers.central_system import FleetThread
from tests.chargers.gatewayrunner import RunningGateway
from tests.examples import example, tariff_example, upsert_location, upsert_tariff
from tests.interop.helpers import peer_token, stored_if
from tests.interop.peer import ExtrawestPeer
from tests.push.polling import wait_until
from tests.push.worker import CeleryWorker

pytestmark = [pytest.mark.interop, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

EVSE_OF = {"1.6": "3256", "2.0.1": "3257"}
APP_UID = "XW-APP-0007"
REMOTE = Options(
    behaviour=Behaviour(authorize_remote_start=False), meter_interval=0.3, duration=120.0
)


@pytest.fixture
def estate(partner: PartnerPlatform) -> None:
    """LOC1 (EVSEs 3256 and 3257, both free) priced by tariff 11."""
    upsert_tariff(tariff_example("tariff_10_025kwh_parking_start.json", id="11"))
    location = example("locations", "location_example.json")
    for evse in location["evses"]:
        evse["status"] = "AVAILABLE"
        for connector in evse["connectors"]:
            connector["tariff_ids"] = ["11"]
    upsert_location(location)


@pytest.fixture
def gateway() -> Iterator[RunningGateway]:
    with RunningGateway("interop-gateway") as running:
        yield running


@pytest.fixture(params=["1.6", "2.0.1"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def charge_point(estate: None, gateway: RunningGateway, version: str) -> Iterator[FleetThread]:
    """One simulated charge point of `version` on its EVSE of LOC1, connected and accepted."""
    identity = f"XW-CMD-{version}"
    provisioned = charge_point_provision(
        identity=identity, evse_refs=[f"LOC1/{EVSE_OF[version]}"], ocpp_version=version
    )
    spec = StationSpec(identity, gateway.url(identity), provisioned.password, (EvseSpec(1),))
    fleet = FleetThread([spec], version, REMOTE).start()
    try:
        wait_until(
            lambda: ChargePoint.objects.filter(identity=identity).exclude(gateway="").exists(),
            timeout=30,
            what="the charge point online",
        )
        yield fleet
    finally:
        fleet.stop()


def command(peer: ExtrawestPeer, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """The peer POSTs the command to our commands endpoint; our answer's body."""
    answer = peer.call("POST", module="commands", role="RECEIVER", path=name, json=body)
    assert answer["status_code"] == 200, answer
    return dict(answer["body"])


def result_url(peer: ExtrawestPeer, uid: str) -> str:
    return f"{peer.base_url}/ocpi/emsp/2.2.1/commands/{uid}"


def result_at_peer(peer: ExtrawestPeer, uid: str) -> dict[str, Any]:
    return wait_until(
        lambda: stored_if(peer, "commands", uid, bool),
        beat=resend_due,
        timeout=60,
        what=f"the CommandResult {uid} at the peer",
    )


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
