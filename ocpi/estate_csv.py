"""The estate as CSV (locations, EVSEs, connectors, tariffs): the parts the apps share.

A column is a cell of a flat CSV row tied to a path in the object's OCPI JSON (`latitude` is
`coordinates.latitude`). Export renders the object with its OCPI serializer and reads each
column's path; import starts from the stored object rendered the same way (or a new one),
sets the paths of the columns the file has, and validates the result with the same
serializer that checks partners' payloads. Columns a file leaves out keep what is stored.

Files are written and read by ocpi.csv_cells (text cells kept from being spreadsheet formulas).
Cells are compared in their written form (a column's `format` of its `parse`d value), so a
row is "unchanged" exactly when exporting the object again would give the same cells.
"""

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.http import StreamingHttpResponse

from ocpi import json
from ocpi.csv_cells import csv_lines, unescaped
from ocpi.routing import PartyRef

# Cells of list columns are joined with this (commas are the CSV's own separator).
LIST_SEPARATOR = ";"


class CellError(ValueError):
    """A cell that cannot be read as its column's type."""


# --- codecs: a cell's text ↔ an OCPI JSON value (None: the key is left out) --------------


def _text_parse(cell: str) -> Any:
    return cell.strip() or None


def _text_format(value: Any) -> str:
    return "" if value is None else str(value)


def _boolean_parse(cell: str) -> Any:
    text = cell.strip().lower()
    if not text:
        return None
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise CellError(f"Must be true or false, not {cell.strip()!r}.")


def _boolean_format(value: Any) -> str:
    return "" if value is None else ("true" if value else "false")


def _integer_parse(cell: str) -> Any:
    text = cell.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise CellError(f"Must be a whole number, not {text!r}.") from None


def _decimal_parse(cell: str) -> Any:
    text = cell.strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError(f"Must be a number such as 0.25, not {text!r}.") from None
    if not number.is_finite():
        raise CellError(f"Must be a number such as 0.25, not {text!r}.")
    return number


def _list_parse(cell: str) -> Any:
    items = [item.strip() for item in cell.split(LIST_SEPARATOR) if item.strip()]
    return items or None


def _list_format(value: Any) -> str:
    return LIST_SEPARATOR.join(str(item) for item in value or [])


def _json_parse(cell: str) -> Any:
    text = cell.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CellError(f"Not valid JSON: {exc}.") from None


def _json_format(value: Any) -> str:
    return "" if value is None else json.dumps(value)


_CODECS: dict[str, tuple[Callable[[str], Any], Callable[[Any], str]]] = {
    "text": (_text_parse, _text_format),
    "boolean": (_boolean_parse, _boolean_format),
    "integer": (_integer_parse, _text_format),
    "decimal": (_decimal_parse, _text_format),
    "list": (_list_parse, _list_format),
    "json": (_json_parse, _json_format),
}


@dataclass(frozen=True)
class Column:
    """A CSV column: its header `name`, its `path` in the OCPI object, its `kind` (codec)."""

    name: str
    path: tuple[str, ...]
    kind: str = "text"

    def parse(self, cell: str) -> Any:
        return _CODECS[self.kind][0](cell)

    def format(self, value: Any) -> str:
        return _CODECS[self.kind][1](value)

    def read(self, obj: Mapping[str, Any]) -> str:
        """The cell of this column for a rendered OCPI object."""
        value: Any = obj
        for key in self.path:
            if not isinstance(value, Mapping) or key not in value:
                return ""
            value = value[key]
        return self.format(value)

    def write(self, obj: dict[str, Any], value: Any) -> None:
        """Set (or, for None, leave out) this column's value in an OCPI object being built;
        a nested object left empty is left out too (no `coordinates: {}`)."""
        parents = [obj]
        for key in self.path[:-1]:
            child = parents[-1].get(key)
            if not isinstance(child, dict):
                child = {} if child is None else dict(child)
                parents[-1][key] = child
            parents.append(child)
        if value is None:
            parents[-1].pop(self.path[-1], None)
        else:
            parents[-1][self.path[-1]] = value
        for parent, key in zip(reversed(parents[:-1]), reversed(self.path[:-1]), strict=True):
            if parent.get(key) == {}:
                parent.pop(key)


def column(name: str, kind: str = "text", path: str | None = None) -> Column:
    """A column whose path is its name unless `path` (dotted) says otherwise."""
    return Column(name, tuple((path or name).split(".")), kind)


# --- reading an uploaded file -------------------------------------------------------------


@dataclass
class RowReport:
    """What the import makes of one row: its `outcome` or its errors."""

    file: str
    row: int  # as a spreadsheet numbers it: the header is row 1
    key: str
    outcome: str = ""  # "new", "changed", "unchanged"
    changes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)


@dataclass
class Row:
    """A row of an uploaded file: its cells by column name, read by their columns."""

    report: RowReport
    cells: dict[str, str]
    values: dict[str, Any]


