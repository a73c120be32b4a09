"""The claim's scan walks the partial index of open deliveries, whatever the statistics say."""

import pytest
from django.db import connection

from credentials.models import PartnerPlatform
from ocpi.time import now
from push.claims import written
from push.models import Change, Delivery
from push.statements import db_time

pytestmark = pytest.mark.django_db

PARTNERS = 20
PER_PARTNER = 300


def plan(partner: PartnerPlatform) -> str:
    """The database's plan for the scan of one partner's open deliveries."""
    explain = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    params = {"partner": partner.pk, "now": db_time(now()), "after": 0, "page": 192}
    with connection.cursor() as cursor:
        cursor.execute(f"{explain} {written('default').scan}", params)
        return "\n".join(str(row) for row in cursor.fetchall())


def test_the_scan_uses_the_open_index_when_statistics_say_everything_is_open(make_partner):
    """Statistics taken while a burst was pending say every delivery is open; PostgreSQL
    then walked the primary key for `partner = … ORDER BY id`, filtering out every other
    partner's rows (14,000 of them a claim, seen in bench/push_status.py)."""
    partners = [make_partner(f"http://127.0.0.1:9/{n}", party=f"P{n:02}") for n in range(PARTNERS)]
    change = Change.objects.create(
        module="locations", method="PATCH", object_key="k", path=[], payload={}
    )
    moment = now()
    Delivery.objects.bulk_create(
        Delivery(
            change=change,
            partner=partner,
            queue_key=f"q{n}",
            next_attempt_at=moment,
        )
        for n in range(PER_PARTNER)
        for partner in partners
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    assert "delivery_open" in plan(partners[3])
