"""The one-line price summary of a tariff, over the spec's tariff examples, and readable
durations (the tariff admin shows and accepts "1 h 30 min" where OCPI counts seconds)."""

from decimal import Decimal

import pytest

from tariffs.durations import parse_duration, readable_duration
from tariffs.engine import tariff_from_ocpi
from tariffs.summary import money, price_summary
from tests.tariffs.conftest import TARIFF_EXAMPLES, example

SUMMARIES = {
    "tariff_1_simple_2hour.json": "charging 2.00 EUR/h per 1 min",
    "tariff_2_alt_text.json": "charging 1.90 EUR/h per 5 min",
    "tariff_3_alt_url.json": "0.50 EUR/session + 0.25 EUR/kWh per 0.1 kWh",
    "tariff_4_complex.json": "2.50 EUR/session, charging 1.00 EUR/h per 15 min below 32 A, "
    "charging 2.00 EUR/h per 10 min Mon–Fri from 32 A, "
    "charging 1.25 EUR/h per 10 min Sat, Sun from 32 A, "
    "parking 5.00 EUR/h per 5 min Mon–Fri 09:00–18:00, "
    "parking 6.00 EUR/h per 5 min Sat 10:00–17:00",
    "tariff_5_free_of_charge.json": "free of charge",
    "tariff_6_025kwh_start_max_price.json": "0.50 EUR/session + 0.25 EUR/kWh (max 10.00 EUR)",
    "tariff_8_simple_025kwh.json": "0.25 EUR/kWh",
    "tariff_9_025kwh_start.json": "0.50 EUR/session + 0.25 EUR/kWh",
    "tariff_10_025kwh_parking_start.json": "0.50 EUR/session + 0.25 EUR/kWh + parking 2.00 EUR/h "
    "per 15 min",
    "tariff_11_not_possible_alt_text.json": "0.40 EUR/session + charging 1.90 EUR/h per 5 min",
    "tariff_12_025kwh_min_price.json": "0.25 EUR/kWh (min 0.50 EUR)",
    "tariff_13_simple_3hour_5parking.json": "charging 3.00 EUR/h per 1 min + parking 5.00 EUR/h "
    "per 5 min",
    "tariff_14_step_size.json": "charging 1.20 EUR/h per 30 min + parking 1.00 EUR/h per 15 min "
    "00:00–17:00, charging 2.40 EUR/h per 15 min + parking 1.00 EUR/h per 15 min 17:00–20:00, "
    "charging 2.40 EUR/h per 15 min 20:00–00:00",
    "tariff_15_reservation_5_euro_per_hour.json": "reservation 5.00 EUR/h per 1 min, "
    "0.50 EUR/session + 0.25 EUR/kWh",
    "tariff_16_reservation_2_euro_fee_5_euro_per_hour.json": "2.00 EUR/reservation + "
    "reservation 5.00 EUR/h per 5 min, 0.50 EUR/session + 0.25 EUR/kWh",
    "tariff_17_reservation_with_expire_fee.json": "4.00 EUR/reservation if it expires, "
    "reservation 2.00 EUR/h per 10 min, 0.50 EUR/session + 0.25 EUR/kWh",
    "tariff_18_reservation_with_expire_time.json": "reservation 6.00 EUR/h per 10 min if it "
    "expires, reservation 3.00 EUR/h per 10 min, 0.50 EUR/session + 0.25 EUR/kWh",
    "tariffrestriction_example_max_duration.json": "energy free for the first 30 min, "
    "0.25 EUR/kWh for the first 1 h, 0.40 EUR/kWh",
    "tariffrestriction_example_max_power.json": "0.20 EUR/kWh below 16 kW, "
    "0.35 EUR/kWh below 32 kW, 0.50 EUR/kWh",
}


def test_every_spec_example_has_a_summary_here() -> None:
    assert sorted(SUMMARIES) == sorted(TARIFF_EXAMPLES)


@pytest.mark.parametrize("name", sorted(SUMMARIES))
def test_summary_of_the_spec_examples(name: str) -> None:
    assert price_summary(tariff_from_ocpi(example(name))) == SUMMARIES[name]


def test_the_briefs_example_line() -> None:
    """Energy with a start fee, then parking after 2 h."""
    tariff = tariff_from_ocpi(
        {
            "id": "P",
            "currency": "EUR",
            "elements": [
                {
                    "price_components": [
                        {"type": "ENERGY", "price": Decimal("0.25"), "step_size": 1},
                        {"type": "FLAT", "price": Decimal("0.5"), "step_size": 0},
                    ]
                },
                {
                    "price_components": [
                        {"type": "PARKING_TIME", "price": Decimal(2), "step_size": 1}
                    ],
                    "restrictions": {"min_duration": 7200},
                },
            ],
        }
    )

    assert price_summary(tariff) == "0.25 EUR/kWh + 0.50 EUR/session, parking 2.00 EUR/h after 2 h"


def test_restrictions_on_dates_energy_and_one_sided_times() -> None:
    tariff = tariff_from_ocpi(
        {
            "id": "R",
            "currency": "CHF",
            "elements": [
                {
                    "price_components": [
                        {"type": "ENERGY", "price": Decimal("0.2375"), "step_size": 1}
                    ],
                    "restrictions": {
                        "start_time": "22:00",
                        "start_date": "2025-01-01",
                        "end_date": "2025-07-01",
                        "min_kwh": Decimal(5),
                        "max_kwh": Decimal("50.5"),
                        "day_of_week": ["MONDAY", "TUESDAY", "THURSDAY"],
                    },
                },
                {"price_components": [{"type": "TIME", "price": Decimal(0), "step_size": 60}]},
            ],
        }
    )

    assert price_summary(tariff) == (
        "0.2375 CHF/kWh Mon, Tue, Thu from 22:00 from 2025-01-01 before 2025-07-01 5–50.5 kWh, "
        "charging free"
    )


@pytest.mark.parametrize(
    ("amount", "text"), [("0.5", "0.50"), ("2", "2.00"), ("0.2375", "0.2375"), ("10.10", "10.10")]
)
def test_money_has_two_to_four_decimals(amount: str, text: str) -> None:
    assert money(Decimal(amount)) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (45, "45 s"), (60, "1 min"), (90, "1 min 30 s"), (900, "15 min"),
     (5400, "1 h 30 min"), (7200, "2 h"), (86400, "24 h")],
)  # fmt: skip
def test_readable_durations(seconds: int, text: str) -> None:
    assert readable_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("15 min", 900), ("1h30m", 5400), (" 2 hours ", 7200), ("1 h 5 sec", 3605)],
)
def test_durations_typed_in_several_ways(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1 h and a bit", "-5", "1.5 h", "min 5"])
def test_what_is_not_a_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)
