"""Integrity the database keeps even when code forgets: the constraints on the tariff tables."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from tariffs.models import PriceComponent, Tariff, TariffElement
from tests.tariffs.conftest import simple_tariff

pytestmark = pytest.mark.django_db

Upsert = Callable[[dict[str, Any]], Tariff]


def refused(model: type[Any], **values: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**values)


@pytest.fixture
def tariff(upsert: Upsert) -> Tariff:
    return upsert(simple_tariff("T1"))


@pytest.fixture
def element(tariff: Tariff) -> TariffElement:
    return TariffElement.objects.get(tariff=tariff)


def tariff_row(**values: Any) -> dict[str, Any]:
    row = {
        "country_code": "DE",
        "party_id": "ALL",
        "ocpi_id": "T2",
        "currency": "EUR",
        "last_updated": "2024-01-01T00:00:00Z",
    }
    row.update(values)
    return row


def test_a_tariff_id_is_unique_per_party_whatever_its_case(tariff: Tariff) -> None:
    refused(Tariff, **tariff_row(country_code="de", party_id="all", ocpi_id="t1"))


@pytest.mark.parametrize("currency", ["eur", "EU", "E1R"])
def test_currency_is_three_capital_letters(cpo_party: Any, currency: str) -> None:
    refused(Tariff, **tariff_row(currency=currency))


def test_incl_vat_needs_excl_vat(cpo_party: Any) -> None:
    refused(Tariff, **tariff_row(min_price_incl_vat=Decimal("1")))


def test_min_price_is_at_most_max_price(cpo_party: Any) -> None:
    refused(Tariff, **tariff_row(min_price_excl_vat=Decimal("5"), max_price_excl_vat=Decimal("4")))


def test_element_positions_are_unique_per_tariff(element: TariffElement) -> None:
    refused(TariffElement, tariff=element.tariff, position=0)


@pytest.mark.parametrize(
    "values",
    [
        {"min_kwh": Decimal("10"), "max_kwh": Decimal("5")},
        {"min_duration": 600, "max_duration": 60},
        {"start_date": "2024-02-01", "end_date": "2024-01-01"},
        {"start_time": "9:00"},
        {"end_date": "01-01-2024"},
        {"max_power": Decimal("-1")},
    ],
)
def test_element_restrictions_are_checked(tariff: Tariff, values: dict[str, Any]) -> None:
    refused(TariffElement, tariff=tariff, position=1, **values)


def test_component_positions_are_unique_per_element(element: TariffElement) -> None:
    refused(PriceComponent, element=element, position=0, type="FLAT", price=1, step_size=1)


@pytest.mark.parametrize(
    "values",
    [
        {"type": "ENERGY", "price": Decimal("0.25"), "step_size": 0},
        {"type": "ENERGY", "price": Decimal("-0.25"), "step_size": 1},
        {"type": "ENERGY", "price": Decimal("0.25"), "vat": Decimal("-1"), "step_size": 1},
    ],
)
def test_components_are_checked(element: TariffElement, values: dict[str, Any]) -> None:
    refused(PriceComponent, element=element, position=1, **values)


def test_a_flat_component_may_have_step_size_zero(element: TariffElement) -> None:
    PriceComponent.objects.create(element=element, position=1, type="FLAT", price=0, step_size=0)

    assert PriceComponent.objects.filter(element=element).count() == 2
