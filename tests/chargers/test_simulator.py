"""Simulated charge points against a central system of our own on the ocpp library's server
side: what arrives is schema-valid (the library checks every CALL; an invalid one would be
answered with a CALLERROR, recorded in `errors`) and is what a real charge point sends."""

import base64
import time
from collections.abc import Iterator

import pytest

from chargers.simulator.station import Options
from tests.chargers.central_system import (
    CentralSystem,
    run_once,
    running,
    station_spec,
)

FAST = Options(meter_interval=0.1, duration=0.5)


@pytest.fixture
def central() -> Iterator[CentralSystem]:
    central = CentralSystem().start()
    yield central
    central.stop()


def connector_statuses(central: CentralSystem, connector: int) -> list[str]:
    statuses = central.payloads("StatusNotification")
    return [p["status"] for p in statuses if p["connectorId"] == connector]


def test_a_tapped_token_charges_on_ocpp_1_6(central: CentralSystem) -> None:
    lines, failures = run_once([station_spec(central)], "1.6", FAST, token="TOKEN-1")

    assert failures == []
    assert central.errors == []
    actions = [f.action for f in central.received() if f.action != "StatusNotification"]
    samples = actions.count("MeterValues")
    assert actions == [
        "BootNotification",
        "Authorize",
        "StartTransaction",
        *["MeterValues"] * samples,
        "StopTransaction",
    ]
    assert samples >= 3
    assert connector_statuses(central, 0) == ["Available"]
    assert connector_statuses(central, 1) == [
        "Available",
        "Preparing",
        "Charging",
        "Finishing",
        "Available",
    ]
    start = central.payloads("StartTransaction")[0]
    stop = central.payloads("StopTransaction")[0]
    registers = [
        float(value["value"])
        for payload in central.payloads("MeterValues")
        for value in payload["meterValue"][0]["sampledValue"]
        if value["measurand"] == "Energy.Active.Import.Register"
    ]
    assert start["idTag"] == "TOKEN-1"
    assert start["meterStart"] > 1_000_000  # an odometer, not zero
    # meterStart and meterStop are the register rounded to whole Wh (1.6: integers)
    assert start["meterStart"] - 0.5 <= registers[0] < registers[-1] <= stop["meterStop"] + 0.5
    assert registers == sorted(registers)
    assert {p["transactionId"] for p in central.payloads("MeterValues")} == {1001}
    assert stop["transactionId"] == 1001
    assert stop["reason"] == "Local"
    sampled = central.payloads("MeterValues")[0]["meterValue"][0]["sampledValue"]
    assert [(v["measurand"], v["unit"]) for v in sampled] == [
        ("Energy.Active.Import.Register", "Wh"),
        ("Power.Active.Import", "W"),
        ("Current.Import", "A"),
        ("SoC", "Percent"),
    ]
    assert 10_000 < float(sampled[1]["value"]) <= 11_040  # 11 kW AC
    assert any("transaction stopped (Local)" in line for line in lines)


def test_a_tapped_token_charges_on_ocpp_2_0_1(central: CentralSystem) -> None:
    _, failures = run_once([station_spec(central)], "2.0.1", FAST, token="TOKEN-1")

    assert failures == []
    assert central.errors == []
    events = central.payloads("TransactionEvent")
    kinds = [e["eventType"] for e in events]
    assert kinds == ["Started", *["Updated"] * (len(events) - 2), "Ended"]
    assert len(events) >= 5
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert len({e["transactionInfo"]["transactionId"] for e in events}) == 1
    assert events[0]["idToken"] == {"idToken": "TOKEN-1", "type": "ISO14443"}
    assert events[0]["triggerReason"] == "Authorized"
    assert events[0]["evse"] == {"id": 1, "connectorId": 1}
    assert events[-1]["triggerReason"] == "StopAuthorized"
    assert events[-1]["transactionInfo"]["stoppedReason"] == "Local"
    assert not any("offline" in e for e in events)
    registers = [
        v["value"]
        for e in events
        for v in e["meterValue"][0]["sampledValue"]
        if v["measurand"] == "Energy.Active.Import.Register"
    ]
    assert registers == sorted(registers)
    assert registers[0] < registers[-1]
    assert {
        v["unitOfMeasure"]["unit"]
        for v in events[1]["meterValue"][0]["sampledValue"]
        if v["measurand"] == "Energy.Active.Import.Register"
    } == {"Wh"}
    statuses = [p["connectorStatus"] for p in central.payloads("StatusNotification")]
    assert statuses[0] == "Available"
    assert "Occupied" in statuses
    assert statuses[-1] == "Available"
    assert central.payloads("BootNotification")[0]["reason"] == "PowerUp"
    assert central.payloads("Authorize") == [{"idToken": events[0]["idToken"]}]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_an_invalid_token_does_not_charge(central: CentralSystem, version: str) -> None:
    lines, failures = run_once([station_spec(central)], version, FAST, token="STOLEN")

    assert failures == []
    assert central.errors == []
    assert [f.action for f in central.received() if f.action != "StatusNotification"] == [
        "BootNotification",
        "Authorize",
    ]
    assert any("EVSE 1: STOLEN not authorized (Invalid)" in line for line in lines)


def test_heartbeats_at_the_interval_answered() -> None:
    central = CentralSystem(heartbeat_interval=1).start()
    try:
        with running([station_spec(central)], "2.0.1", FAST):
            central.wait_for(lambda: len(central.received("Heartbeat")) >= 2, "two heartbeats")
        beats = central.received("Heartbeat")
        assert 0.8 < beats[1].at - beats[0].at < 2.5  # every second, give or take a busy machine
        assert central.errors == []
    finally:
        central.stop()


