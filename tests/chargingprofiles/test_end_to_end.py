"""End to end through a real gateway: simulated OCPP charge points charging at a site whose
grid limit is shared among them (the energy they meter follows), and an eMSP's charging
profile PUT, GET and DELETE reaching the charge point, with the results for its response_url.

One 1.6 charge point carries the three EVSEs of the site (230 V, 16 A, 3 phases: 11 040 W,
as the simulator's EVSEs); the grid connection has 15 kW. Tasks run eagerly in the process
that queues them (the gateway's threads for what charge points set off).
"""

import copy
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from chargers.models import ChargePointCall
from chargers.provisioning import charge_point_provision
from chargers.simulator.station import EvseSpec, Options, StationSpec, StopCause
from chargingprofiles.models import GridLimit, ProfileRequest
from sessions.models import Session, SessionStatus
from tests import examples
from tests.chargers.central_system import FleetThread
from tests.chargers.gatewayrunner import RunningGateway
from tests.chargingprofiles.conftest import CAPABLE, RESPONSE_URL, URL, results
from tests.examples import upsert_location, upsert_tariff
from tests.push.polling import wait_until
from tests.sessions.conftest import TARIFFS, tariff_payload
from tests.tokens.conftest import cache_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

IDENTITY = "LM-CP-1"
EVSES = ("3256", "3257", "3258")
LIMIT_W = 15_000
CHARGING = Options(meter_interval=0.2, duration=120.0)  # charges until stopped


@pytest.fixture
def site(our_party: Any, partner_a: Any, settings: Any) -> GridLimit:
    settings.OCPP_CALL_POLL_SECONDS = 0.1
    for tariff_id, name in TARIFFS.items():
        upsert_tariff(tariff_payload(tariff_id, name))
    payload = copy.deepcopy(examples.example("locations", "location_example.json"))
    third = copy.deepcopy(payload["evses"][1])
    third.update(uid="3258", evse_id="BE*BEC*E3258")
    payload["evses"].append(third)
    for evse in payload["evses"]:
        evse.update(capabilities=list(CAPABLE), status="AVAILABLE")
        for connector in evse["connectors"]:
            connector.update(max_voltage=230, max_amperage=16, tariff_ids=["11"])
    location = upsert_location(payload)
    for n in range(3):
        cache_token(f"CARD-{n}")
    return GridLimit.objects.create(name="Car park", location=location, max_kw=Decimal(15))


@pytest.fixture
def fleet(site: GridLimit) -> Iterator[FleetThread]:
    with RunningGateway("lm-gateway") as gateway:
        provisioned = charge_point_provision(
            identity=IDENTITY, evse_refs=[f"LOC1/{uid}" for uid in EVSES], ocpp_version="1.6"
        )
        spec = StationSpec(
            IDENTITY,
            gateway.url(IDENTITY),
            provisioned.password,
            tuple(EvseSpec(n, max_power_w=11_040, phases=3) for n in (1, 2, 3)),
        )
        running = FleetThread([spec], "1.6", CHARGING).start()
        try:
            station = running.fleet.stations[0]
            wait_until(lambda: station.accepted.is_set(), what="the charge point up")
            yield running
        finally:
            running.stop()


def powers(fleet: FleetThread) -> dict[int, float]:
    """What each EVSE's meter draws now (the simulator's own reading), W."""
    station = fleet.fleet.stations[0]
    return fleet.call(
        lambda: {n: evse.meter.reading().power_w for n, evse in station.evses.items()}
    )


def limits(fleet: FleetThread) -> dict[int, float | None]:
    station = fleet.fleet.stations[0]
    return fleet.call(lambda: {n: evse.meter.limit_w for n, evse in station.evses.items()})


def tap(fleet: FleetThread, card: str) -> None:
    station = fleet.fleet.stations[0]
    assert fleet.call(lambda: station.tap(card)) is not None


def stop(fleet: FleetThread, evse_id: int) -> None:
    station = fleet.fleet.stations[0]

    def stopping() -> None:
        transaction = station.evses[evse_id].transaction
        assert transaction is not None
        transaction.request_stop(StopCause.LOCAL)

    fleet.call(stopping)


def active() -> int:
    return Session.objects.filter(status=SessionStatus.ACTIVE).count()


