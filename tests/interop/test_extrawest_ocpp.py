"""Charge points to the eMSP, end to end: simulated OCPP 1.6 and 2.0.1 charge points
(chargers.simulator, on the `ocpp` library's client side) connect to a real gateway; the
extrawest-ocpi peer is the eMSP; a real Celery worker pushes.

A driver taps the peer's card → Authorize → real-time authorization at the peer (its whitelist
is NEVER) → the transaction → Session PUT at the peer → meter values → PATCHes → stop → CDR
at the peer, priced by our engine, whose energy is the meter's difference; the EVSE's status
changes reach the peer as PATCHes of its Location. Then the same through an offline period
whose transaction messages are replayed twice and shuffled, and a reboot mid-transaction.
DESIGN.md, "Flow of a charge, end to end"; issue 12, "Tests".
"""

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from cdrs.models import Cdr
from chargers import transaction_tasks
from chargers.models import ChargerTransaction
from chargers.provisioning import charge_point_provision
from chargers.simulator.fleet import Fleet
from chargers.simulator.scenarios import Behaviour
from chargers.simulator.station import EvseSpec, Options, StationSpec
from credentials.models import PartnerPlatform
from push.models import OPEN_STATUSES, Delivery, DeliveryStatus
from push.tasks import resend_due
from sessions.metering import volume
from sessions.models import Session, SessionStatus
from tests.chargers.gatewayrunner import RunningGateway
from tests.examples import example, tariff_example, upsert_location, upsert_tariff
from tests.interop.helpers import Entry, peer_token, stored_if
from tests.interop.peer import ExtrawestPeer
from tests.push.polling import wait_until
from tests.push.worker import CeleryWorker

