"""Generations: the one way a per-process cache learns that what it holds has changed.

A cache that keeps what it read (the X-Total-Count of a list, the partners that may call us)
keeps it together with the generation of its source at the time, and before every use reads
the generation again: equal, nothing it depends on was written since. Writers call
`bump(name)` from the service that writes, inside the writing transaction, so the new
generation commits (or rolls back) with the write: a reader never sees a write without its
bump, nor a bump without its write.

A generation is stored as shards (ocpi.models.ListGeneration) and is the sum of their
values. Each bump writes a fresh random value into one shard, so a generation is never seen
twice, not even after a rollback (something cached inside a rolled-back transaction can
never match again). A writer picks the shard by a `key` (the object's primary key): writes
of different objects then rarely wait on each other's row lock, and a reader adds the
shards up in one indexed read. A generation nothing ever bumped reads 0: a cache must not
keep anything under it (rolled-back bumps can bring 0 back).

Only what the cached values depend on bumps. Bookkeeping that no cache holds (a partner's
last contact, its count of stale updates) writes without bumping, or a busy partner would
empty the caches of everyone on every call.
"""

import secrets
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorWrapper

from ocpi import sql
from ocpi.models import ListGeneration

SHARDS = 16  # rows per generation that writers spread their row locks over
NEVER = 0  # the generation of what was never bumped


def bump(*names: str, key: int = 0, using: str = DEFAULT_DB_ALIAS) -> None:
    """Move the generations `names` (one statement), in the caller's transaction.

    Call it from every service that writes what a cache built on these generations holds.
    `key` (the written object's primary key) picks the shard.
    """
    shard = key % SHARDS
    rows = [ListGeneration(name=name, shard=shard, value=secrets.randbits(48)) for name in names]
    ListGeneration.objects.using(using).bulk_create(
        rows, update_conflicts=True, unique_fields=["name", "shard"], update_fields=["value"]
    )


@cache
def current_sql(using: str = DEFAULT_DB_ALIAS) -> str:
    """A SELECT of one column, `generation`, the generation named by its one parameter: for
    a statement that reads the generation together with what it guards (one snapshot)."""
    g = sql.qualifier(ListGeneration, "g", using)
    return (
        f"SELECT COALESCE(SUM({g('value')}), 0) AS generation "  # noqa: S608 (names from _meta)
        f"FROM {sql.table(ListGeneration, using)} g WHERE {g('name')} = %s"
    )


def current(
    name: str, *, using: str = DEFAULT_DB_ALIAS, cursor: CursorWrapper | None = None
) -> int:
    """The generation `name` now (NEVER if never bumped); on `cursor` when given (one that
    is open already costs nothing to reuse)."""
    if cursor is None:
        with connections[using].cursor() as own:
            return current(name, using=using, cursor=own)
    cursor.execute(current_sql(using), [name])
    row = cursor.fetchone()
    return int(row[0]) if row is not None else NEVER
