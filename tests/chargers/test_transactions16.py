"""OCPP 1.6 StartTransaction, MeterValues and StopTransaction through their handlers, with real
rows: a charge becomes a Session (PUT, PATCHes) and a CDR whose energy is the meter's
difference; repeats, wrong clocks, bad meters and refused tokens are acknowledged."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cdrs.models import Cdr
from chargers.models import ChargePoint, ChargerTransaction, TransactionEvent
from locations.models import EVSE, Connector
from sessions.metering import volume
from sessions.models import Session
from tests.chargers.transactions_setup import (
    MINUTE,
    START,
    TOKEN_UID,
    call,
    cdr_of,
    charge_point,
    emsp,
    estate,
    meter_value_16,
    periods,
    pushes,
    session_of,
    stamp,
    start_16_payload,
    token,
)
from tests.examples import upsert_tariff

pytestmark = pytest.mark.django_db

METER_START = 1_000_000
SECOND = timedelta(seconds=1)


@pytest.fixture
def point() -> ChargePoint:
    estate()
    emsp()
    token()
    return charge_point("CP16", "1.6")


def start(
    point: ChargePoint, received: datetime = START + SECOND, **overrides: Any
) -> dict[str, Any]:
    payload = start_16_payload(START, METER_START)
    payload.update(overrides)
    return call(point, "StartTransaction", payload, received)


def meter(point: ChargePoint, transaction_id: int | None, *values: dict[str, Any]) -> None:
    payload: dict[str, Any] = {"connectorId": 1, "meterValue": list(values)}
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    received = max(datetime.fromisoformat(v["timestamp"]) for v in values) + SECOND
    assert call(point, "MeterValues", payload, received) == {}


def stop(
    point: ChargePoint, transaction_id: int, meter_stop: int, at: datetime, **extra: Any
) -> dict[str, Any]:
    payload = {
        "transactionId": transaction_id,
        "meterStop": meter_stop,
        "timestamp": stamp(at),
        **extra,
    }
    return call(point, "StopTransaction", payload, at + SECOND)


def transaction_of(answer: dict[str, Any]) -> ChargerTransaction:
    return ChargerTransaction.objects.get(transaction_id=str(answer["transactionId"]))


def test_a_charge_becomes_a_completed_session_and_a_cdr(point: ChargePoint) -> None:
    answer = start(point)
    number = answer["transactionId"]
    for minute in (10, 20, 30):
        reading = METER_START + minute * 200
        meter(point, number, meter_value_16(START + minute * MINUTE, reading, power_w=12_000))
    stopped = stop(point, number, METER_START + 7_500, START + 40 * MINUTE, reason="EVDisconnected")

    started = transaction_of(answer)
    session = session_of(started)
    assert answer["idTagInfo"]["status"] == "Accepted"
    assert 1 <= number <= 2**31 - 1
    assert stopped == {}
    assert (session.status, session.kwh) == ("COMPLETED", Decimal("7.5"))
    assert (session.start_date_time, session.end_date_time) == (START, START + 40 * MINUTE)
    assert (session.auth_method, session.token_uid) == ("WHITELIST", TOKEN_UID)
    assert periods(session) == [
        (
            START,
            {
                "ENERGY": Decimal("7.5"),
                "TIME": Decimal("0.6667"),
                "MAX_POWER": Decimal(12),
                "MIN_POWER": Decimal(12),
            },
        )
    ]
    cdr = cdr_of(session)
    assert cdr.total_energy == Decimal("7.5")
    assert cdr.total_cost_excl_vat == Decimal("2.3750")  # FLAT 0.50 + 7.5 kWh × 0.25
    assert (started.stop_reason, started.meter_start_wh, started.meter_last_wh) == (
        "EVDisconnected",
        Decimal(METER_START),
        Decimal(METER_START + 7_500),
    )
    sessions = pushes("sessions")
    assert [method for method, _ in sessions] == ["PUT", "PATCH", "PATCH", "PATCH", "PATCH"]
    assert [body["kwh"] for _, body in sessions[1:4]] == [Decimal(2), Decimal(4), Decimal(6)]
    assert [body["total_cost"]["excl_vat"] for _, body in sessions[1:4]] == [
        Decimal("1.0000"),
        Decimal("1.5000"),
        Decimal("2.0000"),
    ]
    assert "charging_periods" not in sessions[1][1]
    assert sessions[-1][1]["status"] == "COMPLETED"
    assert [method for method, _ in pushes("cdrs")] == ["POST"]


def test_the_same_start_again_is_the_same_transaction(point: ChargePoint) -> None:
    first = start(point)
    again = start(point)
    other = start(point, timestamp=stamp(START + MINUTE))  # another transaction

    assert again == first
    assert other["transactionId"] != first["transactionId"]
    assert ChargerTransaction.objects.count() == 2
    assert Session.objects.count() == 2
    assert TransactionEvent.objects.count() == 2


def test_the_same_message_again_is_applied_once(point: ChargePoint) -> None:
    number = start(point)["transactionId"]
    value = meter_value_16(START + 10 * MINUTE, METER_START + 2_000)
    meter(point, number, value)
    meter(point, number, value)
    final = START + 20 * MINUTE
    stop(point, number, METER_START + 4_000, final)
    stop(point, number, METER_START + 4_000, final)

    session = session_of(transaction_of({"transactionId": number}))
    assert (session.status, session.kwh, Cdr.objects.count()) == ("COMPLETED", Decimal(4), 1)
    assert TransactionEvent.objects.count() == 3


def test_an_unknown_token_is_refused_its_transaction_kept_without_a_session(
    point: ChargePoint,
) -> None:
    answer = start(point, idTag="NOBODY")
    number = answer["transactionId"]
    meter(point, number, meter_value_16(START + 10 * MINUTE, METER_START + 2_000))
    stopped = stop(point, number, METER_START + 2_500, START + 11 * MINUTE, idTag="NOBODY")

    refused = transaction_of(answer)
    assert answer["idTagInfo"] == {"status": "Invalid"}
    assert stopped == {"idTagInfo": {"status": "Invalid"}}
    assert (refused.authorization_status, refused.session, refused.stop_reason) == (
        "Invalid",
        None,
        "Local",
    )
    assert refused.meter_last_wh == METER_START + 2_500
    assert not Session.objects.exists()
    assert pushes("sessions") == []


def test_a_blocked_token_is_blocked(point: ChargePoint) -> None:
    token("BLOCKED1", valid=False, whitelist="ALWAYS")

    answer = start(point, idTag="BLOCKED1")

    assert answer["idTagInfo"] == {"status": "Blocked", "parentIdTag": "DF000-2001-8999"}
    assert not Session.objects.exists()


def test_a_start_at_a_connector_we_do_not_know_is_acknowledged(point: ChargePoint) -> None:
    answer = start(point, connectorId=5)

    assert answer["idTagInfo"]["status"] == "Accepted"
    assert transaction_of(answer).session is None


def test_a_refused_session_does_not_refuse_the_transaction(point: ChargePoint) -> None:
    EVSE.objects.filter(uid="3256").update(status="REMOVED")

    answer = start(point)

    started = transaction_of(answer)
    assert started.session is None
    assert "REMOVED" in started.state["warnings"][-1]


def test_an_impossible_clock_is_replaced_by_ours_and_recorded(point: ChargePoint) -> None:
    received = START + SECOND

    answer = start(point, timestamp="1970-01-01T00:00:00Z")

    session = session_of(transaction_of(answer))
    assert session.start_date_time == received
    point.refresh_from_db()
    assert point.clock_offset == pytest.approx(-received.timestamp())


def test_a_zero_start_value_does_not_bill_the_odometer(point: ChargePoint) -> None:
    odometer = 910_000_000
    number = start(point, meterStart=0)["transactionId"]
    meter(point, number, meter_value_16(START + MINUTE, odometer))
    meter(point, number, meter_value_16(START + 31 * MINUTE, odometer + 5_000))
    stop(point, number, odometer + 6_000, START + 40 * MINUTE)

    started = transaction_of({"transactionId": number})
    session = session_of(started)
    assert (session.kwh, cdr_of(session).total_energy) == (Decimal(6), Decimal(6))
    assert started.meter_start_wh == odometer
    assert "zero start value" in started.state["warnings"][0]


def test_wh_labelled_kwh_is_read_as_wh(point: ChargePoint) -> None:
    number = start(point)["transactionId"]
    for minute, wh in ((10, 2_000), (20, 4_000)):
        value = meter_value_16(START + minute * MINUTE, METER_START + wh, unit="kWh")
        meter(point, number, value)
    stop(point, number, METER_START + 5_000, START + 30 * MINUTE)

    started = transaction_of({"transactionId": number})
    session = session_of(started)
    assert (session.kwh, cdr_of(session).total_energy) == (Decimal(5), Decimal(5))
    assert [body.get("kwh") for _, body in pushes("sessions")[1:3]] == [Decimal(2), Decimal(4)]
    assert "labelled kWh but in Wh" in started.state["warnings"][0]
    assert started.state["register"]["kwh_means_wh"] is True


def test_a_true_kwh_register_is_read_as_kwh(point: ChargePoint) -> None:
    number = start(point)["transactionId"]
    meter(point, number, meter_value_16(START + 10 * MINUTE, "1002.000", unit="kWh"))

    started = transaction_of({"transactionId": number})
    assert (session_of(started).kwh, started.state.get("warnings")) == (Decimal(2), None)


def test_sixty_samples_at_constant_power_are_one_period_until_the_state_changes(
    point: ChargePoint,
) -> None:
    number = start(point)["transactionId"]
    for minute in range(1, 61):  # 11 kW: 183.33 Wh a minute
        wh = METER_START + minute * 11_000 // 60
        meter(point, number, meter_value_16(START + minute * MINUTE, wh, power_w=11_000))
    full = METER_START + 60 * 11_000 // 60
    for minute in range(61, 71):  # the car is full: no power, the register stands still
        meter(point, number, meter_value_16(START + minute * MINUTE, full, power_w=0))
    stop(point, number, full, START + 75 * MINUTE)

    session = session_of(transaction_of({"transactionId": number}))
    assert [
        (start, dims.get("TIME"), dims.get("PARKING_TIME")) for start, dims in periods(session)
    ] == [
        (START, Decimal(1), None),
        (START + 60 * MINUTE, None, Decimal("0.25")),
    ]
    assert session.kwh == Decimal(11)
    # The PUT, a PATCH for each charging sample, the closed period, the first parking minute
    # (parking is billed in steps of 15 minutes: the next minutes change nothing), the end.
    assert len(pushes("sessions")) == 1 + 60 + 1 + 1 + 1


def test_by_default_a_session_is_patched_every_five_minutes_of_samples(
    point: ChargePoint, settings: Any
) -> None:
    settings.OCPP_SESSION_PROGRESS_SECONDS = 300  # the default (config.settings)
    number = start(point)["transactionId"]
    for minute in range(1, 31):  # 11 kW, a sample a minute
        wh = METER_START + minute * 11_000 // 60
        meter(point, number, meter_value_16(START + minute * MINUTE, wh, power_w=11_000))

    patched = [body for method, body in pushes("sessions") if method == "PATCH"]
    # Five minutes after the start (its PUT), then five minutes after each PATCH.
    assert [Decimal(str(body["kwh"])) for body in patched] == [
        volume(Decimal(11_000 * minute // 60) / 1000) for minute in (5, 10, 15, 20, 25, 30)
    ]
    # The kwh between PATCHes is still counted: the stop's is the meter's difference.
    stop(point, number, METER_START + 30 * 11_000 // 60, START + 30 * MINUTE)
    assert session_of(transaction_of({"transactionId": number})).kwh == Decimal("5.5")


def test_values_without_a_transaction_id_belong_to_the_one_running_there(
    point: ChargePoint,
) -> None:
    number = start(point)["transactionId"]
    meter(point, None, meter_value_16(START + 10 * MINUTE, METER_START + 1_500))
    payload = {"connectorId": 2, "meterValue": [meter_value_16(START + 11 * MINUTE, 5)]}
    call(point, "MeterValues", payload, START + 11 * MINUTE)  # connector 2: nothing runs

    started = transaction_of({"transactionId": number})
    assert session_of(started).kwh == Decimal("1.5")
    assert started.events.count() == 2


def test_a_stop_of_a_transaction_we_never_started_is_acknowledged(point: ChargePoint) -> None:
    answer = stop(point, -1, 500, START, idTag=TOKEN_UID)

    assert answer["idTagInfo"]["status"] == "Accepted"
    assert not ChargerTransaction.objects.exists()


def test_a_late_sample_counts_through_the_register_and_adds_no_period(point: ChargePoint) -> None:
    number = start(point)["transactionId"]
    meter(point, number, meter_value_16(START + 20 * MINUTE, METER_START + 4_000))
    meter(point, number, meter_value_16(START + 10 * MINUTE, METER_START + 3_000, power_w=0))
    stop(point, number, METER_START + 5_000, START + 30 * MINUTE)

    session = session_of(transaction_of({"transactionId": number}))
    assert session.kwh == Decimal(5)
    assert [(start, dims["ENERGY"]) for start, dims in periods(session)] == [(START, Decimal(5))]


def test_a_new_period_starts_where_the_price_changes(point: ChargePoint) -> None:
    evening = {
        "country_code": "BE",
        "party_id": "BEC",
        "id": "EVENING",
        "currency": "EUR",
        "elements": [
            {
                "price_components": [{"type": "ENERGY", "price": Decimal("0.20"), "step_size": 1}],
                "restrictions": {"start_time": "00:00", "end_time": "18:00"},
            },
            {"price_components": [{"type": "ENERGY", "price": Decimal("0.30"), "step_size": 1}]},
        ],
        "last_updated": "2026-01-01T00:00:00Z",
    }
    upsert_tariff(evening)
    Connector.objects.filter(evse__uid="3256").update(tariff_ids=["EVENING"])
    begin = START.replace(hour=16, minute=30)  # 17:30 in Brussels: 18:00 is 17:00 UTC
    number = start(point, begin + SECOND, timestamp=stamp(begin))["transactionId"]
    for minutes, wh in ((20, 4_000), (40, 8_000)):  # 12 kW
        meter(
            point,
            number,
            meter_value_16(begin + minutes * MINUTE, METER_START + wh, power_w=12_000),
        )
    stop(point, number, METER_START + 12_000, begin + 60 * MINUTE)

    session = session_of(transaction_of({"transactionId": number}))
    assert [(start, dims["ENERGY"]) for start, dims in periods(session)] == [
        (begin, Decimal(6)),
        (begin + 30 * MINUTE, Decimal(6)),
    ]
    assert session.total_cost_excl_vat == Decimal("3.0000")  # 6 × 0.20 + 6 × 0.30
