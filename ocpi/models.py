"""The protocol core's one table: generations of Sender lists (see ocpi.pagination).

A list's X-Total-Count is cached with the generation it was counted at; every write that can
change the count bumps the generation in the same transaction.
"""

from django.db import models


class ListGeneration(models.Model):
    """One shard of a list's generation; the generation is the sum of its shards' values."""

    name = models.CharField(
        max_length=64, help_text='A list and what moves it: "locations:members".'
    )
    shard = models.PositiveSmallIntegerField()
    value = models.BigIntegerField(help_text="Random on every bump: never the same twice.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "shard"], name="list_generation_unique_shard")
        ]

    def __str__(self) -> str:
        return f"{self.name}#{self.shard}"


class FiguresWatermark(models.Model):
    """How far a table of figures kept per day is up to date (ocpi.daily_figures): rows
    written before `until` are in it, counted by the days of `zone`. Its row lock serializes
    the refreshes of that table."""

    name = models.CharField(max_length=64, unique=True, help_text='The table: "cdrs:day".')
    until = models.DateTimeField(null=True, blank=True, help_text="None: never computed.")
    zone = models.CharField(max_length=64, blank=True, help_text="settings.TIME_ZONE then.")

    def __str__(self) -> str:
        return f"{self.name} until {self.until} ({self.zone})"
