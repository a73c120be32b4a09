"""ocpi.compiled: a QuerySet compiled once per argument shape, every value bound per call, and
compilation refused whenever a value could end up in the shared compiled entry."""

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from django.db.models import QuerySet

from credentials.models import LocalParty
from ocpi.compiled import CompiledQuery, CompileError, Size, first_rows
from ocpi.enums import Role
from ocpi.querysets import owned_by
from ocpi.routing import PartyRef
from tests.ocpi.testapp.models import Item

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def items(db: None) -> None:
    for n, name in enumerate(["a_b", "A%B", "axb", "C"]):
        Item.objects.create(ocpi_id=name, last_updated=T0 + timedelta(hours=n))


def ids(rows: list[tuple[Any, ...]]) -> list[str]:
    return [row[0] for row in rows]


def named(*, name: str) -> QuerySet[Any]:
    return Item.objects.filter(ocpi_id__ci=name).values_list("ocpi_id").order_by("pk")


@pytest.mark.usefixtures("items")
def test_each_call_binds_its_own_values_into_one_compiled_entry() -> None:
    query = CompiledQuery(named)

    assert ids(query.rows(name="A_B")) == ["a_b"]
    assert ids(query.rows(name="a%b")) == ["A%B"]  # no LIKE: % and _ are themselves
    assert ids(query.rows(name="nothing")) == []
    assert len(query._entries) == 1


@pytest.mark.usefixtures("items")
def test_a_datetime_is_bound_as_the_orm_binds_it() -> None:
    query = CompiledQuery(
        lambda *, since: Item.objects.filter(last_updated__gte=since).values_list("ocpi_id")
    )

    assert sorted(ids(query.rows(since=T0 + timedelta(hours=2)))) == ["C", "axb"]
    assert ids(query.rows(since=T0 + timedelta(hours=3))) == ["C"]


def _parties(*, parties: list[PartyRef]) -> QuerySet[Any]:
    condition = owned_by(parties, "country_code", "party_id")
    return LocalParty.objects.filter(condition).values_list("business_name").order_by("pk")


def test_a_list_keys_the_entry_by_its_length_only() -> None:
    for cc, party, name in [("NL", "ABC", "abc"), ("DE", "XYZ", "xyz"), ("BE", "QQQ", "qqq")]:
        LocalParty.objects.create(country_code=cc, party_id=party, business_name=name)
    query = CompiledQuery(_parties)

    one = ids(query.rows(parties=[PartyRef.of("nl", "abc")]))
    other = ids(query.rows(parties=[PartyRef.of("de", "xyz")]))
    two = ids(query.rows(parties=[PartyRef.of("nl", "abc"), PartyRef.of("be", "qqq")]))
    none = query.rows(parties=[])

    assert (one, other, two, none) == (["abc"], ["xyz"], ["abc", "qqq"], [])
    assert len(query._entries) == 3


def test_a_value_the_build_closes_over_is_refused() -> None:
    name = "a_b"

    with pytest.raises(CompileError, match="closes over data"):
        CompiledQuery(lambda: Item.objects.filter(ocpi_id=name))


def test_a_value_held_by_a_function_the_build_calls_is_refused() -> None:
    party = PartyRef.of("NL", "ABC")

    def ours() -> QuerySet[Any]:
        return _parties(parties=[party])

    with pytest.raises(CompileError, match="ours closes over data"):
        CompiledQuery(lambda: ours())
    with pytest.raises(CompileError, match="a partial holds values"):
        CompiledQuery(partial(_parties, parties=[party]))


def test_a_default_value_is_refused() -> None:
    with pytest.raises(CompileError, match="default values"):
        CompiledQuery(lambda name="a_b": Item.objects.filter(ocpi_id=name))


def test_a_value_written_into_the_build_is_refused() -> None:
    query = CompiledQuery(lambda *, name: Item.objects.filter(ocpi_id=name, pk__gt=3))

    with pytest.raises(CompileError, match=r"parameter 1 \(3\) is no argument's placeholder"):
        query.rows(name="a_b")


def test_a_value_the_orm_transforms_is_refused() -> None:
    query = CompiledQuery(lambda *, name: Item.objects.filter(ocpi_id__contains=name))

    with pytest.raises(CompileError, match="no argument's placeholder"):
        query.rows(name="a")


def test_a_boolean_argument_is_refused() -> None:
    query = CompiledQuery(lambda *, flag: LocalParty.objects.filter(is_active=flag))

    with pytest.raises(CompileError, match="boolean"):
        query.rows(flag=True)


def test_an_enum_member_of_the_code_is_a_constant() -> None:
    LocalParty.objects.create(country_code="NL", party_id="ABC", business_name="x", role=Role.EMSP)
    query = CompiledQuery(
        lambda *, name: LocalParty.objects.filter(role=Role.EMSP, business_name=name).values_list(
            "party_id"
        )
    )

    assert ids(query.rows(name="x")) == ["ABC"]


@pytest.mark.usefixtures("items")
def test_a_size_is_sql_text_and_keys_the_entry() -> None:
    query = CompiledQuery(lambda *, rows: Item.objects.order_by("pk").values_list("ocpi_id")[:rows])

    assert (ids(query.rows(rows=Size(1))), ids(query.rows(rows=Size(2)))) == (
        ["a_b"],
        ["a_b", "A%B"],
    )
    assert len(query._entries) == 2


@pytest.mark.usefixtures("items")
def test_first_rows_reads_each_querys_first_row_in_one_round_trip(
    django_assert_num_queries: Any,
) -> None:
    query = CompiledQuery(lambda *, name: named(name=name)[:1])

    with django_assert_num_queries(1):
        found = list(first_rows([(query, {"name": "axb"}), (query, {"name": "none"})]))

    assert found == [("axb",), None]
