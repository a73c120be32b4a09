"""`manage.py simulate_chargers` needs no other set-up: without --url it provisions charge
points on our free EVSEs (or takes its own from an earlier run, with new passwords) and
connects to OCPP_BASE_URL; with --url it only connects."""

import base64
import signal
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from chargers.connections import password_matches
from chargers.models import ChargePoint, ChargePointEvse
from chargers.provisioning import charge_point_provision
from tests.chargers.central_system import CentralSystem
from tests.chargers.conftest import estate_location, evse

pytestmark = pytest.mark.django_db

FAST = ["--once", "--meter-interval", "0.1", "--duration", "0.3"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def central(settings: Any) -> Iterator[CentralSystem]:
    central = CentralSystem().start()
    settings.OCPP_BASE_URL = central.url
    yield central
    central.stop()


@pytest.fixture
def estate(our_parties: Any) -> None:
    estate_location("LOC1", "E1", "E2", "E3")
    estate_location("LOC2", "F1", status="REMOVED")
    estate_location("LOC3", "G1")


def simulate(*args: str) -> str:
    out = StringIO()
    call_command("simulate_chargers", *args, stdout=out)
    return out.getvalue()


def sent_passwords(central: CentralSystem) -> dict[str, str]:
    """identity → the password of its last handshake."""
    pairs = [base64.b64decode(a.split()[1]).decode() for a in central.authorizations if a]
    return dict(pair.split(":", 1) for pair in pairs)


def test_it_provisions_twin_charge_points_on_free_evses_and_charges(
    central: CentralSystem, estate: None
) -> None:
    out = simulate("--count", "3", "--token", "TOKEN-1", *FAST)

    assert list(ChargePoint.objects.values_list("identity", "ocpp_version")) == [
        ("SIM-0001", "1.6"),
        ("SIM-0002", "1.6"),
        ("SIM-0003", "1.6"),
    ]
    mapping = {
        (link.charge_point.identity, link.ocpp_evse_id): link.evse
        for link in ChargePointEvse.objects.select_related("charge_point", "evse")
    }
    assert mapping == {
        ("SIM-0001", 1): evse("LOC1", "E1"),
        ("SIM-0001", 2): evse("LOC1", "E2"),
        ("SIM-0002", 1): evse("LOC1", "E3"),  # REMOVED F1 is left out
        ("SIM-0003", 1): evse("LOC3", "G1"),
    }
    passwords = sent_passwords(central)
    for charge_point in ChargePoint.objects.all():
        assert password_matches(charge_point.password_hash, passwords[charge_point.identity])
    assert sorted(f.identity for f in central.received("StartTransaction")) == [
        "SIM-0001",
        "SIM-0002",
        "SIM-0003",
    ]
    assert central.errors == []
    assert f"SIM-0001: {central.url}/ocpp/SIM-0001 (OCPP ids 1, 2)" in out
    assert "transaction stopped (Local)" in out


def test_a_second_run_takes_its_charge_points_again_with_new_passwords(
    central: CentralSystem, estate: None
) -> None:
    simulate("--count", "1", *FAST)
    first = sent_passwords(central)["SIM-0001"]

    simulate("--count", "1", "--ocpp", "2.0.1", *FAST)

    again = sent_passwords(central)["SIM-0001"]
    charge_point = ChargePoint.objects.get()
    assert again != first
    assert password_matches(charge_point.password_hash, again)
    assert charge_point.ocpp_version == "2.0.1"
    assert central.payloads("BootNotification", "SIM-0001")[1]["reason"] == "PowerUp"  # 2.0.1


def test_an_evse_of_another_charge_point_is_left_alone(
    central: CentralSystem, estate: None
) -> None:
    charge_point_provision(identity="REAL-1", evse_refs=["E1", "E2"])

    simulate("--count", "5", *FAST)

    assert list(
        ChargePointEvse.objects.filter(charge_point__identity__startswith="SIM-").values_list(
            "charge_point__identity", "evse__uid"
        )
    ) == [("SIM-0001", "E3"), ("SIM-0002", "G1")]


def test_fewer_free_evses_than_asked_is_said(central: CentralSystem, estate: None) -> None:
    out = simulate("--count", "9", *FAST)

    assert "Only 3 charge points: our estate has no more free EVSEs." in out
    assert ChargePoint.objects.count() == 3


def test_no_free_evse_is_a_clear_error(central: CentralSystem, our_parties: Any) -> None:
    with pytest.raises(CommandError, match="No free EVSE to put a simulated charge point on"):
        simulate(*FAST)

    assert not ChargePoint.objects.exists()


def test_with_url_nothing_is_provisioned(central: CentralSystem, estate: None) -> None:
    simulate(
        "--url",
        central.url,
        "--count",
        "2",
        "--evses",
        "2",
        "--password",
        "pw-of-sixteen-chars",
        *FAST,
    )

    assert not ChargePoint.objects.exists()
    assert sent_passwords(central) == {
        "SIM-0001": "pw-of-sixteen-chars",
        "SIM-0002": "pw-of-sixteen-chars",
    }
    assert sorted(
        (f.identity, f.payload["connectorId"]) for f in central.received("StatusNotification")
    ) == [
        ("SIM-0001", 0),
        ("SIM-0001", 1),
        ("SIM-0001", 2),
        ("SIM-0002", 0),
        ("SIM-0002", 1),
        ("SIM-0002", 2),
    ]


def test_charge_points_that_give_up_fail_the_command(settings: Any, estate: None) -> None:
    central = CentralSystem(passwords={}).start()
    try:
        with pytest.raises(CommandError, match="SIM-0001: refused with HTTP 401"):
            simulate("--url", central.url, "--identity-prefix", "SIM", *FAST)
    finally:
        central.stop()


def test_a_password_without_url_is_refused(estate: None) -> None:
    with pytest.raises(CommandError, match="--password goes with --url"):
        simulate("--password", "pw-of-sixteen-chars", *FAST)


def test_an_identity_prefix_outside_the_ocpp_rule_is_refused(
    central: CentralSystem, estate: None
) -> None:
    with pytest.raises(CommandError, match="is not allowed"):
        simulate("--identity-prefix", "SIM:X", *FAST)

    assert not ChargePoint.objects.exists()


def test_ctrl_c_ends_the_transactions_and_stops_cleanly(central: CentralSystem) -> None:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_chargers", "--url", central.url]
        + ["--token", "TOKEN-1", "--meter-interval", "0.2", "--duration", "600"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        central.wait_for(lambda: central.received("MeterValues"), "a charge")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()

    assert process.returncode == 0, err
    assert "stopping: transactions end, queued messages go out" in out
    assert "Traceback" not in err
    assert [p["reason"] for p in central.payloads("StopTransaction")] == ["Local"]
    assert central.errors == []