def settled_at(fleet: FleetThread, expected: dict[int, float | None]) -> dict[int, float | None]:
    """Until the meters' limits are `expected` (the charge point took the plan), and each
    limited EVSE has metered a charge under its limit."""
    wait_until(lambda: limits(fleet) == expected, timeout=20, what=f"limits {expected}")

    def under() -> bool:
        drawn = powers(fleet)
        return all(
            0 < drawn[n] <= limit + 0.5 for n, limit in expected.items() if limit is not None
        )

    wait_until(under, timeout=10, what="readings under the limits")
    return expected


def test_the_grid_limit_holds_across_three_sessions_starting_and_stopping(
    fleet: FleetThread,
) -> None:
    for n in range(3):
        tap(fleet, f"CARD-{n}")
    wait_until(lambda: active() == 3, timeout=20, what="three sessions")

    # 5000 W each: 7.2 A on 3 × 230 V (7.246…, rounded down), 4968 W metered at most.
    three = settled_at(fleet, {1: 4968.0, 2: 4968.0, 3: 4968.0})
    drawn_by_three = sum(powers(fleet).values())
    stop(fleet, 1)
    wait_until(lambda: active() == 2, timeout=20, what="one stopped")
    # 7500 W each: 10.8 A, 7452 W.
    two = settled_at(fleet, {1: None, 2: 7452.0, 3: 7452.0})
    drawn_by_two = sum(powers(fleet).values())
    stop(fleet, 2)
    wait_until(lambda: active() == 1, timeout=20, what="two stopped")
    # Alone under 15 kW: its EVSE's 16 A, 11 040 W.
    settled_at(fleet, {1: None, 2: None, 3: 11_040.0})

    assert sum(v for v in three.values() if v) <= LIMIT_W
    assert sum(v for v in two.values() if v) <= LIMIT_W
    assert 0 < drawn_by_three <= LIMIT_W
    assert 0 < drawn_by_two <= LIMIT_W
    site = GridLimit.objects.get()
    assert len(site.plan) == 1
    assert list(site.plan.values()) == ["11040.0"]


def test_an_emsps_profile_put_get_and_delete_reach_the_charge_point_and_are_answered(
    fleet: FleetThread, client_a: APIClient
) -> None:
    GridLimit.objects.update(active=False)  # the eMSP's profile alone
    tap(fleet, "CARD-0")
    wait_until(lambda: active() == 1, timeout=20, what="the session")
    session = Session.objects.get(status=SessionStatus.ACTIVE)

    put = client_a.put(
        f"{URL}/{session.ocpi_id}",
        {
            "charging_profile": {
                "charging_rate_unit": "W",
                "charging_profile_period": [{"start_period": 0, "limit": 3000}],
            },
            "response_url": RESPONSE_URL,
        },
        format="json",
    )
    wait_until(lambda: len(results()) == 1, timeout=20, what="the PUT's result")
    limited = settled_at(fleet, {1: 3000.0, 2: None, 3: None})
    get = client_a.get(
        f"{URL}/{session.ocpi_id}", {"duration": "600", "response_url": RESPONSE_URL + "-get"}
    )
    wait_until(lambda: len(results()) == 2, timeout=20, what="the GET's result")
    delete = client_a.delete(f"{URL}/{session.ocpi_id}?response_url={RESPONSE_URL}-delete")
    wait_until(lambda: len(results()) == 3, timeout=20, what="the DELETE's result")
    settled_at(fleet, {1: None, 2: None, 3: None})

    assert [r.json()["data"]["result"] for r in (put, get, delete)] == ["ACCEPTED"] * 3
    assert limited == {1: 3000.0, 2: None, 3: None}
    (set_url, set_result), (get_url, get_result), (clear_url, clear_result) = results()
    assert (set_url, set_result) == (RESPONSE_URL, {"result": "ACCEPTED"})
    assert get_url == RESPONSE_URL + "-get"
    assert get_result["result"] == "ACCEPTED"
    assert get_result["profile"]["charging_profile"]["charging_rate_unit"] == "W"
    assert get_result["profile"]["charging_profile"]["charging_profile_period"][0] == {
        "start_period": 0,
        "limit": Decimal(3000),
    }
    assert (clear_url, clear_result) == (RESPONSE_URL + "-delete", {"result": "ACCEPTED"})
    assert [c.action for c in ChargePointCall.objects.order_by("created_at")] == [
        "SetChargingProfile",
        "GetCompositeSchedule",
        "ClearChargingProfile",
    ]
    assert ProfileRequest.objects.filter(result="ACCEPTED").count() == 3
