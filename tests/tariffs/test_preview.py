"""The price preview on a tariff's page: the engine pricing an example session chosen in a form.

Totals are the spec's worked examples (checklist §5.3 vectors, tests/tariffs/engine/
test_vectors.py): the preview builds the same periods those tests build and prices them
with the same engine, on the tariff as stored and rendered.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tariffs.engine import Price
from tariffs.models import Tariff
from tariffs.summary import money
from tests.tariffs.conftest import example

pytestmark = pytest.mark.django_db

Upsert = Callable[[dict[str, Any]], Tariff]
MONDAY = "2024-06-03"
TEN = f"{MONDAY} 10:00"


def stored(upsert: Upsert, name: str) -> Tariff:
    """The spec's example `name` (without .json), stored under that id."""
    payload = example(f"{name.removesuffix('.json')}.json")
    payload["id"] = name.removesuffix(".json")[:36]
    return upsert(payload)


def preview(client: Client, tariff: Tariff, **fields: str) -> Any:
    query = {
        "preview-time_zone": "Europe/Berlin",
        "preview-power": "",
        "preview-parking": "",
        **{f"preview-{name}": value for name, value in fields.items()},
    }
    return client.get(f"/admin/tariffs/tariff/{tariff.pk}/change/", query)


@pytest.mark.parametrize(
    ("name", "start", "charging", "energy", "parking", "excl", "incl"),
    [
        ("tariff_8_simple_025kwh", TEN, "60 min", "20", "", "5.00", "5.50"),  # T1
        ("tariff_9_025kwh_start", TEN, "1 h", "20", "", "5.50", "6.10"),  # T2
        ("tariff_12_025kwh_min_price", TEN, "10 min", "1", "", "0.50", "0.55"),  # T3b
        ("tariff_10_025kwh_parking_start", TEN, "1 h", "20", "40 min", "7.00", "7.90"),  # T4
        ("tariff_6_025kwh_start_max_price", "2019-06-03 10:00", "2 h", "50", "", "10", "11"),  # T5
        ("tariff_1_simple_2hour", TEN, "2 h 30 min", "30", "30 min", "5.00", "5.50"),  # T6
        ("tariff_13_simple_3hour_5parking", TEN, "150 min", "30", "42 min", "11.25", "12.75"),
        ("tariff_2_alt_text", TEN, "9000", "20", "", "4.75", "4.997"),  # T8
        ("tariff_3_alt_url", f"{MONDAY}T10:00", "1 h", "20.45", "", "5.625", "6.2375"),  # T9
        ("tariff_5_free_of_charge", TEN, "1 h", "20", "30 min", "0", "0"),  # T11
        ("tariff_14_step_size", f"{MONDAY} 16:55", "10 min", "2", "2 min", "0.55", "0.55"),  # T18
        ("tariff_14_step_size", f"{MONDAY} 16:35", "35 min", "5", "", "1.30", "1.30"),  # T18b
        ("tariff_14_step_size", f"{MONDAY} 19:40", "12 min", "2", "20 min", "0.73", "0.73"),
    ],
)
def test_preview_totals_are_the_spec_vectors(
    admin_client: Client,
    upsert: Upsert,
    name: str,
    start: str,
    charging: str,
    energy: str,
    parking: str,
    excl: str,
    incl: str,
) -> None:
    tariff = stored(upsert, name)

    response = preview(
        admin_client, tariff, start=start, charging=charging, energy=energy, parking=parking
    )

    assert response.status_code == 200
    cost = response.context["preview"]["cost"]
    assert cost.total_cost == Price(Decimal(excl), Decimal(incl))
    html = response.content.decode()
    shown = f"<th>{money(Decimal(excl))}</th><th>{money(Decimal(incl))}</th>"
    assert shown in html


