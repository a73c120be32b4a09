"""Bounded histories (connections, firmware and upload statuses): each charge point keeps its
most recent rows, older ones are deleted as new ones come."""

from django.db.models import Model, QuerySet

# Pruned once every this many rows written (by primary key), not at each: one query saved.
PRUNE_EVERY = 8


def keep_recent(rows: "QuerySet[Model]", size: int, written_pk: int) -> None:
    """Delete all but the `size` most recent of `rows` (of one charge point; primary keys
    grow with time), every PRUNE_EVERY rows written. `size` 0: keep everything."""
    if size <= 0 or written_pk % PRUNE_EVERY:
        return
    cut = rows.order_by("-pk").values_list("pk", flat=True)[size : size + 1]
    oldest_dropped = next(iter(cut), None)
    if oldest_dropped is not None:
        rows.filter(pk__lte=oldest_dropped).delete()
