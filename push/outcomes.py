"""Recording what sending did: the attempts, the deliveries' new states, what goes back unsent.

Run in the task's own thread between claims (push.window), in a few statements for many
deliveries: a statement per delivery cost PostgreSQL more than the row (bench/RESULTS.md).
"""

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from ocpi import sql
from ocpi.time import now
from push.claims import Claimed
from push.models import Attempt, Delivery, DeliveryStatus
from push.sending import Result
from push.statements import ForIds, Listed, db_time, has_arrays, placeholders

# An Attempt's columns but its id, in the model's order: delivery, started_at, duration_ms,
# http_status, ocpi_status, error, response_excerpt.
ATTEMPT_COLUMNS: tuple[str, ...] = tuple(
    str(field.column) for field in Attempt._meta.concrete_fields if not field.primary_key
)
# Rows of one INSERT of attempts: far below any database's limit of parameters.
ATTEMPTS_PER_INSERT = 256


def save(results: list[Result]) -> None:
    """Record outcomes in a few statements: the attempts, then the delivered deliveries (one
    UPDATE per reply status and Location header, usually one in all: only POSTs of CDRs get
    a Location), then the others (retried or failed: rare)."""
    if not results:
        return
    statements = written(DEFAULT_DB_ALIAS)
    delivered: dict[tuple[int | None, int | None, str], list[int]] = {}
    others = []
    for result in results:
        if result.status == DeliveryStatus.DELIVERED:
            key = (result.http_status, result.ocpi_status, result.location)
            delivered.setdefault(key, []).append(result.pk)
        else:
            next_attempt = result.next_attempt_at and db_time(result.next_attempt_at)
            others.append(
                (result.status, result.attempts, next_attempt)
                + (result.http_status, result.ocpi_status, result.error, result.pk)
            )
    moment = db_time(now())
    attempts = [
        (r.pk, db_time(r.started_at), r.duration_ms, r.http_status, r.ocpi_status)
        + (r.error if r.status != DeliveryStatus.DELIVERED else "", r.excerpt)
        for r in results
    ]
    with transaction.atomic(), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        for start in range(0, len(attempts), ATTEMPTS_PER_INSERT):
            chunk = attempts[start : start + ATTEMPTS_PER_INSERT]
            cursor.execute(
                statements.attempts(len(chunk)), [value for attempt in chunk for value in attempt]
            )
        for (http_status, ocpi_status, location), pks in delivered.items():
            cursor.execute(
                *statements.delivered(
                    pks,
                    DeliveryStatus.DELIVERED.value,
                    moment,
                    location,
                    http_status,
                    ocpi_status,
                    "",
                )
            )
        if others:
            cursor.executemany(statements.other, others)


def release(deliveries: list[Claimed], delay: timedelta | None) -> None:
    """Put unsent claimed deliveries back, to try again after `delay` (None: when they were
    due; a retry ahead of them in their queue holds them anyway)."""
    if not deliveries:
        return
    unsent = Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries], status=DeliveryStatus.IN_FLIGHT
    )
    if delay is None:
        unsent.update(status=DeliveryStatus.PENDING, claimed_at=None)
    else:
        unsent.update(status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=now() + delay)


def fail(deliveries: list[Claimed], error: str) -> None:
    """Fail claimed deliveries for good, unsent: nothing could deliver them."""
    # Still ours only while IN_FLIGHT: a claim released as stale may have gone out since.
    Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries], status=DeliveryStatus.IN_FLIGHT
    ).update(status=DeliveryStatus.FAILED, last_error=error)


@dataclass(frozen=True)
class Statements:
    attempts: Listed  # Attempts, each ATTEMPT_COLUMNS, one row of placeholders per attempt
    delivered: ForIds  # status, delivered_at, Location, HTTP, OCPI, error, then the ids
    other: str  # status, attempts, next attempt (NULL: unchanged), HTTP, OCPI, error, id


@cache
def written(using: str) -> Statements:
    """The SQL of recording, written once per database."""
    quote = connections[using].ops.quote_name
    deliveries = sql.table(Delivery, using)
    status, attempts = quote("status"), quote("attempts")
    finished = (
        f"{quote('claimed_at')} = NULL, {quote('last_http_status')} = %s, "
        f"{quote('last_ocpi_status')} = %s, {quote('last_error')} = %s"
    )
    return Statements(
        attempts=Listed(
            f"INSERT INTO {sql.table(Attempt, using)} "  # noqa: S608 (names from _meta)
            f"({', '.join(quote(name) for name in ATTEMPT_COLUMNS)}) VALUES ",
            placeholders(len(ATTEMPT_COLUMNS)),
        ),
        delivered=ForIds(
            f"UPDATE {deliveries} SET {status} = %s, {attempts} = {attempts} + 1, "  # noqa: S608 (names from _meta)
            f"{quote('delivered_at')} = %s, {quote('response_location')} = %s, {finished} "
            f"WHERE {quote('id')}",
            "",
            array=has_arrays(using),
        ),
        other=(
            f"UPDATE {deliveries} SET {status} = %s, {attempts} = %s, "  # noqa: S608 (names from _meta)
            f"{quote('next_attempt_at')} = COALESCE(%s, {quote('next_attempt_at')}), "
            f"{finished} WHERE {quote('id')} = %s"
        ),
    )
