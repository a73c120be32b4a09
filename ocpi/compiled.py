"""Hot reads: a QuerySet compiled once per process, every value bound per call.

Building and compiling a QuerySet costs a few tenths of a millisecond of CPU, several times
what PostgreSQL needs to answer a lookup by an indexed key; on the paths every request takes
(the caller behind a token, our parties, one location by its id, a page of a pull, the token
a driver taps) that is most of the request. A `CompiledQuery` builds its QuerySet with the
same QuerySet methods as every other read (the one home of each rule), but once per process
and argument shape, from placeholders: a unique marker for every value. Compiling checks that
every parameter of the SQL is one of those markers (or an enum member of the code), and maps
each to the argument it stands for; a call binds the real values in their place.

So no caller's value can ever be part of a shared compiled entry: a value the QuerySet got
any other way than through its arguments, or one the ORM transformed (escaped for LIKE,
upper-cased in Python), fails compilation instead of being served to the next caller. The
build function may not close over data either (only over other functions), so a value
cannot slip in as SQL text (a boolean, an empty list) behind the parameters' back.

The shape of the arguments keys the compiled entries: which are None, and how many items each
list has (an IN list of a caller's parties compiles to one term per party), never a value.
`limit` values of slices are SQL text: a QuerySet sliced by an argument's value is keyed by
it through `shape=` (the count of rows, not what they are).
"""

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Choices, QuerySet

from ocpi.routing import PartyRef

# An argument: a scalar, a party, or a list of them (their count is part of the shape).
Argument = str | int | datetime | PartyRef | Sequence[Any] | None
Path = tuple[str | int, ...]  # where a value sits in the arguments: name, index, attribute
ENTRIES_PER_QUERY = 256  # argument shapes kept per query and database (LRU)


class Size(int):
    """An argument that is SQL text, not a parameter (a slice's bound: rows per page): passed
    to the build function as it is, and part of the compiled entry's key."""


class CompileError(TypeError):
    """A QuerySet that cannot be compiled once: a parameter is no argument's placeholder."""


class _Markers:
    """Unique stand-ins for the values of one compilation, and the paths they stand for."""

    def __init__(self) -> None:
        self.nonce = secrets.randbits(32)
        self.paths: dict[Any, Path] = {}

    def _mark(self, marker: Any, path: Path) -> Any:
        self.paths[marker] = path
        return marker

    def of(self, value: Argument, path: Path) -> Any:
        """The placeholder of `value` (the same structure, every scalar a marker)."""
        if value is None:
            return None
        n = len(self.paths)
        if isinstance(value, Size):
            return int(value)
        if isinstance(value, bool):
            raise CompileError(f"{path}: a boolean would be compiled as SQL text, not bound")
        if isinstance(value, str):
            # The LIKE escapes (\ % _) in it: an argument the ORM escapes stops matching.
            return self._mark(f"\\%_{self.nonce}:{n}", path)
        if isinstance(value, int):
            return self._mark(-(2**62) - (self.nonce << 16) - n, path)
        if isinstance(value, datetime):
            moment = datetime(1001, 1, 1, tzinfo=UTC) + timedelta(seconds=self.nonce, days=n)
            return self._mark(moment, path)
        if isinstance(value, PartyRef):
            return PartyRef(
                self.of(value.country_code, (*path, "country_code")),
                self.of(value.party_id, (*path, "party_id")),
            )
        if isinstance(value, list | tuple):
            return [self.of(item, (*path, i)) for i, item in enumerate(value)]
        raise CompileError(f"{path}: {type(value).__name__} cannot be bound")


def _shape(value: Argument) -> Hashable:
    """What of `value` shapes the SQL: its kind, and for lists their length; no value."""
    if value.__class__ is str:
        return "str"
    if isinstance(value, list | tuple):
        return tuple(_shape(item) for item in value)
    if isinstance(value, Size):
        return ("Size", int(value))
    return type(value).__name__


@dataclass(frozen=True)
class _Bind:
    """What goes at one parameter position: an argument's value (through `adapt`), or an
    enum member of the code (`constant`)."""

    path: Path | None
    adapt: Callable[[Any], Any] | None = None
    constant: Any = None

    def value(self, values: Mapping[str, Any]) -> Any:
        if self.path is None:
            return self.constant
        found = _value_at(values, self.path)
        return found if self.adapt is None else self.adapt(found)


def _value_at(values: Mapping[str, Any], path: Path) -> Any:
    found: Any = values
    for step in path:
        found = (
            getattr(found, step) if step.__class__ is str and found is not values else found[step]
        )
    return found


@dataclass(frozen=True)
class _Entry:
    sql: str | None  # None: the arguments select nothing (e.g. no party at all)
    binds: tuple[_Bind, ...]
    width: int  # columns per row
    compiler: Any  # the SQLCompiler: the ORM's conversions of the columns
    converters: Any

    def params(self, values: Mapping[str, Any]) -> list[Any]:
        return [bind.value(values) for bind in self.binds]


