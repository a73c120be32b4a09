"""`python manage.py price_cdr --tariff TARIFF.json --cdr CDR.json [--time-zone ZONE]`."""

import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from ocpi import json
from tests.tariffs.engine.builders import VECTORS, vector

CDR_EXAMPLE = str(VECTORS / "cdr_example.json")
ROOT = Path(__file__).resolve().parents[3]


def run(*args: str) -> tuple[dict[str, Any], str]:
    out, err = StringIO(), StringIO()
    call_command("price_cdr", *args, stdout=out, stderr=err)
    printed: dict[str, Any] = json.loads(out.getvalue())
    return printed, err.getvalue()


def write(folder: Path, name: str, content: object) -> str:
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


@pytest.fixture
def cdr_tariff(tmp_path: Path) -> str:
    """The tariff embedded in the spec's CDR example: TIME 2.00/h, 10 % VAT, per 5 minutes."""
    return write(tmp_path, "tariff.json", vector("cdr_example.json")["tariffs"][0])


def money(excl: str, incl: str) -> dict[str, Decimal]:
    return {"excl_vat": Decimal(excl), "incl_vat": Decimal(incl)}


def test_t19_prices_the_spec_cdr_example(cdr_tariff: str) -> None:
    printed, warnings = run("--tariff", cdr_tariff, "--cdr", CDR_EXAMPLE)

    assert printed == {
        "currency": "EUR",
        "total_cost": money("4.00", "4.40"),
        "total_fixed_cost": money("0", "0"),
        "total_energy": Decimal(0),
        "total_energy_cost": money("0", "0"),
        "total_time": Decimal("1.9731"),
        "total_time_cost": money("4.00", "4.40"),
        "total_parking_time": Decimal(0),
        "total_parking_cost": money("0", "0"),
        "total_reservation_cost": money("0", "0"),
    }
    assert "reading the tariff's local times as UTC" in warnings


def test_the_output_keeps_four_decimals(cdr_tariff: str) -> None:
    out = StringIO()

    call_command("price_cdr", "--tariff", cdr_tariff, "--cdr", CDR_EXAMPLE, stdout=out)

    assert out.getvalue().startswith(
        '{"currency":"EUR","total_cost":{"excl_vat":4.0000,"incl_vat":4.4000}'
    )


def test_a_time_zone_option_silences_the_warning(cdr_tariff: str) -> None:
    printed, warnings = run(
        "--tariff", cdr_tariff, "--cdr", CDR_EXAMPLE, "--time-zone", "Europe/Brussels"
    )

    assert printed["total_cost"] == money("4.00", "4.40")
    assert warnings == ""


def test_the_time_zone_of_the_cdr_location_is_used(tmp_path: Path) -> None:
    """Night time 22:00–06:00 local: 20:30–21:30 UTC is 22:30–23:30 in Brussels (summer)."""
    night = {
        "id": "N",
        "currency": "EUR",
        "elements": [
            {
                "price_components": [{"type": "TIME", "price": 3, "step_size": 1}],
                "restrictions": {"start_time": "22:00", "end_time": "06:00"},
            }
        ],
    }
    cdr = {
        "cdr_location": {"time_zone": "Europe/Brussels"},
        "end_date_time": "2024-06-03T21:30:00Z",
        "charging_periods": [
            {
                "start_date_time": "2024-06-03T20:30:00Z",
                "dimensions": [{"type": "TIME", "volume": 1}],
            }
        ],
    }

    printed, warnings = run(
        "--tariff", write(tmp_path, "t.json", night), "--cdr", write(tmp_path, "c.json", cdr)
    )

    assert printed["total_cost"] == money("3", "3")
    assert warnings == ""


def test_a_session_with_only_charging_periods_can_be_priced(tmp_path: Path) -> None:
    """A running Session: no end_date_time, the last period's volumes say how long it ran."""
    running = {
        "start_date_time": "2024-06-03T08:00:00Z",
        "charging_periods": [
            {
                "start_date_time": "2024-06-03T08:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": 20}, {"type": "TIME", "volume": 1}],
            }
        ],
    }
    tariff = write(tmp_path, "t.json", vector("tariff_9_025kwh_start.json"))

    printed, _ = run(
        "--tariff", tariff, "--cdr", write(tmp_path, "s.json", running), "--time-zone", "UTC"
    )

    assert printed["total_cost"] == money("5.50", "6.10")
    assert printed["total_energy"] == Decimal(20)


def test_periods_are_printed_on_request(cdr_tariff: str) -> None:
    printed, _ = run(
        "--tariff", cdr_tariff, "--cdr", CDR_EXAMPLE, "--time-zone", "UTC", "--periods"
    )

    assert printed["charging_periods"] == [
        {
            "start_date_time": "2015-06-29T21:39:09Z",
            "dimensions": [{"type": "TIME", "volume": Decimal("1.9731")}],
            "tariff_id": "12",
        }
    ]


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.json")

    with pytest.raises(CommandError, match=r"Cannot read the tariff file .*nope\.json"):
        run("--tariff", missing, "--cdr", CDR_EXAMPLE)


def test_invalid_json_is_a_clear_error(tmp_path: Path, cdr_tariff: str) -> None:
    broken = write(tmp_path, "broken.json", '{"charging_periods": [')

    with pytest.raises(CommandError, match=r"The CDR file .*broken\.json is not valid JSON"):
        run("--tariff", cdr_tariff, "--cdr", broken)


def test_an_invalid_tariff_is_a_clear_error(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", {"id": "X", "currency": "EUR", "elements": []})

    with pytest.raises(
        CommandError, match=r"Invalid tariff in .*bad\.json: elements: a tariff needs"
    ):
        run("--tariff", bad, "--cdr", CDR_EXAMPLE)


def test_an_unknown_time_zone_is_a_clear_error(cdr_tariff: str) -> None:
    with pytest.raises(CommandError, match="Unknown time zone 'Mars/Olympus'"):
        run("--tariff", cdr_tariff, "--cdr", CDR_EXAMPLE, "--time-zone", "Mars/Olympus")


def test_a_cdr_that_cannot_be_laid_out_is_a_clear_error(tmp_path: Path, cdr_tariff: str) -> None:
    endless = write(
        tmp_path,
        "endless.json",
        {"charging_periods": [{"start_date_time": "2024-06-03T08:00:00Z", "dimensions": []}]},
    )

    with pytest.raises(CommandError, match="Invalid CDR in .*end_date_time is missing"):
        run("--tariff", cdr_tariff, "--cdr", endless)


def test_the_command_line_prints_the_totals(cdr_tariff: str) -> None:
    """As an operator runs it: manage.py in its own process."""
    ran = subprocess.run(
        [sys.executable, "manage.py", "price_cdr", "--tariff", cdr_tariff, "--cdr", CDR_EXAMPLE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert json.loads(ran.stdout)["total_cost"] == money("4.00", "4.40")
    assert "reading the tariff's local times as UTC" in ran.stderr
