"""Query helpers shared by the module apps' QuerySets.

CiString ids compare one way: `field__ci=value` (ocpi.lookups), UPPER(column) = UPPER(value),
the terms the unique indexes hold, with the value reaching the SQL untransformed, as a
compiled query (ocpi.compiled) requires.
"""

from collections import defaultdict
from collections.abc import Hashable, Sequence
from typing import Any, Self, TypeVar

from django.db import NotSupportedError, connections, models, transaction
from django.db.models import Case, Q, Value, When
from django.db.models.expressions import Col
from django.db.models.functions import Cast
from django.db.models.sql import UpdateQuery

from ocpi.routing import PartyRef

_M = TypeVar("_M", bound=models.Model)


def owned_by(parties: Sequence[PartyRef], country_field: str, party_field: str) -> Q:
    """Owned by any of `parties` (none: nothing at all), one index term per party."""
    condition = Q(pk__in=[])
    for party in parties:
        condition |= Q(
            **{f"{country_field}__ci": party.country_code, f"{party_field}__ci": party.party_id}
        )
    return condition


def update_rows(rows: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write `fields` of `rows` (saved instances of one model, values hashable) in one UPDATE,
    each value given once for all the rows that share it. bulk_update builds a WHEN per row
    and field, which cost more CPU than the statement in a batch of statuses (most rows share
    most values: bench/RESULTS.md, "statuses in batches"). One row: a plain save."""
    if len(rows) <= 1:
        for row in rows:
            row.save(update_fields=list(fields))
        return
    model = type(rows[0])
    casted = connections[rows[0]._state.db or "default"].features.requires_casted_case_in_updates
    values: dict[str, Any] = {}
    for name in fields:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)  # a column, not a relation's other side
        by_value: dict[Hashable, list[Any]] = defaultdict(list)
        for row in rows:
            by_value[getattr(row, field.attname)].append(row.pk)
        if len(by_value) == 1:
            values[name] = next(iter(by_value))
            continue
        whens = [
            When(pk__in=pks, then=Value(value, output_field=field))
            for value, pks in by_value.items()
        ]
        case = Case(*whens, output_field=field)
        values[name] = Cast(case, output_field=field) if casted else case
    model._default_manager.filter(pk__in=[row.pk for row in rows]).update(**values)


def update_returning(
    rows: "models.QuerySet[_M]", values: dict[str, Any], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """`rows.update(**values)` that returns the `returning` fields of each row it wrote, as the
    UPDATE left them: one statement where update() and a read after it take two, and the values
    read are the ones this UPDATE wrote (a read after it, in its transaction, would be too).

    Django 5.2's update() returns a count only: this is the statement update() runs, compiled by
    the ORM, with a RETURNING clause (PostgreSQL; SQLite since 3.35, refused on an older one).
    Values converted as the ORM converts what it reads."""
    connection = connections[rows.db]
    if not connection.features.can_return_columns_from_insert:  # the same RETURNING support
        raise NotSupportedError(f"{connection.display_name} has no UPDATE … RETURNING")
    query = rows.query.chain(UpdateQuery)
    assert isinstance(query, UpdateQuery)
    query.add_update_values(values)
    statement, params = query.get_compiler(rows.db).as_sql()
    fields = [rows.model._meta.get_field(name) for name in returning]
    columns = [_column(field, query.get_initial_alias()) for field in fields]
    converters = [
        connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        for column in columns
    ]
    names = ", ".join(connection.ops.quote_name(str(column.target.column)) for column in columns)
    with transaction.mark_for_rollback_on_error(rows.db), connection.cursor() as cursor:
        cursor.execute(f"{statement} RETURNING {names}", params)
        found = cursor.fetchall()
    return [
        tuple(
            _converted(value, column, connection, column_converters)
            for value, column, column_converters in zip(row, columns, converters, strict=True)
        )
        for row in found
    ]


def _column(field: Any, alias: str) -> Col:
    """The column of `field` (a column, not a relation's other side)."""
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{field} is no column")
    column = field.get_col(alias)
    assert isinstance(column, Col)
    return column


def _converted(value: Any, column: Any, connection: Any, converters: Sequence[Any]) -> Any:
    for converter in converters:
        value = converter(value, column, connection)
    return value


class PartyOwnedQuerySet(models.QuerySet[_M]):
    """Objects owned by a party: `country_code` and `party_id` columns, compared as CiStrings."""

    def for_party(self, party: PartyRef) -> Self:
        return self.filter(owned_by([party], "country_code", "party_id"))

    def for_parties(self, parties: Sequence[PartyRef]) -> Self:
        return self.filter(owned_by(parties, "country_code", "party_id"))


class TokenOwnedQuerySet(PartyOwnedQuerySet[_M]):
    """Objects reported to the eMSP that owns their token (sessions, CDRs): `token_country_code`
    and `token_party_id` columns (the CdrToken's), compared as CiStrings."""

    def for_token_parties(self, parties: Sequence[PartyRef]) -> Self:
        """Objects of tokens owned by any of the eMSP `parties` (none: nothing at all)."""
        return self.filter(owned_by(parties, "token_country_code", "token_party_id"))

    def visible_to(self, *, owners: Sequence[PartyRef], token_parties: Sequence[PartyRef]) -> Self:
        """What an eMSP may see (credentials.access): objects of our parties `owners` for
        tokens of its `token_parties` (credentials.routing.Route.emsp_parties())."""
        return self.for_parties(owners).for_token_parties(token_parties)
