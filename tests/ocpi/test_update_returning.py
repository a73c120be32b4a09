"""ocpi.querysets.update_returning: update() in one statement that returns what it wrote,
values as the ORM reads them (an aware datetime on SQLite too), expressions evaluated by the
UPDATE itself, nothing for rows that do not exist."""

from datetime import timedelta

import pytest
from django.db.models import F

from chargers.models import ChargePoint
from ocpi.querysets import update_returning
from ocpi.time import now

pytestmark = pytest.mark.django_db


def test_it_returns_each_written_row_as_the_update_left_it() -> None:
    ChargePoint.objects.bulk_create(
        ChargePoint(identity=f"CP-{n}", ocpp_version="1.6", connection=n) for n in (1, 5)
    )
    moment = now() - timedelta(minutes=3)

    written = update_returning(
        ChargePoint.objects.filter(identity__startswith="CP-"),
        {"connection": F("connection") + 10, "connected_at": moment},
        ["identity", "connection", "connected_at"],
    )

    assert sorted(written) == [("CP-1", 11, moment), ("CP-5", 15, moment)]
    assert written[0][2].tzinfo is not None
    stored = ChargePoint.objects.order_by("identity").values_list("connection", flat=True)
    assert list(stored) == [11, 15]


def test_it_returns_nothing_when_no_row_matches() -> None:
    written = update_returning(
        ChargePoint.objects.filter(identity="NONE"), {"gateway": "gw"}, ["connection"]
    )

    assert written == []


def test_a_field_that_is_no_column_is_refused() -> None:
    with pytest.raises(TypeError, match="no column"):
        update_returning(ChargePoint.objects.all(), {"gateway": "gw"}, ["connector_statuses"])
