"""Tariffs of our parties for the connector tests, written as rows: a test's setup, not an
operator's edit, so no push is queued to interfere with the pushes a test counts."""

from decimal import Decimal

from ocpi.time import now
from tariffs.models import PriceComponent, Tariff, TariffElement


def stored_tariff(
    tariff_id: str, country_code: str = "BE", party_id: str = "BEC", price: str = "0.25"
) -> Tariff:
    """An ENERGY tariff in EUR: "<price> EUR/kWh"."""
    tariff = Tariff.objects.create(
        country_code=country_code,
        party_id=party_id,
        ocpi_id=tariff_id,
        currency="EUR",
        last_updated=now(),
    )
    element = TariffElement.objects.create(tariff=tariff, position=0)
    PriceComponent.objects.create(
        element=element, position=0, type="ENERGY", price=Decimal(price), vat=None, step_size=1
    )
    return tariff
