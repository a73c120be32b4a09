"""The outbox's hand-written SQL: the one documented exception to building queries with the ORM.

These statements run for every batch a worker sends, where building the same queries with the
ORM cost more CPU than the requests themselves (bench/RESULTS.md, "The delivery rewrite").
They are written once per database from the models' `_meta` (ocpi.sql), and each has one
sensible plan whatever the table's statistics say: an index range scan or lookups by primary
key, no correlated subqueries (those turned quadratic when PostgreSQL believed a freshly
filled table empty). The claim's statements live in push.claims beside the rule they apply,
the recording's in push.outcomes; this module holds what both need.
"""

from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


class Listed:
    """A statement that takes a list in one place: the rows of a multi-row INSERT, or the ids
    of `IN (%s, %s, …)`. Every value is a parameter; only the count of placeholders varies.

    Its text for a count is written the first time that count comes and kept: counts are
    bounded by the batch sizes (PUSH_BATCH_SIZE, push.outcomes.ATTEMPTS_PER_INSERT), and a
    window of one partner asks for the same few counts again and again.
    """

    __slots__ = ("_after", "_before", "_item", "_texts")

    def __init__(self, before: str, item: str, after: str = "") -> None:
        self._before, self._item, self._after = before, item, after
        self._texts: dict[int, str] = {}

    def __call__(self, count: int) -> str:
        """The statement with `count` items in its list."""
        text = self._texts.get(count)
        if text is None:
            # Only the task's thread runs statements; a race would write the same text twice.
            items = ", ".join([self._item] * count)
            text = self._texts[count] = f"{self._before}{items}{self._after}"
        return text


class ForIds:
    """A statement over a list of ids: `{before} = ANY(%s){after}` with the ids as one array
    on PostgreSQL, `{before} IN (%s, …){after}` elsewhere (SQLite has no arrays).

    Both plan the same (PostgreSQL turns `IN (…)` into `= ANY(ARRAY[…])` itself), but with
    Django's client-side binding one array costs the worker and the server less than a
    batch of separate values (measured when this was written; figures in the commit that
    brought it, for bench/RESULTS.md).
    """

    __slots__ = ("_array", "_listed")

    def __init__(self, before: str, after: str, *, array: bool) -> None:
        self._array = f"{before} = ANY(%s){after}" if array else None
        self._listed = Listed(f"{before} IN (", "%s", f"){after}")

    def __call__(self, ids: list[int], *values: Any) -> tuple[str, list[Any]]:
        """The statement and its parameters: `values`, then the ids."""
        if self._array is not None:
            return self._array, [*values, ids]
        return self._listed(len(ids)), [*values, *ids]


def has_arrays(using: str) -> bool:
    """Whether the database takes a list of ids as one array parameter (ForIds)."""
    return connections[using].vendor == "postgresql"


def placeholders(width: int) -> str:
    """One row of `width` placeholders: `(%s, %s, …)`."""
    return f"({', '.join(['%s'] * width)})"


def db_time(moment: datetime, using: str = DEFAULT_DB_ALIAS) -> Any:
    """A moment as the database driver takes it (SQLite: text; PostgreSQL: as is)."""
    return connections[using].ops.adapt_datetimefield_value(moment)