def test_every_connector_reports_its_status_at_boot(central: CentralSystem) -> None:
    run_once([station_spec(central, evses=3)], "1.6", FAST)

    assert [(p["connectorId"], p["status"]) for p in central.payloads("StatusNotification")] == [
        (0, "Available"),
        (1, "Available"),
        (2, "Available"),
        (3, "Available"),
    ]
    assert len(central.received("Heartbeat")) == 1  # a finite run's part without a token


def test_basic_auth_carries_the_identity_and_password() -> None:
    central = CentralSystem(passwords={"SIM-0001": "a-long-enough-password"}).start()
    try:
        spec = station_spec(central, password="a-long-enough-password")
        _, failures = run_once([spec], "1.6", FAST)
    finally:
        central.stop()

    assert failures == []
    expected = base64.b64encode(b"SIM-0001:a-long-enough-password").decode()
    assert central.authorizations == [f"Basic {expected}"]
    assert [f.action for f in central.received()][0] == "BootNotification"


def test_a_refused_password_makes_it_give_up() -> None:
    central = CentralSystem(passwords={"SIM-0001": "another-password-entirely"}).start()
    try:
        lines, failures = run_once([station_spec(central)], "1.6", FAST, token="TOKEN-1")
    finally:
        central.stop()

    assert failures == ["SIM-0001: refused with HTTP 401"]
    assert len(central.authorizations) == 1  # not retried: it would be refused again
    assert central.frames == []
    assert any("refused with HTTP 401: not retrying" in line for line in lines)


def test_a_busy_gateway_is_retried_when_its_retry_after_says(central: CentralSystem) -> None:
    # Its own back-off would take 1 + 2 + 4 + 8 s over four refusals; told 0 s, it is back
    # within a second (its jitter) each time.
    central.busy_answers = ["0", "0", "0", "0"]
    started = time.monotonic()
    with running([station_spec(central)], "1.6", FAST) as fleet:
        central.wait_for(lambda: central.received("BootNotification"), "a boot")
    waited = time.monotonic() - started

    assert len(central.authorizations) == 5  # four refusals, then admitted
    assert waited < 4 * 1.0 + 1.0  # each after < 1 s (0 s + jitter), no back-off of 1+2+4+8 s
    assert sum("told to retry in 0 s" in line for line in fleet.lines) == 4


def test_a_lost_connection_is_made_again_without_a_boot(central: CentralSystem) -> None:
    with running([station_spec(central)], "1.6", FAST):
        # Both of the first connection's statuses (connectors 0 and 1) before it is cut: cut
        # between them, the second would be sent on the next connection instead.
        central.wait_for(
            lambda: len(central.received("StatusNotification")) == 2, "the first statuses"
        )
        central.run(central.charge_points["SIM-0001"]._connection.close())
        central.wait_for(lambda: central.connections["SIM-0001"] == 2, "a second connection")
        central.wait_for(lambda: len(connector_statuses(central, 1)) == 2, "statuses again")

    assert len(central.received("BootNotification")) == 1
    assert [f.connection for f in central.received("StatusNotification")] == [1, 1, 2, 2]


def test_nobody_listening_is_retried_until_stopped() -> None:
    central = CentralSystem().start()
    url = central.url
    central.stop()  # the port is free again: connections are refused
    with running([station_spec(url)], "1.6", FAST) as fleet:
        time.sleep(1.5)

    assert fleet.failures == []
    assert sum("cannot connect" in line for line in fleet.lines) >= 1


def test_a_pending_boot_is_asked_again_after_the_interval() -> None:
    central = CentralSystem(heartbeat_interval=1, boot_answers=("Pending", "Accepted")).start()
    try:
        lines, failures = run_once([station_spec(central)], "2.0.1", FAST, token="TOKEN-1")
    finally:
        central.stop()

    boots = central.received("BootNotification")
    assert failures == []
    assert len(boots) == 2
    assert 0.8 < boots[1].at - boots[0].at < 2.5
    assert central.received()[1].action == "BootNotification"  # nothing else while Pending
    assert central.received("TransactionEvent")
    assert any("BootNotification: Pending" in line for line in lines)


def test_a_finite_run_gives_up_on_a_charge_point_never_accepted() -> None:
    central = CentralSystem(heartbeat_interval=1, boot_answers=("Rejected",)).start()
    try:
        lines, failures = run_once(
            [station_spec(central)], "1.6", FAST, token="TOKEN-1", up_timeout=1.5
        )
    finally:
        central.stop()

    assert failures == ["SIM-0001: not accepted within 1.5 s"]
    assert {f.action for f in central.received()} == {"BootNotification"}
    assert len(central.received("BootNotification")) == 2  # asked again after the interval


def test_a_boot_answered_with_a_callerror_is_retried_with_back_off() -> None:
    central = CentralSystem(boot_answers=("CALLERROR",)).start()
    try:
        with running([station_spec(central)], "1.6", FAST) as fleet:
            central.wait_for(lambda: len(central.received("BootNotification")) == 3, "3 boots")
    finally:
        central.stop()

    first, second, third = (b.at for b in central.received("BootNotification"))
    assert third - second > 1.5 * (second - first)  # 1 s, then 2 s
    assert any("connection closed after <InternalError" in line for line in fleet.lines)
