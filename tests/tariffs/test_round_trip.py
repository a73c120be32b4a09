"""The spec's tariff examples survive validate → upsert → render (mod_tariffs, Examples).

Documented normalisation: `last_updated` is ours to set (the service stamps it), numbers come
back with the 4 decimals OCPI's number type has (0.50 → 0.5000: equal as numbers), and an
empty `restrictions` object is the same as none. Nothing else changes.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ocpi import json
from ocpi.time import now, parse_datetime
from tariffs.models import PriceComponent, Tariff, TariffElement
from tariffs.selectors import tariff_get
from tariffs.services import render_tariff
from tests.tariffs.conftest import TARIFF_EXAMPLES, example, simple_tariff

pytestmark = pytest.mark.django_db

Upsert = Callable[[dict[str, Any]], Tariff]


def rendered(tariff: Tariff) -> dict[str, Any]:
    """Render from a fresh, prefetched read, and through JSON text as a partner gets it."""
    fresh = tariff_get(party=tariff.party, tariff_id=tariff.ocpi_id)
    assert fresh is not None
    parsed: dict[str, Any] = json.loads(json.dumps(render_tariff(fresh)))
    return parsed


@pytest.mark.parametrize("name", TARIFF_EXAMPLES)
def test_an_example_renders_as_it_came_in(name: str, upsert: Upsert) -> None:
    payload = example(name)
    before = now()

    output = rendered(upsert(payload))

    stamped = parse_datetime(output.pop("last_updated"))
    del payload["last_updated"]
    assert output == payload
    assert stamped >= before


def test_the_complex_example_keeps_its_element_order_and_restrictions(upsert: Upsert) -> None:
    tariff = upsert(example("tariff_4_complex.json"))

    elements = list(TariffElement.objects.filter(tariff=tariff).order_by("position"))
    assert [e.position for e in elements] == [0, 1, 2, 3, 4, 5]
    assert elements[1].max_current == Decimal("32")
    assert elements[2].day_of_week == ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
    assert (elements[4].start_time, elements[4].end_time) == ("09:00", "18:00")
    assert elements[0].restrictions is None


def test_vat_absent_and_vat_zero_survive_a_round_trip(upsert: Upsert) -> None:
    payload = simple_tariff(
        elements=[
            {
                "price_components": [
                    {"type": "ENERGY", "price": Decimal("0.25"), "step_size": 1},
                    {"type": "TIME", "price": Decimal("1"), "vat": Decimal("0.0"), "step_size": 60},
                ]
            }
        ]
    )

    tariff = upsert(payload)

    components = rendered(tariff)["elements"][0]["price_components"]
    assert "vat" not in components[0]
    assert components[1]["vat"] == Decimal("0")
    stored = PriceComponent.objects.filter(element__tariff=tariff).order_by("position")
    assert [c.vat for c in stored] == [None, Decimal("0")]


def test_decimals_are_written_exactly_as_json_numbers(upsert: Upsert) -> None:
    payload = simple_tariff(
        min_price={"excl_vat": Decimal("0.1"), "incl_vat": Decimal("0.3")},
        max_price={"excl_vat": Decimal("99999999.9999")},
        elements=[
            {
                "price_components": [
                    {
                        "type": "ENERGY",
                        "price": Decimal("0.1"),
                        "vat": Decimal("0.2"),
                        "step_size": 1,
                    }
                ],
                "restrictions": {"min_kwh": Decimal("0.3"), "max_power": Decimal("22.0001")},
            }
        ],
    )

    text = json.dumps(render_tariff(upsert(payload)))

    assert '"min_price":{"excl_vat":0.1000,"incl_vat":0.3000}' in text
    assert '"max_price":{"excl_vat":99999999.9999}' in text
    assert '{"type":"ENERGY","price":0.1000,"vat":0.2000,"step_size":1}' in text
    assert '"restrictions":{"min_kwh":0.3000,"max_power":22.0001}' in text


def test_an_empty_restrictions_object_renders_as_none(upsert: Upsert) -> None:
    payload = simple_tariff()
    payload["elements"][0]["restrictions"] = {"day_of_week": [], "start_time": None}

    output = rendered(upsert(payload))

    assert "restrictions" not in output["elements"][0]


def test_energy_mix_and_alt_text_round_trip_exactly(upsert: Upsert) -> None:
    mix = {
        "is_green_energy": False,
        "energy_sources": [
            {"source": "GENERAL_GREEN", "percentage": Decimal("35.9")},
            {"source": "NUCLEAR", "percentage": Decimal("64.1")},
        ],
        "environ_impact": [{"category": "NUCLEAR_WASTE", "amount": Decimal("0.0006")}],
        "supplier_name": "E.ON Energy Deutschland",
    }
    alt_text = [{"language": "en", "text": "Cheap at night."}]

    output = rendered(upsert(simple_tariff(energy_mix=mix, tariff_alt_text=alt_text)))

    assert output["energy_mix"] == mix
    assert output["tariff_alt_text"] == alt_text
    assert '"amount":0.0006' in json.dumps(output)
