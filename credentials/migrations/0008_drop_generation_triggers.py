"""The credentials generation is moved by the services that write (credentials.generation),
no longer by triggers (0004, 0005; SQLite lost those of the partner table in 0006).

The triggers also fired on the bookkeeping of every call (a partner's last contact), which
emptied every process's cache of callers about once a second with 60 partners calling, and
SQLite drops a table's triggers silently whenever a migration rebuilds the table. The
generation's row stays: it is the same ocpi_listgeneration row the services bump.
"""

from importlib import import_module

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# Migrations 0004's and 0005's helpers (their module names are no Python identifiers).
triggers = import_module("credentials.migrations.0004_credentials_generation_triggers")
endpoint_triggers = import_module("credentials.migrations.0005_endpoint_generation_triggers")


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # The endpoints' triggers first: PostgreSQL keeps the function while a trigger calls it.
    endpoint_triggers.drop(apps, schema_editor)
    triggers.drop(apps, schema_editor)


def recreate(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    triggers.create(apps, schema_editor)
    endpoint_triggers.create(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("credentials", "0007_partyclaim")]

    operations = [migrations.RunPython(drop, recreate)]
