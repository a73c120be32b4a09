"""On PostgreSQL, vacuum the CDR and session tables after a few thousand new or changed rows,
not after a fifth of the table (the defaults): the dashboard's 30 days are read from covering
indexes (cdr_end, session_start), and an index entry whose row's page is not yet marked
all-visible costs a fetch of that row. With the defaults, a table of 1,000,000 CDRs is
vacuumed after 200,000 inserts, months of CDRs: the whole 30-day window would be fetched row
by row. Vacuuming what was inserted or updated since the last pass is cheap (the visibility
map lets it skip the rest)."""

from typing import Any

from django.db import migrations

# Rows inserted (CDRs: never updated) or changed (sessions) before autovacuum passes again.
SETTINGS = {
    "cdrs_cdr": (
        "autovacuum_vacuum_insert_threshold = 2000, autovacuum_vacuum_insert_scale_factor = 0"
    ),
    "charging_sessions_session": (
        "autovacuum_vacuum_insert_threshold = 2000, autovacuum_vacuum_insert_scale_factor = 0, "
        "autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_scale_factor = 0"
    ),
}


def _alter(schema_editor: Any, reset: bool) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite has no autovacuum and no visibility map
    for table, options in SETTINGS.items():
        if reset:
            names = ", ".join(option.split("=")[0].strip() for option in options.split(","))
            schema_editor.execute(f"ALTER TABLE {table} RESET ({names})")
        else:
            schema_editor.execute(f"ALTER TABLE {table} SET ({options})")


def set_options(apps: Any, schema_editor: Any) -> None:
    _alter(schema_editor, reset=False)


def reset_options(apps: Any, schema_editor: Any) -> None:
    _alter(schema_editor, reset=True)


class Migration(migrations.Migration):
    dependencies = [
        ("cdrs", "0005_vacuum_after_rewrite"),
        ("charging_sessions", "0004_session_covering_start_index"),
    ]

    operations = [migrations.RunPython(set_options, reset_options)]
