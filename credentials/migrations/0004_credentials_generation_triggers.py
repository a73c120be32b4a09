"""Triggers that move the "credentials" generation on every write of who may call us.

credentials.selectors keeps, per process, the callers it has read (partner and roles by
token digest) and our parties, and checks them on every request against this generation
(one row of ocpi_listgeneration, a new random value on each bump). The database bumps it, in
the writing transaction, on any INSERT, UPDATE or DELETE of partners, their roles or our
parties, whoever writes (services, the admin, a queryset update(), raw SQL): no path can
forget to, and a write in one process is seen by the next request of every other.

SQLite drops a table's triggers when a migration rebuilds the table (AlterField and the
like): tests/credentials/test_callers.py checks every table still bumps the generation.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLES = ("credentials_partnerplatform", "credentials_partnerrole", "credentials_localparty")
BUMP = (
    "INSERT INTO ocpi_listgeneration (name, shard, value) VALUES ('credentials', 0, {value}) "
    "ON CONFLICT (name, shard) DO UPDATE SET value = excluded.value"
)
# A random 48-bit value, as ocpi.pagination.note_list_change() writes.
POSTGRES_VALUE = "floor(random() * 281474976710656)::bigint"
SQLITE_VALUE = "abs(random() % 281474976710656)"


def add_triggers(schema_editor: BaseDatabaseSchemaEditor, tables: tuple[str, ...]) -> None:
    """Triggers bumping the generation on every write of `tables` (the PostgreSQL function
    they call is created by create())."""
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION credentials_bump_generation()"
            )
        elif vendor == "sqlite":
            for event in ("INSERT", "UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_generation_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN {BUMP.format(value=SQLITE_VALUE)}; END"
                )
        else:
            raise NotImplementedError(f"credentials generation triggers for {vendor}")


def drop_triggers(schema_editor: BaseDatabaseSchemaEditor, tables: tuple[str, ...]) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_generation ON {table}")
        else:
            for event in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_generation_{event}")


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION credentials_bump_generation() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {BUMP.format(value=POSTGRES_VALUE)}; "
            "RETURN NULL; END $$"
        )
    add_triggers(schema_editor, TABLES)
    # A first generation, so the cache works before anything is written.
    schema_editor.execute(BUMP.format(value=POSTGRES_VALUE if vendor == "postgresql" else SQLITE_VALUE))


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    drop_triggers(schema_editor, TABLES)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS credentials_bump_generation()")


class Migration(migrations.Migration):
    dependencies = [
        ("credentials", "0003_partnerplatform_retry_pushes"),
        ("ocpi", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