def _binds(params: Sequence[Any], markers: _Markers, using: str) -> tuple[_Bind, ...]:
    adapt_moment = connections[using].ops.adapt_datetimefield_value
    adapted = {
        adapt_moment(marker): path
        for marker, path in markers.paths.items()
        if isinstance(marker, datetime)
    }
    binds = []
    for position, param in enumerate(params):
        if isinstance(param, Choices):
            binds.append(_Bind(None, constant=param))
        elif _hashable(param) and param in markers.paths and not isinstance(param, bool):
            binds.append(_Bind(markers.paths[param]))
        elif _hashable(param) and param in adapted:
            binds.append(_Bind(adapted[param], adapt=adapt_moment))
        else:
            raise CompileError(
                f"parameter {position} ({param!r}) is no argument's placeholder: the value "
                "must come in as an argument, and reach the SQL untransformed"
            )
    return tuple(binds)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _check_closure(build: Callable[..., Any]) -> None:
    """Refuse a build function that holds data: in its closure (the functions it closes over
    checked the same way), its default values, or a partial's arguments."""
    if isinstance(build, partial):
        if build.args or build.keywords:
            raise CompileError("a partial holds values: pass them as arguments")
        build = build.func
    if getattr(build, "__defaults__", None) or getattr(build, "__kwdefaults__", None):
        raise CompileError(f"{build.__qualname__} has default values: pass them as arguments")
    for cell in getattr(build, "__closure__", None) or ():
        held = cell.cell_contents
        if not callable(held):
            raise CompileError(
                f"{build.__qualname__} closes over data ({type(held).__name__}):"
                " every value must come in as an argument"
            )
        if held is not build:
            _check_closure(held)


class CompiledQuery:
    """`build(**arguments)` → QuerySet, compiled once per process, database and shape.

    `build` must use its arguments as values only (filters, Value()s), through the QuerySet
    methods that hold the rules; everything else is fixed by its code. It may test an
    argument only with `is None` (which the shape keys): while compiling every other value
    is a marker, always truthy, so a branch on `if name:` would be compiled once and served
    for "" and 0 as well.
    """

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        _check_closure(build)
        self.build = build
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def entry(self, values: Mapping[str, Any], using: str = DEFAULT_DB_ALIAS) -> _Entry:
        # In the call's order: a call site names its arguments in one order.
        key = (using, *[(name, _shape(value)) for name, value in values.items()])
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        entry = self._compile(values, using)
        with self._lock:
            self._entries[key] = entry
            if len(self._entries) > ENTRIES_PER_QUERY:
                self._entries.popitem(last=False)
        return entry

    def _compile(self, values: Mapping[str, Any], using: str) -> _Entry:
        markers = _Markers()
        placeholders = {name: markers.of(value, (name,)) for name, value in values.items()}
        queryset = self.build(**placeholders)
        compiler = queryset.query.get_compiler(using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return _Entry(None, (), 0, compiler, ())
        columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
        return _Entry(
            sql,
            _binds(params, markers, using),
            compiler.col_count,
            compiler,
            compiler.get_converters(columns),
        )

    def sql_with_params(
        self, using: str = DEFAULT_DB_ALIAS, **values: Any
    ) -> tuple[str | None, list[Any]]:
        """The compiled SQL and the parameters bound for `values` (None: no row matches)."""
        entry = self.entry(values, using)
        return entry.sql, entry.params(values)

    def raw(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[tuple[Any, ...]]:
        """The rows as the database returns them (to read with ocpi.sql.instance())."""
        entry = self.entry(values, using)
        if entry.sql is None:
            return []
        with connections[using].cursor() as cursor:
            cursor.execute(entry.sql, entry.params(values))
            return list(cursor.fetchall())

    def rows(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[tuple[Any, ...]]:
        """The rows with the ORM's conversions of their columns (a values_list())."""
        entry = self.entry(values, using)
        return convert(entry, self.raw(using, **values))


def convert(entry: _Entry, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    if not entry.converters:
        return rows
    return [tuple(row) for row in entry.compiler.apply_converters(rows, entry.converters)]


def first_rows(
    queries: Sequence[tuple[CompiledQuery, Mapping[str, Any]]], using: str = DEFAULT_DB_ALIAS
) -> Iterator[tuple[Any, ...] | None]:
    """The first row of each query (as the database returns it, None when it has none) in
    one round trip: each query a subquery LEFT JOINed to one row. For a hot path that needs
    several lookups (the token and its eMSP's Sender when a driver waits)."""
    entries = [(query.entry(values, using), values) for query, values in queries]
    joins, params = [], []
    for i, (entry, values) in enumerate(entries):
        assert entry.sql is not None, "first_rows() takes queries that can match"
        joins.append(f"LEFT JOIN ({entry.sql}) q{i} ON 1 = 1")
        params.extend(entry.params(values))
    columns = ", ".join(f"q{i}.*" for i in range(len(entries)))
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM (SELECT 1 AS one) o {' '.join(joins)}", params)  # noqa: S608 (compiled SQL)
        row = cursor.fetchone()
    assert row is not None  # one row, whatever the subqueries found
    start = 0
    for entry, _values in entries:
        part = tuple(row[start : start + entry.width])
        start += entry.width
        # A LEFT JOIN that found nothing: every column NULL (the first is a key: never NULL).
        yield None if part[0] is None else part
