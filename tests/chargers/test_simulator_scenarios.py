"""Each scenario (`simulate_chargers --scenario`) produces its misbehaviour on the wire, and
nothing else: the messages stay schema-valid (no CALLERROR from our central system)."""

from collections.abc import Iterator
from typing import Any

import pytest

from chargers.simulator.scenarios import Behaviour, Scenario
from chargers.simulator.station import Options
from tests.chargers.central_system import CentralSystem, Frame, run_once, station_spec

TRANSACTION_MESSAGES = {"StartTransaction", "MeterValues", "StopTransaction", "TransactionEvent"}


@pytest.fixture
def central() -> Iterator[CentralSystem]:
    central = CentralSystem().start()
    yield central
    central.stop()


def charge(
    central: CentralSystem, version: str, scenario: Scenario, *, stations: int = 1, **kw: Any
) -> list[str]:
    """A finite run with a token: its lines. Fails the test on a CALLERROR or a give-up."""
    options = Options(Behaviour.of(scenario), meter_interval=0.1, duration=1.0)
    specs = [station_spec(central, f"SIM-{n:04d}") for n in range(1, stations + 1)]
    lines, failures = run_once(specs, version, options, token="TOKEN-1", **kw)
    assert failures == []
    assert central.errors == []
    return lines


def transaction_frames(central: CentralSystem) -> list[Frame]:
    return [f for f in central.received() if f.action in TRANSACTION_MESSAGES]


