"""What the database itself holds a CDR to (mod_cdrs.asciidoc, CDR Object)."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from cdrs.models import Cdr
from cdrs.serializers import CdrSerializer
from tests.cdrs.conftest import CDR_EXAMPLE
from tests.examples import load

pytestmark = pytest.mark.django_db


def example_values(**overrides: Any) -> dict[str, Any]:
    """cdr_example.json as model values (its fields, checked by CdrSerializer)."""
    serializer = CdrSerializer(data=load(CDR_EXAMPLE))
    assert serializer.is_valid(), serializer.errors
    return {**serializer.validated_data, **overrides}


def insert(**overrides: Any) -> Cdr:
    with transaction.atomic():
        cdr = Cdr(**example_values(**overrides))
        cdr.save(force_insert=True)
    return cdr


def test_the_example_is_stored_as_it_came() -> None:
    stored = Cdr.objects.get(pk=insert().pk)

    assert CdrSerializer(stored).data == CdrSerializer(Cdr(**example_values())).data


def test_optional_fields_sent_as_null_are_stored_as_absent() -> None:
    nulls = {
        "session_id": None,
        "authorization_reference": None,
        "tariffs": None,
        "signed_data": None,
        "total_fixed_cost": None,
        "total_parking_time": None,
        "remark": None,
        "credit": None,
        "home_charging_compensation": None,
    }
    serializer = CdrSerializer(data={**load(CDR_EXAMPLE), **nulls})
    assert serializer.is_valid(), serializer.errors

    stored = Cdr.objects.get(pk=insert(**serializer.validated_data).pk)

    rendered = CdrSerializer(stored).data
    assert set(nulls) & set(rendered) == set()
    assert (stored.tariffs, stored.session_id, stored.credit) == ([], "", False)


def test_ids_are_unique_per_party_whatever_their_case() -> None:
    insert(ocpi_id="CDR-1")
    insert(ocpi_id="CDR-1", party_id="OTH")

    with pytest.raises(IntegrityError):
        insert(ocpi_id="cdr-1", party_id="bec")


def test_only_a_credit_cdr_has_an_id_longer_than_36() -> None:
    original = insert(ocpi_id="X" * 36)
    insert(
        ocpi_id="X" * 36 + "-C1",
        credit=True,
        credit_reference_id=original.ocpi_id,
        original=original,
    )

    with pytest.raises(IntegrityError):
        insert(ocpi_id="Y" * 37)


@pytest.mark.parametrize(
    "credit",
    [
        {"credit": True},  # no reference at all
        {"credit": True, "credit_reference_id": "12345"},  # no original row
        {"credit": False, "credit_reference_id": "12345"},  # a reference without credit
    ],
)
def test_a_credit_cdr_and_only_a_credit_cdr_refers_to_its_original(
    credit: dict[str, Any],
) -> None:
    with pytest.raises(IntegrityError):
        insert(ocpi_id="C1", **credit)


def test_a_cdr_has_one_credit_cdr_at_most() -> None:
    original = insert()
    insert(ocpi_id="12345-C", credit=True, credit_reference_id="12345", original=original)

    with pytest.raises(IntegrityError):
        insert(ocpi_id="12345-C2", credit=True, credit_reference_id="12345", original=original)


def test_a_price_has_no_incl_vat_without_excl_vat() -> None:
    with pytest.raises(IntegrityError):
        insert(total_energy_cost_incl_vat=Decimal("1.10"))


def test_a_cdr_does_not_end_before_it_starts() -> None:
    values = example_values()
    with pytest.raises(IntegrityError):
        insert(end_date_time=values["start_date_time"].replace(year=2014))
