"""`field__ci=value`: the one way CiString ids are compared (ocpi.fields.CiStringField).

OCPI ids are CiStrings: kept as written, equal whatever their case. The models index them as
Upper(column) (their unique constraints), so a comparison must read UPPER(column) to use
those indexes. Django's `__ci` does not on SQLite (a LIKE, which scans the table on every
upsert) and writes `UPPER(column::text)` on PostgreSQL; `__ci` is `UPPER(column) =
UPPER(value)` on both. CiStrings are printable ASCII, which every database's UPPER() folds
as Python's str.upper() does.
"""

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, Lookup
from django.db.models.sql.compiler import SQLCompiler


@CharField.register_lookup
class CaseInsensitiveExact(Lookup[str]):
    lookup_name = "ci"

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"UPPER({lhs}) = UPPER({rhs})", (*lhs_params, *rhs_params)