pytestmark = [pytest.mark.interop, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

LOCATIONS_PATH = "/ocpi/emsp/2.2.1/locations/BE/BEC/LOC1"
CARD = "XW-RFID-0042"
EVSE_OF = {"1.6": "3256", "2.0.1": "3257"}


@pytest.fixture
def estate(partner: PartnerPlatform, peer: ExtrawestPeer) -> None:
    """LOC1 (EVSEs 3256 and 3257) priced by tariff 11, and the peer's card in our cache."""
    upsert_tariff(tariff_example("tariff_10_025kwh_parking_start.json", id="11"))
    location = example("locations", "location_example.json")
    for evse in location["evses"]:  # both free, each connector priced by tariff 11
        evse["status"] = "AVAILABLE"
        for connector in evse["connectors"]:
            connector["tariff_ids"] = ["11"]
    upsert_location(location)
    peer.seed_tokens([peer_token(CARD)])  # whitelist NEVER: asked every time
    call_command("ocpi_pull", "extrawest", "tokens", "--full")


@pytest.fixture
def gateway(settings: Any) -> Iterator[RunningGateway]:
    # Each applied sample PATCHes the session (not every 300 s of the charge point's time,
    # the default): a simulated charge lasts seconds, and its PATCHes are what is followed.
    settings.OCPP_SESSION_PROGRESS_SECONDS = 0
    with RunningGateway("interop-gateway") as running:
        yield running


def charge(
    gateway: RunningGateway, version: str, *, behaviour: Behaviour | None = None
) -> list[str]:
    """One simulated charge point of `version` on its EVSE of LOC1, a charge with the card;
    the lines it printed."""
    identity = f"XW-CP-{version}"
    provisioned = charge_point_provision(
        identity=identity, evse_refs=[f"LOC1/{EVSE_OF[version]}"], ocpp_version=version
    )
    spec = StationSpec(identity, gateway.url(identity), provisioned.password, (EvseSpec(1),))
    options = Options(behaviour=behaviour or Behaviour(), meter_interval=0.3, duration=2.0)
    printed: list[str] = []
    fleet = Fleet([spec], version=version, options=options, print_line=printed.append)
    failures = asyncio.run(fleet.run(token=CARD, once=True))
    assert failures == [], printed
    return printed


def the_session(version: str) -> Session:
    return Session.objects.get(evse__uid=EVSE_OF[version])


def transaction_energy_kwh(version: str) -> Decimal:
    """What the charge point's meter says was charged: its register at the end minus at the
    start, in kWh (DESIGN.md: a CDR's total_energy is the meter's difference)."""
    tx = ChargerTransaction.objects.get(charge_point__identity=f"XW-CP-{version}")
    assert tx.meter_start_wh is not None
    assert tx.meter_last_wh is not None
    return volume((tx.meter_last_wh - tx.meter_start_wh) / 1000)


def requests_to(peer: ExtrawestPeer, path: str) -> list[Entry]:
    return [e for e in peer.state()["request_log"] if e["path"].startswith(path)]


def unsettled() -> Any:
    """Pushes still to be sent or that failed (a PATCH superseded by a newer one that carries
    it too is settled)."""
    return Delivery.objects.filter(
        status__in=[*OPEN_STATUSES, DeliveryStatus.FAILED]
    ).select_related("change")


def all_delivered() -> bool:
    return Delivery.objects.exists() and not unsettled().exists()


def peer_cdr(peer: ExtrawestPeer, cdr: Cdr) -> Entry:
    return wait_until(
        lambda: stored_if(peer, "cdrs", cdr.ocpi_id.upper(), bool),
        beat=resend_due,
        timeout=60,
        what=f"the peer's CDR {cdr.ocpi_id}",
    )


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_tap_becomes_a_session_and_a_priced_cdr_at_the_emsp(
    peer: ExtrawestPeer,
    estate: None,
    worker: CeleryWorker,
    gateway: RunningGateway,
    version: str,
) -> None:
    charge(gateway, version)

    session = the_session(version)
    assert session.status == SessionStatus.COMPLETED
    cdr = wait_until(
        lambda: Cdr.objects.filter(session_id=session.ocpi_id).first(),
        timeout=30,
        what="our CDR",
    )
    kept_cdr = peer_cdr(peer, cdr)
    try:
        wait_until(all_delivered, beat=resend_due, timeout=60, what="every push delivered")
    except AssertionError as late:
        stuck = [(d.change, d.status, d.last_http_status, d.last_error) for d in unsettled()]
        raise AssertionError(f"Not delivered: {stuck}") from late

    # Real-time authorization at the peer, and its reference carried into the session.
    [asked] = [
        e
        for e in requests_to(peer, f"/ocpi/emsp/2.2.1/tokens/{CARD}/authorize")
        if e["method"] == "POST"
    ]
    reference = asked["response_body"]["data"][0]["authorization_reference"]
    assert session.authorization_reference == reference
    assert session.auth_method == "AUTH_REQUEST"
    # The session at the peer: PUT, then PATCHes, completed with the meter's energy.
    session_path = f"/ocpi/emsp/2.2.1/sessions/BE/BEC/{session.ocpi_id}"
    methods = [e["method"] for e in requests_to(peer, session_path)]
    assert methods[0] == "PUT"
    assert methods.count("PUT") == 1
    assert methods.count("PATCH") >= 2
    assert {e["response_status"] for e in requests_to(peer, session_path)} == {200}
    kept_session = stored_if(peer, "sessions", f"BE/BEC/{session.ocpi_id.upper()}", lambda s: True)
    assert kept_session is not None
    assert kept_session["status"] == "COMPLETED"
    energy = transaction_energy_kwh(version)
    assert energy > 0
    assert Decimal(str(kept_session["kwh"])) == energy
    # The CDR at the peer: the meter's difference, priced by the engine (start fee + energy +
    # parking of tariff 11), as we built it.
    assert Decimal(str(kept_cdr["total_energy"])) == energy == cdr.total_energy
    assert Decimal(str(kept_cdr["total_cost"]["excl_vat"])) == cdr.total_cost_excl_vat
    assert cdr.total_cost_excl_vat >= Decimal("0.50")  # at least tariff 10's start fee
    assert kept_cdr["cdr_token"]["uid"] == CARD
    assert kept_cdr["authorization_reference"] == reference
    # The EVSE's status changes, from its StatusNotifications, reached the peer's Location.
    evse_patches = [
        e["body"]["status"]
        for e in requests_to(peer, f"{LOCATIONS_PATH}/{EVSE_OF[version]}")
        if e["method"] == "PATCH" and "status" in e["body"]
    ]
    assert "CHARGING" in evse_patches
    assert evse_patches[-1] == "AVAILABLE"


def test_an_offline_replay_twice_and_shuffled_is_one_session_with_the_meter_s_energy(
    peer: ExtrawestPeer, estate: None, worker: CeleryWorker, gateway: RunningGateway
) -> None:
    shuffled_twice = Behaviour(offline_after_samples=2, shuffle_replay=True, send_twice=True)

    charge(gateway, "2.0.1", behaviour=shuffled_twice)

    [session] = Session.objects.all()
    assert session.status == SessionStatus.COMPLETED
    energy = transaction_energy_kwh("2.0.1")
    assert session.kwh == energy > 0
    cdr = wait_until(
        lambda: Cdr.objects.filter(session_id=session.ocpi_id).first(), timeout=30, what="CDR"
    )
    assert Decimal(str(peer_cdr(peer, cdr)["total_energy"])) == energy


def test_a_reboot_mid_transaction_closes_the_session_with_a_cdr(
    peer: ExtrawestPeer,
    estate: None,
    worker: CeleryWorker,
    gateway: RunningGateway,
    settings: Any,
) -> None:
    settings.OCPP_TRANSACTION_REBOOT_GRACE_SECONDS = 0

    charge(gateway, "1.6", behaviour=Behaviour(reboot_after_samples=2))
    transaction_tasks.check_transactions()

    [session] = Session.objects.all()
    assert session.status == SessionStatus.COMPLETED
    tx = ChargerTransaction.objects.get()
    assert tx.stop_reason == "Reboot"
    cdr = wait_until(
        lambda: Cdr.objects.filter(session_id=session.ocpi_id).first(), timeout=30, what="CDR"
    )
    assert cdr.total_energy == transaction_energy_kwh("1.6") > 0
    assert Decimal(str(peer_cdr(peer, cdr)["total_energy"])) == cdr.total_energy
