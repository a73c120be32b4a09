"""Charging profiles with the extrawest eMSP, end to end: a simulated OCPP 1.6 charge point on
a real gateway charges the peer's card behind a grid limit; the peer PUTs, GETs and DELETEs a
charging profile on the session, the charge point takes each, and the results arrive at the
peer's response_url; when the operator lowers the grid limit, the peer, which set a profile,
is PUT the session's ActiveChargingProfile (which its library's model refuses: README). A real
Celery worker runs the follow-ups, the plans and the pushes. Issue 13, "Tests": charging
profile PUT/GET/DELETE with the results at the response_url.
"""

import copy
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from chargers.provisioning import charge_point_provision
from chargers.simulator.station import EvseSpec, Options, StationSpec
from chargingprofiles.models import GridLimit
from chargingprofiles.tasks import replan_site
from credentials.models import PartnerPlatform
from push.models import Delivery, DeliveryStatus
from push.tasks import resend_due
from sessions.models import Session, SessionStatus
from tests.chargers.central_system import FleetThread
from tests.chargers.gatewayrunner import RunningGateway
from tests.examples import example, tariff_example, upsert_location, upsert_tariff
from tests.interop.helpers import Entry, peer_token, stored
from tests.interop.peer import ExtrawestPeer
from tests.push.polling import wait_until
from tests.push.worker import CeleryWorker

pytestmark = [pytest.mark.interop, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

CARD = "XW-RFID-0077"
IDENTITY = "XW-LM-1"


@pytest.fixture
def site(partner: PartnerPlatform, peer: ExtrawestPeer, settings: Any) -> GridLimit:
    """LOC1's EVSE 3256 (230 V, 16 A, 3 phases), capable of profiles, behind 8 kW; the peer's
    card in our cache."""
    settings.OCPP_CALL_POLL_SECONDS = 0.1  # the gateway, in this process
    upsert_tariff(tariff_example("tariff_10_025kwh_parking_start.json", id="11"))
    location = copy.deepcopy(example("locations", "location_example.json"))
    for evse in location["evses"]:
        evse.update(status="AVAILABLE", capabilities=["RESERVABLE", "CHARGING_PROFILE_CAPABLE"])
        for connector in evse["connectors"]:
            connector.update(max_voltage=230, max_amperage=16, tariff_ids=["11"])
    stored_location = upsert_location(location)
    peer.seed_tokens([peer_token(CARD)])
    call_command("ocpi_pull", "extrawest", "tokens", "--full")
    return GridLimit.objects.create(name="LOC1", location=stored_location, max_kw=Decimal(8))


@pytest.fixture
def charging(site: GridLimit, worker: CeleryWorker) -> Iterator[Session]:
    with RunningGateway("xw-lm-gateway") as gateway:
        provisioned = charge_point_provision(
            identity=IDENTITY, evse_refs=["LOC1/3256"], ocpp_version="1.6"
        )
        spec = StationSpec(IDENTITY, gateway.url(IDENTITY), provisioned.password, (EvseSpec(1),))
        fleet = FleetThread([spec], "1.6", Options(meter_interval=0.3, duration=120)).start()
        try:
            station = fleet.fleet.stations[0]
            wait_until(lambda: station.accepted.is_set(), what="the charge point up")
            assert fleet.call(lambda: station.tap(CARD)) is not None
            yield wait_until(
                lambda: Session.objects.filter(status=SessionStatus.ACTIVE).first(),
                timeout=30,
                what="the session",
            )
        finally:
            fleet.stop()


def profile_url(ours: str, session: Session) -> str:
    return f"{ours}/ocpi/cpo/2.2.1/chargingprofiles/{session.ocpi_id}"


def active_profile_put(peer: ExtrawestPeer, session: Session) -> Entry | None:
    path = f"/ocpi/emsp/2.2.1/chargingprofiles/{session.ocpi_id}"
    puts = [e for e in peer.state()["request_log"] if e["method"] == "PUT" and e["path"] == path]
    return puts[-1] if puts else None


def result(peer: ExtrawestPeer, number: int) -> Entry:
    return wait_until(
        lambda: stored(peer, "chargingprofiles", f"result-{number}"),
        beat=resend_due,
        timeout=30,
        what=f"result {number} at the peer",
    )


def test_profile_put_get_and_delete_with_results_at_the_peer(
    peer: ExtrawestPeer, ours: str, charging: Session
) -> None:
    session = charging
    response_url = peer.endpoint_url("chargingprofiles")
    put = peer.call(
        "PUT",
        url=profile_url(ours, session),
        json={
            "charging_profile": {
                "charging_rate_unit": "W",
                "charging_profile_period": [{"start_period": 0, "limit": 6000}],
            },
            "response_url": response_url,
        },
    )
    set_result = result(peer, 1)
    get = peer.call(
        "GET",
        url=profile_url(ours, session),
        params={"duration": 900, "response_url": response_url},
    )
    active_result = result(peer, 2)
    # The operator lowers the site's limit: the session's schedule changes, and the peer,
    # which set a profile on it, is told.
    GridLimit.objects.update(max_kw=Decimal(4))
    replan_site.delay(GridLimit.objects.get().pk)
    pushed = wait_until(
        lambda: active_profile_put(peer, session),
        beat=resend_due,
        timeout=30,
        what="the ActiveChargingProfile PUT at the peer",
    )
    delete = peer.call(
        "DELETE", url=profile_url(ours, session), params={"response_url": response_url}
    )
    clear_result = result(peer, 3)

    for answer in (put, get, delete):
        assert answer["status_code"] == 200
        assert answer["body"]["status_code"] == 1000
        assert answer["body"]["data"]["result"] == "ACCEPTED"
    assert set_result["data"]["result"] == "ACCEPTED"
    assert active_result["data"]["result"] == "ACCEPTED"
    periods = active_result["data"]["profile"]["charging_profile"]["charging_profile_period"]
    assert periods[0]["start_period"] == 0
    assert float(periods[0]["limit"]) == 6000.0
    assert clear_result["data"]["result"] == "ACCEPTED"
    # The peer's profile (W) capped by the site's 4 kW, as the spec's ActiveChargingProfile;
    # the peer's own model of it is not the spec's and refuses it (README, Charging profiles).
    assert pushed["body"]["charging_profile"] == {
        "charging_rate_unit": "W",
        "charging_profile_period": [{"start_period": 0, "limit": 4000.0}],
    }
    assert pushed["response_status"] == 422
    [refused] = Delivery.objects.filter(change__module="chargingprofiles", change__method="PUT")
    assert (refused.status, refused.last_http_status) == (DeliveryStatus.FAILED, 422)
