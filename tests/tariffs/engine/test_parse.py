"""Reading tariffs, CDRs and sessions into the engine (tariffs/engine/parse.py)."""

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tariffs.engine import (
    TariffError,
    TimelineError,
    price_session,
    tariff_from_ocpi,
    timeline_from_ocpi,
)
from tariffs.models import Tariff
from tariffs.selectors import tariff_get
from tariffs.services import render_tariff
from tests.tariffs.conftest import TARIFF_EXAMPLES, example
from tests.tariffs.engine.builders import BERLIN, at, charge, session, vector

ROOT = Path(__file__).resolve().parents[3]


def cdr(*periods: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"charging_periods": list(periods), **fields}


def cdr_period(start: str, **volumes: Any) -> dict[str, Any]:
    return {
        "start_date_time": start,
        "dimensions": [{"type": k, "volume": Decimal(str(v))} for k, v in volumes.items()],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", TARIFF_EXAMPLES)
def test_a_stored_tariff_reads_as_its_json(
    name: str, upsert: Callable[[dict[str, Any]], Tariff]
) -> None:
    """What TariffSerializer renders from the database is the tariff the partner sent."""
    stored = upsert(example(name))
    fresh = tariff_get(party=stored.party, tariff_id=stored.ocpi_id)
    assert fresh is not None

    assert tariff_from_ocpi(render_tariff(fresh)) == tariff_from_ocpi(example(name))


def test_the_engine_loads_without_django() -> None:
    """Pure: importing the engine pulls in neither Django nor DRF (nor any app's models)."""
    probe = (
        "import sys, tariffs.engine; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'rest_framework'}))"
    )

    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert found.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"elements": []}, "elements: a tariff needs at least one element"),
        ({"currency": None}, "currency: must be a non-empty string"),
        (
            {
                "elements": [
                    {"price_components": [{"type": "ENERGY", "price": 0.25, "step_size": 1}]}
                ]
            },
            "elements[0].price_components[0].price: read JSON with Decimal numbers",
        ),
        (
            {"elements": [{"price_components": [{"type": "KWH", "price": 1, "step_size": 1}]}]},
            "elements[0].price_components[0].type: must be one of ENERGY, FLAT, PARKING_TIME, TIME",
        ),
        (
            {"elements": [{"price_components": [{"type": "TIME", "price": 1, "step_size": 0}]}]},
            "elements[0].price_components[0].step_size: must be at least 1 for TIME",
        ),
        (
            {
                "elements": [
                    {
                        "price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}],
                        "restrictions": {"reservation": "RESERVATION"},
                    }
                ]
            },
            "elements[0]: a reservation element may only have FLAT and TIME components, not ENERGY",
        ),
        (
            {
                "elements": [
                    {
                        "price_components": [{"type": "TIME", "price": 1, "step_size": 1}],
                        "restrictions": {"start_time": "7:00"},
                    }
                ]
            },
            "elements[0].restrictions.start_time: must be HH:MM (24 h, leading zeros)",
        ),
        (
            {
                "elements": [
                    {
                        "price_components": [{"type": "TIME", "price": 1, "step_size": 1}],
                        "restrictions": {"end_date": "2024-02-30"},
                    }
                ]
            },
            "elements[0].restrictions.end_date: must be a date YYYY-MM-DD",
        ),
    ],
)
def test_an_invalid_tariff_names_the_field(change: dict[str, Any], message: str) -> None:
    payload = {**vector("tariff_8_simple_025kwh.json"), **change}

    with pytest.raises(TariffError) as raised:
        tariff_from_ocpi(payload)

    assert str(raised.value).startswith(message)


def test_a_cdr_without_end_ends_with_its_last_period() -> None:
    timeline = timeline_from_ocpi(
        cdr(
            cdr_period("2024-06-03T08:00:00Z", ENERGY=10, TIME=1),
            cdr_period("2024-06-03T09:00:00Z", PARKING_TIME="0.25"),
        )
    )

    assert timeline.end == datetime(2024, 6, 3, 9, 15, tzinfo=UTC)


def test_a_cdr_without_end_or_time_volumes_ends_after_its_total_time() -> None:
    timeline = timeline_from_ocpi(
        cdr(
            cdr_period("2024-06-03T08:00:00Z", ENERGY=10),
            start_date_time="2024-06-03T08:00:00Z",
            total_time=Decimal("1.5"),
        )
    )

    assert timeline.end == datetime(2024, 6, 3, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (cdr(cdr_period("2024-06-03T08:00:00Z", ENERGY=10)), "end_date_time is missing"),
        (
            cdr(cdr_period("2024-06-03T08:00:00+01:00", TIME=1)),
            "charging_periods[0].start_date_time: expected YYYY-MM-DDThh:mm:ss",
        ),
        (
            cdr(cdr_period("2024-06-03T08:00:00Z", WATTS=1), end_date_time="2024-06-03T09:00:00Z"),
            "charging_periods[0].dimensions[0].type: must be one of CURRENT, ENERGY",
        ),
    ],
)
def test_an_invalid_cdr_names_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(TimelineError) as raised:
        timeline_from_ocpi(data)

    assert str(raised.value).startswith(message)


def test_periods_out_of_order_are_refused() -> None:
    timeline = timeline_from_ocpi(
        cdr(
            cdr_period("2024-06-03T09:00:00Z", TIME=1),
            cdr_period("2024-06-03T08:00:00Z", TIME=1),
            end_date_time="2024-06-03T10:00:00Z",
        )
    )

    with pytest.raises(TimelineError, match="charging period 1 starts before the one before it"):
        price_session(tariff_from_ocpi(vector("tariff_1_simple_2hour.json")), timeline, BERLIN)


def test_periods_starting_together_are_one_period() -> None:
    """Two meter readings at one instant: their volumes add up."""
    simple = tariff_from_ocpi(vector("tariff_8_simple_025kwh.json"))
    doubled = timeline_from_ocpi(
        cdr(
            cdr_period("2024-06-03T08:00:00Z", ENERGY=10, TIME=1),
            cdr_period("2024-06-03T08:00:00Z", ENERGY=10),
            end_date_time="2024-06-03T09:00:00Z",
        )
    )

    cost = price_session(simple, doubled, BERLIN)

    assert (cost.total_energy, len(cost.charging_periods)) == (Decimal(20), 1)


def test_a_session_in_local_time_equals_the_same_in_utc() -> None:
    simple = tariff_from_ocpi(vector("tariff_1_simple_2hour.json"))
    local = session(at("2024-06-03 10:00"), charge(90, "10"))
    utc = session(at("2024-06-03 10:00").astimezone(UTC), charge(90, "10"))

    assert price_session(simple, local, BERLIN) == price_session(simple, utc, BERLIN)
