"""VACUUM (ANALYZE) the CDR table on PostgreSQL after 0004 rewrote it (its stored generated
columns): the rewrite leaves an empty visibility map, and until it is set again the covering
index `cdr_end` is read with a fetch of every CDR row it names, as slow as before it. Autovacuum
would get there, but not soon: nothing was inserted or deleted. VACUUM runs outside a
transaction, hence not atomic; it takes no lock that stops reads or writes."""

from typing import Any

from django.db import migrations


def vacuum(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return  # SQLite has no visibility map and plain indexes only
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) cdrs_cdr")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cdrs", "0004_cdr_covering_end_index")]

    operations = [migrations.RunPython(vacuum, migrations.RunPython.noop, elidable=True)]
