"""`__ci` (ocpi.lookups): CiString equality that the models' Upper() unique indexes serve."""

from collections.abc import Callable

import pytest
from django.db import connection

from locations.models import Location

pytestmark = pytest.mark.django_db


def test_ci_matches_whatever_the_case(make_location: Callable[..., Location]) -> None:
    location = make_location("Loc-1")

    found = Location.objects.filter(
        country_code__ci=location.country_code.lower(),
        party_id__ci=location.party_id.lower(),
        ocpi_id__ci="lOC-1",
    )

    assert list(found) == [location]


def test_ci_does_not_match_another_id(make_location: Callable[..., Location]) -> None:
    make_location("LOC-1")

    assert not Location.objects.filter(ocpi_id__ci="LOC-10").exists()
    assert not Location.objects.filter(ocpi_id__ci="LOC-%").exists()


def test_ci_reads_through_the_unique_index() -> None:
    """The point of `__ci` over `__iexact`: the lookup by OCPI key is an index search."""
    query = Location.objects.filter(country_code__ci="nl", party_id__ci="tnm", ocpi_id__ci="x")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())

    assert "location_unique_id_per_party" in plan
