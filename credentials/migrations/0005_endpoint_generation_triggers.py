"""The credentials generation moves on every write of partners' endpoints too.

push.services asks credentials.selectors.receivers() whom a change goes to (registered
partners with a Receiver endpoint for the module, their roles) on every change of a
location, an EVSE or a session; the answer is kept per process and checked against this
generation, so an endpoint added, changed or removed must move it as the other tables do.
"""

from importlib import import_module

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# Migration 0004's helpers (its module name is no Python identifier).
generation = import_module("credentials.migrations.0004_credentials_generation_triggers")
TABLES = ("credentials_partnerendpoint",)


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    generation.add_triggers(schema_editor, TABLES)


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    generation.drop_triggers(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("credentials", "0004_credentials_generation_triggers")]

    operations = [migrations.RunPython(create, drop)]
