"""OCPP 2.0.1 TransactionEvent through its handler, with real rows: the session begins when the
token is known (ACTIVE with an EV connected, else PENDING until one is), meter values become
periods where the charging state changes, the end completes it with a CDR; repeats, replays
out of order and transactions never authorized are acknowledged and applied once, in order."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cdrs.models import Cdr
from chargers import transactions
from chargers.models import ChargePoint, ChargerTransaction, TransactionEvent
from chargers.transaction_tasks import check_transactions
from locations.models import Connector
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
    meter_value_201,
    periods,
    pushes,
    session_of,
    token,
    transaction_event,
)

pytestmark = pytest.mark.django_db

BEGIN = 5_000  # Wh on the register when the transaction begins
SECOND = timedelta(seconds=1)


@pytest.fixture
def point() -> ChargePoint:
    estate()
    emsp()
    token()
    return charge_point("CP201", "2.0.1")


def send(point: ChargePoint, payload: dict[str, Any], received_at: datetime | None = None) -> Any:
    at = datetime.fromisoformat(payload["timestamp"])
    return call(point, "TransactionEvent", payload, received_at or at + SECOND)


def the_transaction() -> ChargerTransaction:
    return ChargerTransaction.objects.get(transaction_id="TX-1")


def plugged_in(minute: int = 0) -> dict[str, Any]:
    """Cable first: the transaction starts before anyone is authorized."""
    return transaction_event(
        "Started",
        0,
        START + minute * MINUTE,
        trigger="CablePluggedIn",
        charging_state="EVConnected",
        evse=1,
        meter=[meter_value_201(START + minute * MINUTE, BEGIN, context="Transaction.Begin")],
    )


def authorized(seq_no: int = 1, minute: int = 1, uid: str = TOKEN_UID) -> dict[str, Any]:
    return transaction_event(
        "Updated", seq_no, START + minute * MINUTE, trigger="Authorized", id_token=uid
    )


def charging(seq_no: int, minute: int, wh: int, state: str = "Charging") -> dict[str, Any]:
    at = START + minute * MINUTE
    return transaction_event(
        "Updated",
        seq_no,
        at,
        trigger="ChargingStateChanged",
        charging_state=state,
        meter=[meter_value_201(at, wh, power_w=11_000 if state == "Charging" else 0)],
    )


def sample(seq_no: int, minute: int, wh: int) -> dict[str, Any]:
    at = START + minute * MINUTE
    return transaction_event("Updated", seq_no, at, meter=[meter_value_201(at, wh)])


def ended(seq_no: int, minute: int, wh: int) -> dict[str, Any]:
    at = START + minute * MINUTE
    return transaction_event(
        "Ended",
        seq_no,
        at,
        trigger="EVDeparted",
        charging_state="Idle",
        stopped_reason="EVDisconnected",
        meter=[meter_value_201(at, wh, context="Transaction.End")],
    )


def test_cable_first_then_the_token_a_session_from_the_token_to_the_end(
    point: ChargePoint,
) -> None:
    assert send(point, plugged_in()) == {}
    assert not Session.objects.exists()  # nobody to bill yet

    answer = send(point, authorized())
    send(point, charging(2, 2, BEGIN))
    send(point, sample(3, 12, BEGIN + 1_800))
    send(point, charging(4, 22, BEGIN + 3_600, state="SuspendedEV"))
    send(point, ended(5, 30, BEGIN + 3_600))

    session = session_of(the_transaction())
    assert answer["idTokenInfo"]["status"] == "Accepted"
    assert answer["idTokenInfo"]["groupIdToken"] == {
        "idToken": "DF000-2001-8999",
        "type": "Central",
    }
    assert (session.status, session.start_date_time, session.end_date_time) == (
        "COMPLETED",
        START + MINUTE,
        START + 30 * MINUTE,
    )
    assert periods(session) == [
        (START + MINUTE, {"ENERGY": Decimal(0), "PARKING_TIME": Decimal("0.0167")}),
        (
            START + 2 * MINUTE,
            {
                "ENERGY": Decimal("3.6"),
                "TIME": Decimal("0.3333"),
                "MAX_POWER": Decimal(11),
                "MIN_POWER": Decimal(11),
            },
        ),
        (
            START + 22 * MINUTE,
            {
                "ENERGY": Decimal(0),
                "PARKING_TIME": Decimal("0.1333"),
                "MAX_POWER": Decimal(0),
                "MIN_POWER": Decimal(0),
            },
        ),
    ]
    assert (session.kwh, cdr_of(session).total_energy) == (Decimal("3.6"), Decimal("3.6"))
    assert the_transaction().stop_reason == "EVDisconnected"
    assert [method for method, _ in pushes("sessions")][:2] == ["PUT", "PATCH"]
    assert [method for method, _ in pushes("cdrs")] == ["POST"]


def test_authorized_before_the_cable_is_pending_until_an_ev_is_connected(
    point: ChargePoint,
) -> None:
    first = transaction_event("Started", 0, START, trigger="Authorized", id_token=TOKEN_UID, evse=1)
    send(point, first)
    pending = session_of(the_transaction())
    connected = transaction_event(
        "Updated",
        1,
        START + 2 * MINUTE,
        trigger="CablePluggedIn",
        charging_state="EVConnected",
        meter=[meter_value_201(START + 2 * MINUTE, BEGIN)],
    )
    send(point, connected)
    send(point, ended(2, 20, BEGIN + 2_000))

    session = session_of(the_transaction())
    assert (pending.status, pending.start_date_time) == ("PENDING", START)
    assert (session.status, session.start_date_time, session.kwh) == (
        "COMPLETED",
        START + 2 * MINUTE,
        Decimal(2),  # from the first register reading: no Transaction.Begin was sent
    )
    assert [method for method, _ in pushes("sessions")][:2] == ["PUT", "PATCH"]


def test_a_session_that_never_became_active_is_invalid_and_billed_to_nobody(
    point: ChargePoint,
) -> None:
    first = transaction_event("Started", 0, START, trigger="Authorized", id_token=TOKEN_UID, evse=1)
    send(point, first)
    timeout = transaction_event(
        "Ended", 1, START + 2 * MINUTE, trigger="EVConnectTimeout", stopped_reason="Timeout"
    )
    send(point, timeout)

    session = session_of(the_transaction())
    assert session.status == "INVALID"
    assert not Cdr.objects.exists()


def test_a_transaction_never_authorized_has_no_session(point: ChargePoint) -> None:
    send(point, plugged_in())
    send(point, ended(1, 5, BEGIN))

    ended_transaction = the_transaction()
    assert (ended_transaction.ended_at, ended_transaction.session) == (START + 5 * MINUTE, None)
    assert not Session.objects.exists()
    assert not Cdr.objects.exists()


def test_an_unknown_token_is_refused_and_the_next_one_starts_the_session(
    point: ChargePoint,
) -> None:
    send(point, plugged_in())

    refused = send(point, authorized(1, 1, uid="NOBODY"))
    accepted = send(point, authorized(2, 3))

    assert refused == {"idTokenInfo": {"status": "Unknown"}}
    assert accepted["idTokenInfo"]["status"] == "Accepted"
    session = session_of(the_transaction())
    assert (session.token_uid, session.start_date_time) == (TOKEN_UID, START + 3 * MINUTE)


def test_a_repeated_seq_no_is_acknowledged_and_applied_once(point: ChargePoint) -> None:
    send(point, plugged_in())
    first = send(point, authorized())
    again = send(point, authorized())
    send(point, sample(2, 10, BEGIN + 1_000))
    send(point, sample(2, 10, BEGIN + 1_000))

    assert first == again
    assert TransactionEvent.objects.count() == 3
    assert Session.objects.count() == 1
    assert session_of(the_transaction()).kwh == Decimal(1)


def test_a_replay_out_of_order_is_one_session_with_its_periods_in_order(
    point: ChargePoint,
) -> None:
    replay = [
        plugged_in(),
        authorized(),
        charging(2, 2, BEGIN),
        charging(3, 22, BEGIN + 3_600, state="SuspendedEV"),
        ended(4, 30, BEGIN + 3_600),
    ]
    received = START + 2 * 60 * MINUTE  # back online two hours later
    for index in (0, 4, 3, 1, 2):  # the Ended before the Updated it ends
        send(point, replay[index], received + index * SECOND)

    session = session_of(the_transaction())
    assert Session.objects.count() == 1
    assert (session.status, session.kwh) == ("COMPLETED", Decimal("3.6"))
    assert [start for start, _ in periods(session)] == [
        START + MINUTE,
        START + 2 * MINUTE,
        START + 22 * MINUTE,
    ]
    assert cdr_of(session).total_energy == Decimal("3.6")


def test_a_started_after_its_updated_still_counts_from_the_begin_value(
    point: ChargePoint,
) -> None:
    later = START + 2 * 60 * MINUTE
    send(point, sample(1, 10, BEGIN + 1_000), later)
    started = plugged_in()
    started["idToken"] = {"idToken": TOKEN_UID, "type": "ISO14443"}
    send(point, started, later + SECOND)
    send(point, ended(2, 20, BEGIN + 2_000), later + 2 * SECOND)

    session = session_of(the_transaction())
    assert (session.start_date_time, session.kwh) == (START, Decimal(2))


def test_an_ended_waits_for_a_gap_then_the_task_applies_it(
    point: ChargePoint, settings: Any
) -> None:
    settings.OCPP_TRANSACTION_REORDER_SECONDS = 180
    send(point, plugged_in())
    send(point, authorized())
    received = START + 30 * MINUTE + SECOND
    send(point, ended(5, 30, BEGIN + 3_000), received)  # 2, 3 and 4 were dropped

    waiting = the_transaction()
    assert (waiting.ended_at, session_of(waiting).status) == (None, "ACTIVE")
    transactions.apply_released(received + timedelta(seconds=179))
    assert the_transaction().ended_at is None

    transactions.apply_released(received + timedelta(seconds=180))

    session = session_of(the_transaction())
    assert (session.status, session.kwh) == ("COMPLETED", Decimal(3))


def test_the_beat_task_releases_what_waited_long_enough(point: ChargePoint, settings: Any) -> None:
    settings.OCPP_TRANSACTION_REORDER_SECONDS = 0
    send(point, plugged_in())
    send(point, authorized())
    send(point, ended(5, 30, BEGIN + 3_000), START + 30 * MINUTE)  # applied at once: no wait

    check_transactions()

    assert session_of(the_transaction()).status == "COMPLETED"


def test_power_withheld_by_the_evse_is_charging_time_not_parking(point: ChargePoint) -> None:
    send(point, plugged_in())
    send(point, authorized())
    send(point, charging(2, 2, BEGIN))
    send(point, charging(3, 12, BEGIN + 1_800, state="SuspendedEVSE"))  # smart charging at 0
    send(point, charging(4, 22, BEGIN + 1_800))
    send(point, ended(5, 32, BEGIN + 3_600))

    session = session_of(the_transaction())
    assert [(start, "TIME" in dims) for start, dims in periods(session)] == [
        (START + MINUTE, False),
        (START + 2 * MINUTE, True),
    ]


# --- totalCost in the answer to Ended -------------------------------------------------------


def charged_until_ended() -> list[dict[str, Any]]:
    return [
        plugged_in(),
        authorized(),
        charging(2, 2, BEGIN),
        charging(3, 22, BEGIN + 3_600, state="SuspendedEV"),
        ended(4, 30, BEGIN + 3_600),
    ]


def test_the_answer_to_ended_carries_the_cdr_s_total_cost_incl_vat(point: ChargePoint) -> None:
    *before, last = charged_until_ended()
    answers = [send(point, payload) for payload in before]

    answer = send(point, last)

    cdr = cdr_of(session_of(the_transaction()))
    assert cdr.total_cost_incl_vat is not None
    assert cdr.total_cost_incl_vat > cdr.total_cost_excl_vat > 0  # VAT included
    assert answer == {"totalCost": float(cdr.total_cost_incl_vat)}
    assert Decimal(str(answer["totalCost"])) == cdr.total_cost_incl_vat  # exact in its text
    assert all("totalCost" not in earlier for earlier in answers)  # only once it ended
    assert send(point, last) == answer  # a repeated Ended: the same total


def test_an_ended_applied_later_answers_no_total_cost_yet(
    point: ChargePoint, settings: Any
) -> None:
    settings.OCPP_TRANSACTION_REORDER_SECONDS = 180
    send(point, plugged_in())
    send(point, authorized())

    answer = send(point, ended(5, 30, BEGIN + 3_000))  # 2, 3 and 4 were dropped: it waits

    assert answer == {}
    assert the_transaction().ended_at is None


def test_an_ended_without_a_session_answers_no_total_cost(point: ChargePoint) -> None:
    send(point, plugged_in())

    assert send(point, ended(1, 5, BEGIN)) == {}
    assert the_transaction().ended_at == START + 5 * MINUTE


def test_a_session_without_a_tariff_answers_what_its_cdr_bills_nothing(
    point: ChargePoint,
) -> None:
    Connector.objects.update(tariff_ids=[])  # no tariff: the CDR costs 0 (cdrs.pricing)
    *before, last = charged_until_ended()
    for payload in before:
        send(point, payload)

    answer = send(point, last)

    cdr = cdr_of(session_of(the_transaction()))
    assert cdr.total_cost_incl_vat == Decimal(0)
    assert answer == {"totalCost": 0.0}


def test_a_session_that_never_became_active_answers_no_total_cost(point: ChargePoint) -> None:
    started = transaction_event(
        "Started", 0, START, trigger="Authorized", id_token=TOKEN_UID, evse=1
    )
    send(point, started)
    timeout = transaction_event(
        "Ended", 1, START + 2 * MINUTE, trigger="EVConnectTimeout", stopped_reason="Timeout"
    )

    answer = send(point, timeout)

    assert session_of(the_transaction()).status == "INVALID"  # never billed: no CDR
    assert "totalCost" not in answer
