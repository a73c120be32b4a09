"""The dashboard's figures of a date range (the days the kept figures recompute, the site
ranking) read only what their covering index carries
(cdr_end, session_start: on PostgreSQL an index-only scan instead of wide rows), and the
columns the CDR's site is read from follow its sealed CdrLocation."""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from cdrs import daily as cdr_days
from cdrs.models import Cdr
from cdrs.selectors import cdr_top_sites
from sessions import daily as session_days
from sessions.models import Session
from tests.cdrs.conftest import cdr_location
from tests.dashboard.estate import MOMENT, add_cdr, at
from tests.partners import only_local_party

SINCE = MOMENT - timedelta(days=29)


def covered(model: type[models.Model], name: str) -> set[str]:
    index = next(one for one in model._meta.indexes if one.name == name)
    columns = {*index.fields, *index.include}
    fields = [model._meta.get_field(name) for name in columns]
    return {str(field.column) for field in fields if isinstance(field, models.Field)}


def columns_read(table: str, figures: Callable[[], Any]) -> set[str]:
    """The columns of `table` (its own rows, not a joined alias) the queries of `figures` read."""
    with CaptureQueriesContext(connection) as queries:
        figures()
    assert queries.captured_queries, "no query: nothing was checked"
    return {
        column
        for query in queries.captured_queries
        for column in re.findall(rf'"{table}"\."(\w+)"', query["sql"])
    }


@pytest.mark.parametrize(
    "figures",
    [
        # The kept figures' recompute of the days from SINCE (ocpi.daily_figures).
        lambda: cdr_days.KEPT.figures(Cdr.objects.ended_in(SINCE, None), MOMENT.tzinfo),  # type: ignore[arg-type]
        lambda: cdr_top_sites(since=SINCE, top=10, currencies=["CHF", "EUR"]),
    ],
    ids=["kept per day and party", "site ranking"],
)
def test_the_cdr_figures_read_only_what_cdr_end_carries(
    db: None, figures: Callable[[], Any]
) -> None:
    read = columns_read(Cdr._meta.db_table, figures)

    assert "end_date_time" in read
    assert read <= covered(Cdr, "cdr_end"), read - covered(Cdr, "cdr_end")


@pytest.mark.parametrize(
    "figures",
    [
        lambda: session_days.KEPT.figures(
            Session.objects.filter(start_date_time__gte=SINCE),
            MOMENT.tzinfo,  # type: ignore[arg-type]
        ),
    ],
    ids=["kept per day"],
)
def test_the_session_figures_read_only_what_session_start_carries(
    db: None, figures: Callable[[], Any]
) -> None:
    read = columns_read(Session._meta.db_table, figures)

    assert "start_date_time" in read
    assert read <= covered(Session, "session_start"), read - covered(Session, "session_start")


def test_a_column_left_out_of_the_index_is_found(db: None) -> None:
    # The check above can fail: total_time is read here and carried by no index.
    read = columns_read(
        Cdr._meta.db_table, lambda: list(Cdr.objects.values_list("total_time", "end_date_time"))
    )

    assert not read <= covered(Cdr, "cdr_end")


def test_a_cdr_carries_its_sealed_sites_id_and_name_as_columns(db: None) -> None:
    only_local_party()
    cdr = add_cdr(
        "G-1", at("2026-03-15"), "10.50", cdr_location=cdr_location(id="LOC9", name="Gent")
    )
    nameless = {key: value for key, value in cdr_location(id="LOC8").items() if key != "name"}
    unnamed = add_cdr("G-2", at("2026-03-15"), "1.00", cdr_location=nameless)

    assert Cdr.objects.values_list("sealed_site_id", "sealed_site_name").get(pk=cdr.pk) == (
        "LOC9",
        "Gent",
    )
    assert Cdr.objects.values_list("sealed_site_id", "sealed_site_name").get(pk=unnamed.pk) == (
        "LOC8",
        None,
    )


def test_the_corrected_cdr_is_indexed_once_by_its_unique_constraint(db: None) -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Cdr._meta.db_table)
    on_corrects = [c for c in constraints.values() if c["columns"] == ["corrects_id"]]
    indexed = [c for c in on_corrects if c["index"] or c["unique"]]

    assert len(indexed) == 1, indexed
    assert indexed[0]["unique"]
