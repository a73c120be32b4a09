"""totalCost end to end: a simulated charge point (chargers.simulator) on a real gateway taps a
token and charges; OCPP 2.0.1's answer to TransactionEvent(Ended) carries the session's final
cost incl. VAT, its CDR's, which the station shows. OCPP 1.6 has no such field."""

from collections.abc import Iterator
from decimal import Decimal

import pytest

from cdrs.models import Cdr
from chargers.provisioning import charge_point_provision
from chargers.simulator.station import EvseSpec, Options, StationSpec
from sessions.models import Session, SessionStatus
from tests.chargers.central_system import FleetThread, running
from tests.chargers.gatewayrunner import RunningGateway
from tests.chargers.transactions_setup import TOKEN_UID, emsp, estate, token
from tests.push.polling import wait_until

pytestmark = [pytest.mark.django_db(transaction=True)]

SHORT = Options(meter_interval=0.2, duration=1.0)


@pytest.fixture
def gateway(eager_tasks: None) -> Iterator[RunningGateway]:
    estate()
    emsp()
    token()
    with RunningGateway("cost-gateway") as running_gateway:
        yield running_gateway


def charged(gateway: RunningGateway, version: str) -> tuple[FleetThread, Cdr]:
    """A station of `version` on EVSE 3256: the token tapped, the charge over and billed."""
    identity = f"COST-CP-{version}"
    provisioned = charge_point_provision(
        identity=identity, evse_refs=["LOC1/3256"], ocpp_version=version
    )
    spec = StationSpec(identity, gateway.url(identity), provisioned.password, (EvseSpec(1),))
    with running([spec], version, SHORT) as fleet:
        wait_until(lambda: fleet.fleet.stations[0].accepted.is_set(), what="the station booted")
        fleet.call(lambda: fleet.fleet.stations[0].tap(TOKEN_UID))
        session = wait_until(
            lambda: Session.objects.filter(status=SessionStatus.COMPLETED).first(),
            what="the charge completed",
            timeout=20,
        )
        cdr = wait_until(lambda: Cdr.objects.of_session(session).first(), what="its CDR")
        # The end's answer handled: nothing left to send, no transaction running.
        wait_until(lambda: fleet.call(lambda: all_answered(fleet)), what="the end answered")
    return fleet, cdr


def all_answered(fleet: FleetThread) -> bool:
    station = fleet.fleet.stations[0]
    return not station.outbox and all(e.transaction is None for e in station.evses.values())


def test_a_2_0_1_station_is_answered_the_total_cost_of_its_cdr(gateway: RunningGateway) -> None:
    fleet, cdr = charged(gateway, "2.0.1")

    assert cdr.total_cost_incl_vat is not None
    assert cdr.total_cost_incl_vat > 0
    shown = [line for line in fleet.lines if "total cost" in line]
    assert len(shown) == 1, fleet.lines
    assert Decimal(shown[0].rsplit(" ", 1)[1]) == cdr.total_cost_incl_vat


def test_a_1_6_station_gets_no_total_cost(gateway: RunningGateway) -> None:
    fleet, cdr = charged(gateway, "1.6")

    assert cdr.total_cost_incl_vat is not None
    assert not [line for line in fleet.lines if "total cost" in line]