def timestamps(value: Any) -> Iterator[str]:
    """Every `timestamp` in a payload, however deep."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "timestamp":
                yield inner
            else:
                yield from timestamps(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from timestamps(inner)


def energy_values(payload: dict[str, Any]) -> list[tuple[float, str]]:
    """(value, unit) of the energy register in a MeterValues / StopTransaction /
    TransactionEvent payload."""
    values = payload.get("meterValue") or payload.get("transactionData") or []
    return [
        (float(v["value"]), v.get("unit") or v["unitOfMeasure"]["unit"])
        for value in values
        for v in value["sampledValue"]
        if v["measurand"] == "Energy.Active.Import.Register"
    ]


def meter_stamps(central: CentralSystem) -> list[str]:
    """The timestamp of each MeterValues (1.6) as received."""
    return [p["meterValue"][0]["timestamp"] for p in central.payloads("MeterValues")]


def samples_taken(lines: list[str]) -> int:
    return sum(" Wh, " in line for line in lines)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_duplicates_sends_every_transaction_message_twice(
    central: CentralSystem, version: str
) -> None:
    charge(central, version, Scenario.DUPLICATES)

    frames = transaction_frames(central)
    assert len(frames) >= 8
    assert [f.payload for f in frames[::2]] == [f.payload for f in frames[1::2]]
    assert [f.action for f in frames[::2]] == [f.action for f in frames[1::2]]
    assert len(central.received("Authorize")) == 1  # only transaction messages are doubled
    assert len(central.received("BootNotification")) == 1


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_clock_1970_stamps_everything_in_january_1970(central: CentralSystem, version: str) -> None:
    charge(central, version, Scenario.CLOCK_1970)

    stamps = [stamp for frame in central.received() for stamp in timestamps(frame.payload)]
    assert len(stamps) >= 10
    assert all(stamp.startswith("1970-01-01T00:00:0") for stamp in stamps)
    assert stamps == sorted(stamps)  # it counts on from the epoch


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_wh_as_kwh_labels_watt_hours_kilowatt_hours(central: CentralSystem, version: str) -> None:
    charge(central, version, Scenario.WH_AS_KWH)

    values = [v for f in transaction_frames(central) for v in energy_values(f.payload)]
    assert len(values) >= 5
    assert {unit for _, unit in values} == {"kWh"}
    assert all(value > 1_000_000 for value, _ in values)  # Wh of an odometer, not kWh


def test_offline_replay_on_1_6_replays_the_queue_in_order(central: CentralSystem) -> None:
    lines = charge(central, "1.6", Scenario.OFFLINE_REPLAY)

    stamps = meter_stamps(central)
    assert stamps == sorted(stamps)
    assert len(stamps) == samples_taken(lines)  # none lost
    assert central.connections["SIM-0001"] == 2
    replayed = [f for f in central.received("MeterValues") if f.connection == 2]
    back = next(f for f in central.received("StatusNotification") if f.connection == 2)
    assert replayed[0].payload["meterValue"][0]["timestamp"] < back.payload["timestamp"]
    assert replayed[0].at > back.at  # queued offline, sent once back
    assert [f.action for f in transaction_frames(central)][-1] == "StopTransaction"
    assert len(central.received("BootNotification")) == 1  # offline is not a reboot
    assert any("offline for 0.3 s" in line for line in lines)


def test_offline_replay_on_2_0_1_marks_what_was_queued_offline(central: CentralSystem) -> None:
    lines = charge(central, "2.0.1", Scenario.OFFLINE_REPLAY)

    events = central.received("TransactionEvent")
    assert [e.payload["seqNo"] for e in events] == list(range(len(events)))
    assert len(events) == samples_taken(lines) + 2  # Started, Updated per sample, Ended
    offline = [e for e in events if e.payload.get("offline")]
    assert offline
    assert {e.connection for e in offline} == {2}
    assert all(e.payload["eventType"] == "Updated" for e in offline)
    assert events[-1].payload["eventType"] == "Ended"


def test_out_of_order_on_1_6_replays_the_queue_shuffled(central: CentralSystem) -> None:
    lines = charge(central, "1.6", Scenario.OUT_OF_ORDER)

    stamps = meter_stamps(central)
    assert stamps != sorted(stamps)
    assert len(set(stamps)) == len(stamps) == samples_taken(lines)  # shuffled, none lost
    assert any("replaying" in line and "out of order" in line for line in lines)


def test_out_of_order_on_2_0_1_keeps_each_seq_no(central: CentralSystem) -> None:
    lines = charge(central, "2.0.1", Scenario.OUT_OF_ORDER)

    seq_nos = [p["seqNo"] for p in central.payloads("TransactionEvent")]
    assert seq_nos != sorted(seq_nos)
    assert sorted(seq_nos) == list(range(samples_taken(lines) + 2))
    by_seq_no = {p["seqNo"]: p for p in central.payloads("TransactionEvent")}
    stamps = [by_seq_no[n]["timestamp"] for n in sorted(by_seq_no)]
    assert stamps == sorted(stamps)  # numbered when queued, in the charge point's time


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_reboot_boots_mid_transaction_and_never_stops_it(
    central: CentralSystem, version: str
) -> None:
    lines = charge(central, version, Scenario.REBOOT)

    boots = central.received("BootNotification")
    assert [b.connection for b in boots] == [1, 2]
    frames = transaction_frames(central)
    assert frames[0].action in ("StartTransaction", "TransactionEvent")
    assert frames[0].at < boots[1].at
    stops = [
        f for f in frames if f.action == "StopTransaction" or f.payload.get("eventType") == "Ended"
    ]
    assert stops == []
    assert any("transaction forgotten by the reboot" in line for line in lines)
    last_statuses = central.received("StatusNotification")[-1].payload
    assert last_statuses.get("status", last_statuses.get("connectorStatus")) == "Available"


def test_reconnect_storm_brings_everyone_back_within_the_window(central: CentralSystem) -> None:
    lines = charge(central, "1.6", Scenario.RECONNECT_STORM, stations=3, storm_window=0.8)

    boots = central.received("BootNotification")
    assert sorted(b.identity for b in boots) == sorted(["SIM-0001", "SIM-0002", "SIM-0003"] * 2)
    again = [b.at for b in boots if b.connection == 2]
    assert max(again) - min(again) <= 0.8 + 1.0  # the window, and a busy machine
    for identity in ["SIM-0001", "SIM-0002", "SIM-0003"]:
        statuses = central.received("StatusNotification", identity)
        assert [f.payload["connectorId"] for f in statuses if f.connection == 2][:2] == [0, 1]
    assert any("reconnect storm: 3 charge points" in line for line in lines)
