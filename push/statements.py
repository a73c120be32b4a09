"""The outbox's hand-written SQL: claiming deliveries and recording what came of them.

Written once per database from the models' `_meta` (ocpi.sql): these statements run for
every batch a worker sends, where building the same queries with the ORM cost more CPU than
the requests themselves. Each has one sensible plan whatever the table's statistics say:
an index range scan or lookups by primary key, no correlated subqueries (those turned
quadratic when PostgreSQL believed a freshly filled table empty).
"""

from dataclasses import dataclass
from functools import cache

from django.db import connections

from credentials.models import PartnerPlatform
from ocpi import sql
from push.models import Attempt, Change, Delivery, DeliveryStatus

# An Attempt's columns but its id, in the model's order: delivery, started_at, duration_ms,
# http_status, ocpi_status, error, response_excerpt.
ATTEMPT_COLUMNS: tuple[str, ...] = tuple(
    str(field.column) for field in Attempt._meta.concrete_fields if not field.primary_key
)


@dataclass(frozen=True)
class Statements:
    lock: str  # the partner's row, serializing its claims: %(partner)s
    scan: str  # its open deliveries in order: %(partner)s %(now)s %(after)s %(page)s
    claim: str  # PENDING → IN_FLIGHT: %s (claimed_at), then the ids ({ids})
    read: str  # what sending the claimed ones takes: the ids ({ids})
    attempts: str  # Attempts, ATTEMPT_COLUMNS of each ({rows}: value_rows())
    delivered: str  # status, delivered_at, Location, HTTP, OCPI, error, then the ids ({ids})
    other: str  # status, attempts, next attempt (NULL: unchanged), HTTP, OCPI, error, id


def ids(statement: str, count: int) -> str:
    """The statement with one placeholder per id where it says {ids}."""
    return statement.replace("{ids}", ", ".join(["%s"] * count))


def value_rows(statement: str, count: int, width: int) -> str:
    """The statement with `count` rows of `width` placeholders where it says {rows}."""
    row = f"({', '.join(['%s'] * width)})"
    return statement.replace("{rows}", ", ".join([row] * count))


@cache
def written(using: str) -> Statements:
    """The SQL of claiming and recording, written once per database."""
    connection = connections[using]
    quote = connection.ops.quote_name
    d = sql.qualifier(Delivery, "d", using)
    c = sql.qualifier(Change, "c", using)
    deliveries, changes = sql.table(Delivery, using), sql.table(Change, using)
    # Literals, not parameters: the planner matches them to the partial index delivery_open.
    pending, in_flight = f"'{DeliveryStatus.PENDING.value}'", f"'{DeliveryStatus.IN_FLIGHT.value}'"
    status, claimed_at = quote("status"), quote("claimed_at")
    lock = (
        f"SELECT 1 FROM {sql.table(PartnerPlatform, using)} "  # noqa: S608 (names from _meta)
        f"WHERE {quote('id')} = %(partner)s"
    )
    if connection.features.has_select_for_update:
        lock += " FOR UPDATE"
    read = ", ".join(
        [d(f) for f in ("id", "queue_key", "attempts", "to_country_code", "to_party_id")]
        + [c(f) for f in ("module", "method", "path", "payload")]
        + [c(f) for f in ("owner_country_code", "owner_party_id")]
    )
    finished = (
        f"{claimed_at} = NULL, {quote('last_http_status')} = %s, "
        f"{quote('last_ocpi_status')} = %s, {quote('last_error')} = %s"
    )
    return Statements(
        lock=lock,
        # The partner as a range, not an equality, and the order as (partner, id): then
        # only delivery_open yields rows in that order. With `partner = …` PostgreSQL may
        # walk the primary key instead, filtering out every other partner's rows, when its
        # statistics (taken while a burst was pending) say most deliveries are open.
        scan=(
            f"SELECT {d('id')}, {d('queue_key')}, {d('status')} = {pending}, "  # noqa: S608 (names from _meta)
            f"{d('next_attempt_at')} <= %(now)s FROM {deliveries} d "
            f"WHERE ({d('partner')}, {d('id')}) > (%(partner)s, %(after)s) "
            f"AND {d('partner')} <= %(partner)s AND {d('status')} IN ({pending}, {in_flight}) "
            f"ORDER BY {d('partner')}, {d('id')} LIMIT %(page)s"
        ),
        claim=(
            f"UPDATE {deliveries} SET {status} = {in_flight}, {claimed_at} = %s "  # noqa: S608 (names from _meta)
            f"WHERE {quote('id')} IN ({{ids}}) AND {status} = {pending} RETURNING {quote('id')}"
        ),
        read=(
            f"SELECT {read} FROM {deliveries} d JOIN {changes} c ON {c('id')} = {d('change')} "  # noqa: S608 (names from _meta)
            f"WHERE {d('id')} IN ({{ids}}) ORDER BY {d('id')}"
        ),
        attempts=(
            f"INSERT INTO {sql.table(Attempt, using)} "  # noqa: S608 (names from _meta)
            f"({', '.join(quote(name) for name in ATTEMPT_COLUMNS)}) VALUES {{rows}}"
        ),
        delivered=(
            f"UPDATE {deliveries} SET {status} = %s, {quote('attempts')} = "  # noqa: S608 (names from _meta)
            f"{quote('attempts')} + 1, {quote('delivered_at')} = %s, "
            f"{quote('response_location')} = %s, {finished} WHERE {quote('id')} IN ({{ids}})"
        ),
        other=(
            f"UPDATE {deliveries} SET {status} = %s, {quote('attempts')} = %s, "  # noqa: S608 (names from _meta)
            f"{quote('next_attempt_at')} = COALESCE(%s, {quote('next_attempt_at')}), "
            f"{finished} WHERE {quote('id')} = %s"
        ),
    )