def test_the_breakdown_is_per_dimension(admin_client: Client, upsert: Upsert) -> None:
    """T4: start fee 0.50, 20 kWh 5.00, parking 40 → 45 min 1.50."""
    tariff = stored(upsert, "tariff_10_025kwh_parking_start.json")

    response = preview(
        admin_client,
        tariff,
        start=f"{MONDAY} 10:00",
        charging="1 h",
        energy="20",
        parking="40 min",
    )

    assert response.context["preview"]["breakdown"] == [
        ("Fixed (FLAT)", Price(Decimal("0.50"), Decimal("0.60"))),
        ("Energy", Price(Decimal("5.00"), Decimal("5.50"))),
        ("Charging time", Price(Decimal(0), Decimal(0))),
        ("Parking time", Price(Decimal("1.50"), Decimal("1.80"))),
        ("Reservation", Price(Decimal(0), Decimal(0))),
    ]


def test_power_is_what_power_restrictions_compare_with(
    admin_client: Client, upsert: Upsert
) -> None:
    """The max_power example: 0.20/kWh below 16 kW, 0.35 below 32 kW, else 0.50 (+20 % VAT)."""
    tariff = stored(upsert, "tariffrestriction_example_max_power.json")
    session = {"start": f"{MONDAY} 10:00", "charging": "1 h", "energy": "10"}

    slow = preview(admin_client, tariff, **session)  # 10 kWh in 1 h: 10 kW
    fast = preview(admin_client, tariff, power="48", **session)

    assert slow.context["preview"]["cost"].total_cost.excl_vat == Decimal("2.00")
    assert fast.context["preview"]["cost"].total_cost.excl_vat == Decimal("5.00")


def test_the_page_offers_the_form_with_the_zone_of_a_location_using_the_tariff(
    admin_client: Client, upsert: Upsert
) -> None:
    tariff = stored(upsert, "tariff_8_simple_025kwh.json")

    response = admin_client.get(f"/admin/tariffs/tariff/{tariff.pk}/change/")

    assert response.status_code == 200
    assert "preview" not in response.context
    form = response.context["preview_form"]
    assert not form.is_bound
    assert form["time_zone"].value() == "UTC"  # no location uses it: the admin's zone
    assert form["charging"].value() == "1 h"
    assert 'id="preview"' in response.content.decode()


def refused_on_its_field(
    admin_client: Client, tariff: Any, fields: dict[str, str], field: str, message: str
) -> None:
    """A session's preview of `tariff` with `fields` changed: no preview, `message` on `field`."""
    values = {"start": f"{MONDAY} 10:00", "charging": "1 h", "energy": "20", **fields}

    response = preview(admin_client, tariff, **values)

    assert response.status_code == 200
    assert "preview" not in response.context
    errors = response.context["preview_form"].errors
    assert any(message in error for error in errors[field]), errors


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"start": "tomorrow"}, "start", "Write the start as YYYY-MM-DD HH:MM"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "is not a time zone"),
        ({"charging": "soon"}, "charging", "is not a duration"),
        ({"charging": "0"}, "charging", "more than 0"),
        ({"energy": "-1"}, "energy", "greater than or equal to 0"),
        ({"parking": "1 h and a bit"}, "parking", "is not a duration"),
    ],
)
def test_bad_input_is_a_message_on_its_field(
    admin_client: Client, upsert: Upsert, fields: dict[str, str], field: str, message: str
) -> None:
    tariff = stored(upsert, "tariff_8_simple_025kwh.json")
    refused_on_its_field(admin_client, tariff, fields, field, message)


# --- a reservation before the session, or one that expired unused --------------------------


def result_caption(response: Any) -> str:
    return str(response.content.decode().split('id="preview-result"')[1].split("</caption>")[0])


