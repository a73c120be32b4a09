"""A session's running total_cost is what the tariff engine makes of the Session as sent.

After every reading, the eMSP could take the Session object and the tariff we publish and
compute our total_cost with the engine: checked here from the rendered JSON alone, through
exact-decimal JSON text, with the location's time zone.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ocpi import json
from sessions import services
from sessions.metering import Reading
from sessions.models import Session
from sessions.pricing import price
from sessions.serializers import render_session
from tariffs.engine import Timeline, price_session, tariff_from_ocpi, timeline_from_ocpi
from tests.examples import upsert_location, upsert_tariff
from tests.sessions.conftest import (
    START,
    location_payload,
    start,
    tariff_payload,
)

pytestmark = pytest.mark.usefixtures("location")

MINUTE = timedelta(minutes=1)
BRUSSELS = ZoneInfo("Europe/Brussels")
# (minutes since the previous reading, kWh on the meter, average current in A)
READINGS = [(5, "2.1", 31), (10, "6.3", 40), (7, "9.2", 40), (20, "9.2", 0), (9, "9.2", 0)]


def as_sent(value: Any) -> Any:
    """Through JSON text and back, numbers as exact Decimals: what an eMSP receives."""
    return json.loads(json.dumps(value))


def engine_total(session: Session, tariff: dict[str, Any]) -> tuple[Decimal, Decimal]:
    sent = as_sent(render_session(session))
    periods = timeline_from_ocpi({**sent, "end_date_time": "1970-01-01T00:00:00Z"}).periods
    assert session.metered_until is not None
    cost = price_session(
        tariff_from_ocpi(as_sent(tariff)),
        Timeline(periods=periods, end=session.metered_until),
        BRUSSELS,
    )
    return cost.total_cost.excl_vat, cost.total_cost.incl_vat


def use_tariff(name: str) -> dict[str, Any]:
    upsert_tariff(tariff_payload("P", name, type=None, start_date_time=None, end_date_time=None))
    payload = location_payload()
    payload["evses"][0]["connectors"][0]["tariff_ids"] = ["P"]
    upsert_location(payload)
    return {"id": "P"}


@pytest.mark.parametrize(
    "name",
    [
        "tariff_4_complex.json",  # time of day, weekday, current thresholds, parking
        "tariff_10_025kwh_parking_start.json",  # FLAT, ENERGY, parking step 15 min
        "tariff_12_025kwh_min_price.json",  # min_price
        "tariff_6_025kwh_start_max_price.json",  # max_price
        "tariff_14_step_size.json",  # step sizes with parking
    ],
)
def test_the_running_total_cost_is_the_engine_s_price_of_the_session_as_sent(name: str) -> None:
    use_tariff(name)
    session = start(at=START + 7 * 60 * MINUTE)  # 17:00 in Brussels: restrictions change
    assert session.tariff_id == "P"
    tariff = session.tariffs[0]
    moment = session.start_date_time
    totals = []

    for minutes, kwh, current in READINGS:
        moment += minutes * MINUTE
        session = services.session_meter(
            session=session,
            at=moment,
            reading=Reading(kwh=Decimal(kwh), current=Decimal(current)),
        )
        totals.append((session.total_cost_excl_vat, session.total_cost_incl_vat))
        assert totals[-1] == engine_total(session, tariff)

    assert len(set(totals)) > 1
    done = services.session_stop(session=session, at=moment + 3 * MINUTE)
    final = price(done)
    assert final is not None
    assert (done.total_cost_excl_vat, done.total_cost_incl_vat) == (
        final.total_cost.excl_vat,
        final.total_cost.incl_vat,
    )
    completed = as_sent(render_session(done))
    recomputed = price_session(
        tariff_from_ocpi(as_sent(tariff)), timeline_from_ocpi(completed), BRUSSELS
    )
    assert completed["total_cost"] == recomputed.total_cost.as_ocpi()


def test_without_a_tariff_the_total_cost_stays_unknown() -> None:
    payload = location_payload()
    payload["evses"][0]["connectors"][0]["tariff_ids"] = []
    upsert_location(payload)

    session = services.session_meter(
        session=start(), at=START + 10 * MINUTE, reading=Reading(kwh=Decimal(3))
    )
    done = services.session_stop(session=session, at=START + 20 * MINUTE)

    assert (session.tariff_id, session.total_cost_excl_vat) == ("", None)
    assert (done.kwh, done.total_cost_excl_vat, price(done)) == (3, None, None)
    assert "total_cost" not in render_session(done)


def test_a_free_tariff_makes_the_session_free_not_unknown() -> None:
    use_tariff("tariff_5_free_of_charge.json")

    session = services.session_meter(
        session=start(), at=START + 10 * MINUTE, reading=Reading(kwh=Decimal(3))
    )

    assert render_session(session)["total_cost"] == {"excl_vat": 0, "incl_vat": 0}
