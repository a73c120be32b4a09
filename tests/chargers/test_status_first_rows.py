"""A connector's first report when another writer makes its row meanwhile (on PostgreSQL another
transaction, committed; SQLite takes one writer at a time, so there the row is made in the
batch's own transaction, just before its INSERT: the same rule without the race). The status
batch makes the rows it lacks in one INSERT … ON CONFLICT DO NOTHING: a row another writer made
between the batch's read and its INSERT is left as it is and read, and the batch's report
applies to it as to any row, by the older-report rule (chargers.status)."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection, connections

from chargers import status
from chargers.models import ChargePoint, ConnectorStatus
from locations.models import Location
from ocpi.time import now
from tests.chargers.status_estate import UIDS, charge_point, location, partner, statuses

__all__ = ["location", "partner"]  # fixtures

pytestmark = [
    pytest.mark.django_db(transaction=True),
]


@contextmanager
def made_meanwhile(cp: ChargePoint, reported: str, at: datetime) -> Iterator[list[bool]]:
    """Another writer makes connector 1's row with `reported` just before this connection's
    first INSERT into the connector rows runs (PostgreSQL: a thread, its own connection,
    committed; SQLite: in this connection's transaction)."""
    made: list[bool] = []

    def make() -> None:
        ConnectorStatus.objects.create(
            charge_point=cp,
            ocpp_evse_id=1,
            connector_id=0,
            status=reported,
            reported_at=at,
            received_at=now(),
        )

    def write() -> None:
        try:
            make()
        finally:
            connections.close_all()

    def wrapper(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        # PostgreSQL: INSERT INTO … ON CONFLICT DO NOTHING; SQLite: INSERT OR IGNORE INTO …
        inserting = sql.startswith("INSERT") and 'INTO "chargers_connectorstatus"' in sql
        if not made and inserting:
            made.append(True)  # first: make()'s own INSERT comes through here too
            if connection.vendor == "postgresql":
                writer = threading.Thread(target=write)
                writer.start()
                writer.join()
            else:
                make()
        return execute(sql, *args)

    with connection.execute_wrapper(wrapper):
        yield made


def arrival(cp: ChargePoint, reported: str, at: datetime) -> status.Arrival:
    return status.Arrival(cp, status.Report(1, 0, reported, at), now())


def test_a_first_report_newer_than_the_row_made_meanwhile_applies_over_it(
    location: Location,
) -> None:
    cp = charge_point("1.6", *UIDS)
    start = now()

    with made_meanwhile(cp, "Preparing", start - timedelta(seconds=10)) as made:
        previous = status.record_all([arrival(cp, "Available", start)])

    assert made == [True]
    assert previous == ["Preparing"]  # its connector's status before: the other writer's
    row = ConnectorStatus.objects.get()
    assert (row.status, row.reported_at) == ("Available", start)
    assert statuses()[0] == "AVAILABLE"


def test_a_first_report_older_than_the_row_made_meanwhile_is_not_applied(
    location: Location,
) -> None:
    cp = charge_point("1.6", *UIDS)
    start = now()

    with made_meanwhile(cp, "Charging", start + timedelta(seconds=10)) as made:
        previous = status.record_all([arrival(cp, "Available", start)])

    assert made == [True]
    assert previous == [None]
    row = ConnectorStatus.objects.get()
    assert (row.status, row.reported_at) == ("Charging", start + timedelta(seconds=10))
    assert ConnectorStatus.objects.count() == 1
