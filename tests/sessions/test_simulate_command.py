"""`manage.py simulate_session`: a charge through the services, pushed like any session."""

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from credentials.models import PartnerPlatform
from ocpi.time import now
from push.models import Change
from sessions.models import Session
from sessions.simulation import Charge, SimulationError
from tests.tokens.conftest import cache_token

pytestmark = pytest.mark.usefixtures("location")


def simulate(*args: str) -> str:
    out = io.StringIO()
    call_command("simulate_session", *args, stdout=out)
    return out.getvalue()


def test_a_replayed_charge_ends_now_and_reaches_the_emsp(partner_a: PartnerPlatform) -> None:
    cache_token("TOKEN1")
    before = now()

    output = simulate(
        "--evse-uid", "3256", "--token-uid", "token1", "--kwh", "11", "--power", "11",
        "--parking-minutes", "10", "--step-minutes", "15",
    )  # fmt: skip

    session = Session.objects.get()
    assert (session.status, session.kwh, session.token_uid) == ("COMPLETED", 11, "TOKEN1")
    assert session.end_date_time is not None
    assert before - timedelta(seconds=1) <= session.end_date_time <= now()
    assert session.end_date_time - session.start_date_time == timedelta(minutes=70)
    kinds = [
        sorted(d["type"] for d in p.dimensions) for p in session.charging_periods.order_by("pk")
    ]
    assert kinds == [["ENERGY", "MAX_POWER", "TIME"]] * 4 + [["ENERGY", "PARKING_TIME"]]
    # tariff 11: FLAT 0.50 + 11 kWh × 0.25 + 10 min parked, billed 15, × 2.00/h
    assert session.total_cost_excl_vat == Decimal("3.75")
    assert list(Change.objects.values_list("method", flat=True)) == ["PUT"] + ["PATCH"] * 5
    lines = output.splitlines()
    assert lines[0].startswith(f"Session {session.ocpi_id} started at LOC1/3256/1 for TOKEN1")
    assert lines[0].endswith("of eMSP DE*TNM (pushed to it)")
    assert len(lines) == 7
    assert " 2.75 kWh  total cost 1.1875 EUR " in lines[1]
    assert lines[-1] == (
        f"Session {session.ocpi_id} COMPLETED: 11 kWh in 1:00:00 charging and 0:10:00 parked, "
        "total cost 3.75 EUR (4.225 incl. VAT)"
    )


def test_by_default_11_kw_for_an_hour(our_party: Any) -> None:
    cache_token("TOKEN1")

    output = simulate("--evse-uid", "3256", "--token-uid", "TOKEN1")

    session = Session.objects.get()
    assert (session.kwh, session.charging_periods.count()) == (11, 12)
    assert "not pushed: no registered partner hosts it" in output
    assert not Change.objects.exists()


def test_live_it_takes_the_charge_s_own_time(our_party: Any) -> None:
    cache_token("TOKEN1")
    before = now()

    simulate(
        "--evse-uid", "3256", "--token-uid", "TOKEN1", "--kwh", "0.1", "--minutes", "0.01",
        "--step-minutes", "0.005", "--live",
    )  # fmt: skip

    session = Session.objects.get()
    assert session.start_date_time >= before - timedelta(milliseconds=1)
    assert session.end_date_time is not None
    assert now() - before >= timedelta(seconds=0.6)
    assert (session.kwh, session.charging_periods.count()) == (Decimal("0.1"), 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--evse-uid", "NOPE", "--token-uid", "TOKEN1"], "No EVSE NOPE at a roaming location"),
        (["--evse-uid", "3256", "--token-uid", "OTHER"], "No RFID token OTHER in our cache"),
        (["--evse-uid", "3256", "--token-uid", "TOKEN1", "--connector-id", "9"], "no connector 9"),
        (
            ["--evse-uid", "3256", "--token-uid", "TOKEN1", "--kwh", "1", "--minutes", "1",
             "--power", "1"],
            "Give at most two of --kwh, --minutes and --power",
        ),
        (["--evse-uid", "3256", "--token-uid", "TOKEN1", "--kwh", "-1"], "must be more than 0"),
        (["--evse-uid", "3256", "--token-uid", "TOKEN1", "--kwh", "x"], "Not a number: x"),
    ],
)  # fmt: skip
def test_what_it_refuses(args: list[str], message: str) -> None:
    cache_token("TOKEN1")

    with pytest.raises(CommandError, match=message):
        simulate(*args)
    assert not Session.objects.exists()


def test_an_invalid_token_does_not_charge() -> None:
    cache_token("TOKEN1", valid=False)

    with pytest.raises(CommandError, match="is not valid"):
        simulate("--evse-uid", "3256", "--token-uid", "TOKEN1")


def test_two_of_energy_duration_and_power_make_the_third() -> None:
    assert Charge.of(kwh=Decimal(22), minutes=None, power=Decimal(11), parking_minutes=Decimal(0))
    assert Charge.of(kwh=Decimal(5), minutes=Decimal(30), power=None).power == 10
    assert Charge.of(kwh=None, minutes=Decimal(30), power=Decimal(50)).kwh == 25
    assert Charge.of(kwh=Decimal(22), minutes=None, power=Decimal(11)).minutes == 120
    with pytest.raises(SimulationError, match="cannot be negative"):
        Charge.of(kwh=None, minutes=None, power=None, parking_minutes=Decimal(-1))
