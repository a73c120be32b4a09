"""Simulated charge points take TxProfiles: the power they meter follows the limit, they report
their composite schedule, and a cleared profile lets them charge at full power again."""

from collections.abc import Iterator

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from chargers.simulator.station import Options
from tests.chargers.central_system import CentralSystem, running, station_spec

LONG = Options(meter_interval=0.1, duration=30.0)  # charges until stopped
TOKEN_201 = {"id_token": "TOKEN-1", "type": "ISO14443"}
FULL_W = 11_040 * 0.97  # the car takes 97 to 100 % of the EVSE's 11 040 W


@pytest.fixture
def central() -> Iterator[CentralSystem]:
    central = CentralSystem().start()
    yield central
    central.stop()


def powers_16(central: CentralSystem) -> list[float]:
    return [
        float(value["value"])
        for payload in central.payloads("MeterValues")
        for meter_value in payload["meterValue"]
        for value in meter_value["sampledValue"]
        if value.get("measurand") == "Power.Active.Import"
    ]


def powers_201(central: CentralSystem) -> list[float]:
    return [
        float(value["value"])
        for payload in central.payloads("TransactionEvent")
        for meter_value in payload.get("meterValue", [])
        for value in meter_value["sampledValue"]
        if value.get("measurand") == "Power.Active.Import"
    ]


def tx_profile_16(limit: float, unit: str = "A", transaction_id: int = 1001) -> dict:
    return {
        "chargingProfileId": 7,
        "transactionId": transaction_id,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }


def test_a_1_6_charge_point_meters_under_its_tx_profile_until_it_is_cleared(
    central: CentralSystem,
) -> None:
    with running([station_spec(central)], "1.6", LONG):
        central.wait_for(lambda: central.received("StatusNotification"), "statuses")
        central.call("SIM-0001", call16.RemoteStartTransaction(id_tag="TOKEN-1", connector_id=1))
        central.wait_for(lambda: len(powers_16(central)) >= 2, "charging")

        set_answer = central.call(
            "SIM-0001",
            call16.SetChargingProfile(connector_id=1, cs_charging_profiles=tx_profile_16(8)),
        )
        seen = len(powers_16(central))
        central.wait_for(lambda: len(powers_16(central)) >= seen + 3, "limited readings")
        limited = powers_16(central)[seen + 1 :]
        composite = central.call(
            "SIM-0001",
            call16.GetCompositeSchedule(connector_id=1, duration=600, charging_rate_unit="W"),
        )
        cleared = central.call("SIM-0001", call16.ClearChargingProfile(id=7))
        again = central.call("SIM-0001", call16.ClearChargingProfile(id=7))
        seen = len(powers_16(central))
        central.wait_for(lambda: len(powers_16(central)) >= seen + 3, "full readings")
        full = powers_16(central)[seen + 1 :]
        wrong = central.call(
            "SIM-0001",
            call16.SetChargingProfile(
                connector_id=1, cs_charging_profiles=tx_profile_16(8, transaction_id=4242)
            ),
        )

    assert set_answer.status == "Accepted"
    assert all(power <= 8 * 230 * 3 for power in limited)  # 5520 W
    assert composite.status == "Accepted"
    assert composite.charging_schedule["charging_rate_unit"] == "W"
    assert composite.charging_schedule["charging_schedule_period"] == [
        {"start_period": 0, "limit": 5520.0}
    ]
    assert (cleared.status, again.status) == ("Accepted", "Unknown")
    assert all(power >= FULL_W for power in full)
    assert wrong.status == "Rejected"  # another transaction's


def test_a_2_0_1_station_meters_under_its_tx_profile_in_watts(central: CentralSystem) -> None:
    with running([station_spec(central)], "2.0.1", LONG):
        central.wait_for(lambda: central.received("StatusNotification"), "statuses")
        central.call(
            "SIM-0001", call201.RequestStartTransaction(id_token=TOKEN_201, remote_start_id=3)
        )
        central.wait_for(lambda: len(powers_201(central)) >= 2, "charging")
        transaction_id = central.payloads("TransactionEvent")[0]["transactionInfo"]["transactionId"]

        set_answer = central.call(
            "SIM-0001",
            call201.SetChargingProfile(
                evse_id=1,
                charging_profile={
                    "id": 9,
                    "stackLevel": 1,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Relative",
                    "transactionId": transaction_id,
                    "chargingSchedule": [
                        {
                            "id": 9,
                            "chargingRateUnit": "W",
                            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 4000}],
                        }
                    ],
                },
            ),
        )
        seen = len(powers_201(central))
        central.wait_for(lambda: len(powers_201(central)) >= seen + 3, "limited readings")
        limited = powers_201(central)[seen + 1 :]
        composite = central.call("SIM-0001", call201.GetCompositeSchedule(duration=300, evse_id=1))
        unknown = central.call("SIM-0001", call201.GetCompositeSchedule(duration=300, evse_id=5))
        cleared = central.call("SIM-0001", call201.ClearChargingProfile(charging_profile_id=9))

    assert set_answer.status == "Accepted"
    assert all(power <= 4000 for power in limited)
    assert composite.status == "Accepted"
    assert composite.schedule["charging_rate_unit"] == "W"
    assert composite.schedule["charging_schedule_period"] == [{"start_period": 0, "limit": 4000.0}]
    assert unknown.status == "Rejected"
    assert cleared.status == "Accepted"


def test_a_profile_without_a_transaction_is_rejected(central: CentralSystem) -> None:
    with running([station_spec(central)], "1.6", LONG):
        central.wait_for(lambda: central.received("StatusNotification"), "statuses")
        answer = central.call(
            "SIM-0001",
            call16.SetChargingProfile(connector_id=1, cs_charging_profiles=tx_profile_16(8)),
        )
        composite = central.call(
            "SIM-0001", call16.GetCompositeSchedule(connector_id=1, duration=60)
        )

    assert answer.status == "Rejected"
    # No profile: the EVSE's maximum, 11 040 W on 3 × 230 V = 16 A.
    assert composite.charging_schedule["charging_schedule_period"] == [
        {"start_period": 0, "limit": 16.0}
    ]
