"""Rows of SQL read into model instances, and names for the few hand-written statements.

`instance()` turns the columns of a model, as a compiled query (ocpi.compiled) or a
hand-written statement (push: claims and outcomes) selected them, back into the instance the
ORM would have made, with the same conversions (the backend's, e.g. SQLite's text datetimes,
and the field's, e.g. JSON); `columns()`, `table()` and `qualifier()` name what such a
statement reads, from `_meta`.
"""

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]
# Per column that needs them: its position, its expression (what converters are passed) and
# the converters, in the order the ORM applies them.
Conversions = tuple[tuple[int, Any, tuple[Converter, ...]], ...]


def quote(name: str, using: str = DEFAULT_DB_ALIAS) -> str:
    return connections[using].ops.quote_name(name)


def table(model: type[Model], using: str = DEFAULT_DB_ALIAS) -> str:
    return quote(model._meta.db_table, using)


def column(model: type[Model], field: str, alias: str, using: str = DEFAULT_DB_ALIAS) -> str:
    """`alias`.column of one concrete field, quoted."""
    concrete = model._meta.get_field(field)
    assert isinstance(concrete, Field)
    assert concrete.column is not None
    return f"{alias}.{quote(concrete.column, using)}"


def qualifier(
    model: type[Model], alias: str, using: str = DEFAULT_DB_ALIAS
) -> Callable[[str], str]:
    """column() for one table alias, to write a statement with: `t = qualifier(Token, "t")`,
    then `t("uid")`."""
    return lambda field: column(model, field, alias, using)


@cache
def _fields(model: type[Model], only: tuple[str, ...] | None) -> tuple[Field, ...]:  # type: ignore[type-arg]
    """The concrete fields named in `only` (all when None), in `_meta.concrete_fields` order:
    the order Model.from_db() takes values in, whatever order `only` names them in."""
    chosen = {model._meta.get_field(name) for name in only} if only is not None else None
    return tuple(f for f in model._meta.concrete_fields if chosen is None or f in chosen)


def columns(
    model: type[Model],
    alias: str,
    using: str = DEFAULT_DB_ALIAS,
    only: tuple[str, ...] | None = None,
) -> str:
    """The columns of `model` (every concrete one, in `_meta.concrete_fields` order, or the
    fields named in `only`), qualified by the table alias: what instance() reads."""
    return ", ".join(column(model, field.name, alias, using) for field in _fields(model, only))


def width(model: type[Model], only: tuple[str, ...] | None = None) -> int:
    """How many values columns() selects."""
    return len(_fields(model, only))


@cache
def _converters(model: type[Model], only: tuple[str, ...] | None, using: str) -> Conversions:
    """The ORM's conversions of each column's database value (SQLCompiler.get_converters)."""
    connection = connections[using]
    found = []
    for position, field in enumerate(_fields(model, only)):
        expression = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(expression) + field.get_db_converters(
            connection
        )
        if converters:
            found.append((position, expression, tuple(converters)))
    return tuple(found)


@cache
def _attnames(model: type[Model], only: tuple[str, ...] | None) -> list[str]:
    return [field.attname for field in _fields(model, only)]


def instance(
    model: type[M],
    row: Sequence[Any],
    start: int = 0,
    using: str = DEFAULT_DB_ALIAS,
    only: tuple[str, ...] | None = None,
) -> M:
    """The instance of `model` whose columns() are row[start:start + width()]; with `only`,
    the other fields are deferred (read on first access, as after QuerySet.only())."""
    values = list(row[start : start + width(model, only)])
    connection = connections[using]
    for position, expression, converters in _converters(model, only, using):
        value = values[position]
        for converter in converters:
            value = converter(value, expression, connection)
        values[position] = value
    return model.from_db(using, _attnames(model, only), values)