def read_csv(
    text: str, *, file: str, columns: Sequence[Column], keys: Sequence[str]
) -> tuple[list[Row], list[str]]:
    """The rows of an uploaded file and the errors of the file as a whole (unknown or missing
    key columns). Cells are parsed here; a cell that cannot be is the row's error."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [unescaped(name).strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    known = {c.name: c for c in columns}
    problems = [f"{file}: unknown column {name!r}." for name in header if name not in known]
    problems += [f"{file}: the column {name!r} is missing." for name in keys if name not in header]
    if len(set(header)) != len(header):
        problems.append(f"{file}: a column appears twice in the header.")
    if problems:
        return [], problems
    rows = []
    for index, record in enumerate(reader):
        report = RowReport(file, index + 2, "")
        # Read back as exported: the apostrophe kept a cell from being a formula.
        cells = {name: unescaped(value or "") for name, value in record.items() if name is not None}
        if None in record:
            report.error("More cells than the header has columns.")
        elif None in record.values():
            # An empty cell clears its field: a cut-off row must not clear the rest.
            report.error("Fewer cells than the header has columns.")
        values = {}
        for name, cell in cells.items():
            try:
                values[name] = known[name].parse(cell)
            except CellError as exc:
                report.error(f"{name}: {exc}")
        rows.append(Row(report, cells, values))
    return rows, []


def changed_columns(
    row: Row, current: Mapping[str, Any], columns: Sequence[Column], skip: Iterable[str] = ()
) -> list[str]:
    """The row's columns whose cell differs from the stored object's (as exported)."""
    skipped = set(skip)
    return [
        c.name
        for c in columns
        if c.name in row.values
        and c.name not in skipped
        and c.format(row.values[c.name]) != c.read(current)
    ]


def apply_row(
    row: Row, obj: dict[str, Any], columns: Sequence[Column], skip: Iterable[str] = ()
) -> None:
    skipped = set(skip)
    for c in columns:
        if c.name in row.values and c.name not in skipped:
            c.write(obj, row.values[c.name])


def error_lines(detail: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """A serializer's nested errors as (path, message): ("evses", 0, "status"), "…"."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            yield from error_lines(value, path if key == "non_field_errors" else (*path, key))
    elif isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            for item in detail:
                yield path, str(item)
        else:
            for index, item in enumerate(detail):
                if item:
                    yield from error_lines(item, (*path, index))
    else:
        yield path, str(detail)


def column_for(path: tuple[Any, ...], columns: Sequence[Column]) -> str:
    """The column name an error path belongs to, else the dotted path itself."""
    for c in columns:
        if path[: len(c.path)] == c.path:
            return c.name
    return ".".join(str(part) for part in path) or "row"


def keyed_rows(
    rows: Sequence[Row], keys: Sequence[str], parties: set[PartyRef], what: str
) -> list[tuple[tuple[str, ...], Row]]:
    """The rows fit to import, each with its key (upper case: ids are CiStrings): a row
    missing a key cell, owned by a party that is not ours, or repeating an earlier row's key
    gets its error instead. The first two key columns are the owner's country_code, party_id."""
    seen: dict[tuple[str, ...], int] = {}
    keyed = []
    for row in rows:
        cells = [row.cells.get(name, "").strip() for name in keys]
        row.report.key = "*".join(cells[:3]) + "".join(f"/{cell}" for cell in cells[3:])
        missing = [name for name, cell in zip(keys, cells, strict=True) if not cell]
        if missing:
            row.report.error(f"{', '.join(missing)}: required.")
            continue
        if PartyRef.of(cells[0], cells[1]) not in parties:
            row.report.error(
                f"{cells[0]}*{cells[1]} is not a party of ours: only our own {what} are imported."
            )
            continue
        key = tuple(cell.upper() for cell in cells)
        if key in seen:
            row.report.error(f"The same {what[:-1]} as row {seen[key]}.")
            continue
        seen[key] = row.report.row
        keyed.append((key, row))
    return keyed


# --- the outcome of planning an import ----------------------------------------------------


@dataclass
class ImportPlan:
    """A dry run: every row's report, and the service calls a confirmed import makes."""

    reports: list[RowReport] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    writes: list[Callable[[], object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_errors and not any(r.errors for r in self.reports)

    @property
    def error_rows(self) -> list[RowReport]:
        return [r for r in self.reports if r.errors]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.reports if not r.errors and r.outcome == outcome)

    def write(self) -> None:
        """Make the dry run's service calls in one transaction: all or nothing. A refusal by
        a service (say, an evse_id taken since the dry run) raises and leaves nothing."""
        if not self.ok:
            raise ValueError("An import with errors writes nothing.")
        with transaction.atomic():
            for write in self.writes:
                write()


# --- writing a file -----------------------------------------------------------------------


def _batched(lines: Iterable[str], size: int = 500) -> Iterator[str]:
    """Lines handed to the server `size` at a time: one write per line costs more than the
    line itself, and a few hundred lines are still only some tens of kilobytes."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) == size:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def csv_response(
    filename: str, columns: Sequence[Column], objects: Iterable[Mapping[str, Any]]
) -> StreamingHttpResponse:
    """A streamed CSV download of rendered objects, one row each."""
    rows = ([c.read(obj) for c in columns] for obj in objects)
    response = StreamingHttpResponse(
        _batched(csv_lines([c.name for c in columns], rows)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