@pytest.mark.parametrize(
    ("name", "reservation", "expired", "charging", "energy", "excl", "incl", "reserved"),
    [
        # T12: 15 min reserved at 5.00/h, then 20 kWh.
        (
            "tariff_15_reservation_5_euro_per_hour",
            "15 min",
            "",
            "1 h",
            "20",
            "6.75",
            "7.60",
            "1.25",
        ),
        # T13: fee 2.00 + 13 min billed 15 at 5.00/h, then 20 kWh.
        (
            "tariff_16_reservation_2_euro_fee_5_euro_per_hour",
            "13 min",
            "",
            "1 h",
            "20",
            "8.75",
            "10.00",
            "3.25",
        ),
        # T14: 22 min billed 30 at 2.00/h, no expiry fee (used), then 20 kWh.
        (
            "tariff_17_reservation_with_expire_fee",
            "22 min",
            "",
            "1 h",
            "20",
            "6.50",
            "7.30",
            "1.00",
        ),
        # T14b: 1 h expired unused: expiry fee 4.00 + 1 h at 2.00; no start fee.
        ("tariff_17_reservation_with_expire_fee", "1 h", "on", "", "", "6.00", "7.20", "6.00"),
        # T15: 22 min at the RESERVATION element's 3.00/h (billed 30), then 20 kWh.
        (
            "tariff_18_reservation_with_expire_time",
            "22 min",
            "",
            "1 h",
            "20",
            "7.00",
            "7.90",
            "1.50",
        ),
        # T15b: 1.5 h expired: the RESERVATION_EXPIRES element's 6.00/h.
        (
            "tariff_18_reservation_with_expire_time",
            "1 h 30 min",
            "on",
            "",
            "",
            "9.00",
            "10.80",
            "9.00",
        ),
    ],
)
def test_a_reservation_is_priced_by_the_reservation_elements_as_the_spec_vectors(
    admin_client: Client,
    upsert: Upsert,
    name: str,
    reservation: str,
    expired: str,
    charging: str,
    energy: str,
    excl: str,
    incl: str,
    reserved: str,
) -> None:
    tariff = stored(upsert, name)
    fields = {"reservation": reservation, "charging": charging, "energy": energy}
    if expired:
        fields["reservation_expired"] = expired

    response = preview(admin_client, tariff, start=f"{MONDAY} 10:15", **fields)

    assert response.status_code == 200, response.context["preview_form"].errors
    assert "preview" in response.context, response.context["preview_form"].errors
    cost = response.context["preview"]["cost"]
    assert cost.total_cost == Price(Decimal(excl), Decimal(incl))
    assert cost.total_reservation_cost.excl_vat == Decimal(reserved)
    caption = result_caption(response)
    if expired:
        assert f"a reservation of {reservation} that expired unused" in caption
    else:
        assert f"after {reservation} reserved" in caption


def test_without_a_reservation_the_reservation_elements_price_nothing(
    admin_client: Client, upsert: Upsert
) -> None:
    """T12's tariff, no reservation: only the session's start fee and energy, 5.50."""
    tariff = stored(upsert, "tariff_15_reservation_5_euro_per_hour")

    response = preview(
        admin_client, tariff, start=f"{MONDAY} 10:15", charging="1 h", energy="20", reservation=""
    )

    cost = response.context["preview"]["cost"]
    assert cost.total_cost.excl_vat == Decimal("5.50")
    assert cost.total_reservation_cost.excl_vat == Decimal(0)
    assert "reserved" not in result_caption(response)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"reservation_expired": "on", "reservation": ""},
            "reservation",
            "how long the reservation",
        ),
        ({"reservation_expired": "on", "reservation": "1 h"}, "charging", "has no session"),
        (
            {"reservation_expired": "on", "reservation": "1 h", "charging": "", "energy": "5"},
            "energy",
            "has no session",
        ),
        ({"reservation": "a while"}, "reservation", "is not a duration"),
        ({"charging": ""}, "charging", "Needed for a session"),
        ({"energy": ""}, "energy", "Needed for a session"),
    ],
)
def test_bad_reservation_input_is_a_message_on_its_field(
    admin_client: Client, upsert: Upsert, fields: dict[str, str], field: str, message: str
) -> None:
    tariff = stored(upsert, "tariff_17_reservation_with_expire_fee")
    refused_on_its_field(admin_client, tariff, fields, field, message)
