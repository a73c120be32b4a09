"""Hand-written SELECTs read into instances (ocpi.sql) equal what the ORM reads, on this test
run's database: the backend's conversions (SQLite's text datetimes and integer booleans) and
the fields' own (JSON) applied alike."""

from typing import Any

import pytest
from django.db import connection
from django.db.models import Model

from credentials.models import LocalParty
from ocpi import sql

pytestmark = pytest.mark.django_db


def fields(obj: Model, names: list[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


@pytest.fixture
def party() -> LocalParty:
    return LocalParty.objects.create(
        country_code="BE",
        party_id="WLC",
        business_name="White label",
        logo={"url": "https://l.example.com/w.png", "width": 512},
        is_active=False,
    )


def select(party: LocalParty, only: tuple[str, ...] | None = None) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql.columns(LocalParty, 't', only=only)} "  # noqa: S608
            f"FROM {sql.table(LocalParty)} t WHERE {sql.column(LocalParty, 'id', 't')} = %s",
            [party.pk],
        )
        row = cursor.fetchone()
    assert row is not None
    return list(row)


def test_every_column_reads_as_the_orm_reads_it(party: LocalParty) -> None:
    read = sql.instance(LocalParty, select(party))
    names = [f.attname for f in LocalParty._meta.concrete_fields]

    assert fields(read, names) == fields(LocalParty.objects.get(pk=party.pk), names)
    assert read.logo == {"url": "https://l.example.com/w.png", "width": 512}
    assert read.is_active is False
    assert read.created_at.tzinfo is not None


def test_a_few_columns_named_in_any_order_read_as_only_would(party: LocalParty) -> None:
    only = ("created_at", "id", "is_active")

    read = sql.instance(LocalParty, select(party, only), only=only)

    assert sql.width(LocalParty, only) == 3
    assert fields(read, list(only)) == fields(
        LocalParty.objects.only(*only).get(pk=party.pk), list(only)
    )
    assert read.get_deferred_fields() == {
        f.attname for f in LocalParty._meta.concrete_fields if f.name not in only
    }


def test_values_after_an_offset_are_read_from_there(party: LocalParty) -> None:
    row = ["something else", *select(party)]

    assert sql.instance(LocalParty, row, 1).pk == party.pk
