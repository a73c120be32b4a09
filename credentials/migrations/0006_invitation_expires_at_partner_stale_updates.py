"""Invitations that expire, and the count of stale updates a partner sent.

Adding a NOT NULL column makes SQLite rebuild credentials_partnerplatform, which drops its
generation triggers (0004): they are created again here after the rebuild.
"""

from importlib import import_module

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

generation = import_module("credentials.migrations.0004_credentials_generation_triggers")
TABLES = ("credentials_partnerplatform",)


def recreate_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    generation.drop_triggers(schema_editor, TABLES)
    generation.add_triggers(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("credentials", "0005_endpoint_generation_triggers")]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="expires_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="partnerplatform",
            name="stale_updates",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(recreate_triggers, recreate_triggers),
    ]
