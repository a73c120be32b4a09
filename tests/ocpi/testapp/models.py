"""A minimal OCPI object for the pagination tests.

Not an installed app: its table is created by tests/ocpi/conftest.py (django_db_setup), so
the project's settings carry no test-only entry.
"""

from django.db import models


class Item(models.Model):
    ocpi_id = models.CharField(max_length=36)
    last_updated = models.DateTimeField()

    # Spelled out: the type checker's Django plugin only adds it to installed apps' models.
    objects: "models.Manager[Item]" = models.Manager()

    class Meta:
        app_label = "ocpi_testapp"

    def __str__(self) -> str:
        return self.ocpi_id
