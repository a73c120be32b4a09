"""What the commands interop tests share: LOC1 priced and free, a real gateway, a simulated
charge point of each OCPP version on its EVSE, and the peer sending a command and reading its
CommandResult. Test modules import the fixtures they use from here."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chargers.models import ChargePoint
from chargers.provisioning import charge_point_provision
from chargers.simulator.scenarios import Behaviour
from chargers.simulator.station import EvseSpec, Options, Station, StationSpec
from credentials.models import PartnerPlatform
from push.tasks import resend_due
from tests.chargers.central_system import FleetThread
from tests.chargers.gatewayrunner import RunningGateway
from tests.examples import example, tariff_example, upsert_location, upsert_tariff
from tests.interop.helpers import stored_if
from tests.interop.peer import ExtrawestPeer
from tests.push.polling import wait_until

EVSE_OF = {"1.6": "3256", "2.0.1": "3257"}
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


def identity_of(version: str) -> str:
    return f"XW-CMD-{version}"


def provision(gateway: RunningGateway, version: str) -> StationSpec:
    """A charge point of `version` on its EVSE of LOC1 behind the gateway; its simulator's
    spec."""
    identity = identity_of(version)
    provisioned = charge_point_provision(
        identity=identity, evse_refs=[f"LOC1/{EVSE_OF[version]}"], ocpp_version=version
    )
    return StationSpec(identity, gateway.url(identity), provisioned.password, (EvseSpec(1),))


@contextmanager
def connected(spec: StationSpec, version: str) -> Iterator[FleetThread]:
    """The simulated charge point `spec`, connected and accepted until the block ends."""
    fleet = FleetThread([spec], version, REMOTE).start()
    try:
        wait_until(
            lambda: ChargePoint.objects.filter(identity=spec.identity).exclude(gateway="").exists(),
            timeout=30,
            what="the charge point online",
        )
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture
def charge_point(estate: None, gateway: RunningGateway, version: str) -> Iterator[FleetThread]:
    """One simulated charge point of `version` on its EVSE of LOC1, connected and accepted."""
    with connected(provision(gateway, version), version) as fleet:
        yield fleet


def station(fleet: FleetThread) -> Station:
    return fleet.fleet.stations[0]


def command(peer: ExtrawestPeer, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """The peer POSTs the command to our commands endpoint; our answer's body."""
    answer = peer.call("POST", module="commands", role="RECEIVER", path=name, json=body)
    assert answer["status_code"] == 200, answer
    return dict(answer["body"])


def result_url(peer: ExtrawestPeer, uid: str) -> str:
    return f"{peer.base_url}/ocpi/emsp/2.2.1/commands/{uid}"


def result_at_peer(peer: ExtrawestPeer, uid: str, timeout: float = 60) -> dict[str, Any]:
    return wait_until(
        lambda: stored_if(peer, "commands", uid, bool),
        beat=resend_due,
        timeout=timeout,
        what=f"the CommandResult {uid} at the peer",
    )
