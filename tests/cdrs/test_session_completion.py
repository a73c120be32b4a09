"""A session that completes through sessions.services gets its CDR in the same transaction.

sessions.signals.session_completed reaches cdrs.services.cdr_for_session; the CDR is priced
with the session's own pricing call, so its total_cost is the session's final total_cost
(mod_sessions: total_cost; mod_cdrs: total_cost), checked here for generated sessions too.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdrs.models import Cdr
from cdrs.services import render_cdr
from credentials.models import PartnerPlatform
from locations.models import Connector, Location
from push.models import Change
from sessions.metering import Reading
from sessions.models import Session, SessionStatus
from sessions.services import (
    session_activate,
    session_invalidate,
    session_meter,
    session_reserve,
    session_start,
    session_stop,
)
from tariffs.serializers import TariffSerializer
from tariffs.services import tariff_upsert
from tests.examples import tariff_example

pytestmark = pytest.mark.django_db

MONDAY = datetime(2024, 6, 3, 7, 30, tzinfo=UTC)  # 09:30 in Brussels
TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "012345678",
    "type": "RFID",
    "contract_id": "DE8ACC12E46L89",
}
# Spec tariffs of every kind: FLAT, ENERGY, TIME, PARKING_TIME, steps, min/max price,
# time-of-day, current and weekday restrictions, reservations.
PRICED_BY = [
    "tariff_4_complex.json",
    "tariff_6_025kwh_start_max_price.json",
    "tariff_9_025kwh_start.json",
    "tariff_10_025kwh_parking_start.json",
    "tariff_12_025kwh_min_price.json",
    "tariff_13_simple_3hour_5parking.json",
    "tariff_14_step_size.json",
    "tariff_1_simple_2hour.json",
]


def price_connector_with(connector: Connector, name: str) -> str:
    # Valid whenever a generated session runs (tariff_6 ended in 2019).
    payload = {**tariff_example(name), "end_date_time": None}
    serializer = TariffSerializer(data=payload)
    assert serializer.is_valid(), serializer.errors
    tariff = tariff_upsert(data=serializer.validated_data)
    Connector.objects.filter(pk=connector.pk).update(tariff_ids=[tariff.ocpi_id])
    connector.refresh_from_db()
    return tariff.ocpi_id


def connector_of(location: Location) -> Connector:
    return Connector.objects.get(evse__location=location)


def charging(connector: Connector, at: datetime = MONDAY) -> Session:
    """An ACTIVE session of TOKEN at `connector` from `at`."""
    return session_start(
        connector=connector, token=TOKEN, auth_method="WHITELIST", at=at, status="ACTIVE"
    )


def test_stopping_a_session_builds_and_posts_its_cdr(
    location: Location, emsp: PartnerPlatform
) -> None:
    """T10 through the whole lifecycle: 165 min at 16 A with 20 kWh, then 42 min parked."""
    connector = connector_of(location)
    price_connector_with(connector, "tariff_4_complex.json")
    session = charging(connector)
    session = session_meter(
        session=session,
        at=MONDAY + timedelta(minutes=165),
        reading=Reading(kwh=Decimal(20), current=Decimal(16)),
    )

    completed = session_stop(session=session, at=MONDAY + timedelta(minutes=207))

    cdr = Cdr.objects.get()
    assert (cdr.ocpi_id, cdr.charging_session, cdr.session_id) == (
        completed.ocpi_id,
        completed,
        completed.ocpi_id,
    )
    assert (cdr.total_cost_excl_vat, cdr.total_cost_incl_vat) == (
        Decimal("9.00"),
        Decimal("10.30"),
    )
    assert (completed.total_cost_excl_vat, completed.total_cost_incl_vat) == (
        cdr.total_cost_excl_vat,
        cdr.total_cost_incl_vat,
    )
    assert [[d["type"] for d in p["dimensions"]] for p in cdr.charging_periods] == [
        ["ENERGY", "TIME"],  # the session's CURRENT is Session-only
        ["ENERGY", "PARKING_TIME"],
    ]
    assert cdr.cdr_location == completed.cdr_location
    assert Change.objects.filter(module="cdrs").get().payload == render_cdr(cdr)


def test_an_invalidated_session_gets_no_cdr(location: Location, emsp: PartnerPlatform) -> None:
    session = charging(connector_of(location))

    session_invalidate(session=session)

    assert (Cdr.objects.count(), Change.objects.filter(module="cdrs").count()) == (0, 0)


def test_an_expired_reservation_gets_a_cdr_for_the_reservation(
    location: Location, emsp: PartnerPlatform
) -> None:
    """tariff_17: a reservation that expires unused costs its RESERVATION_EXPIRES fee."""
    price_connector_with(connector_of(location), "tariff_17_reservation_with_expire_fee.json")
    session = session_reserve(location=location, token=TOKEN, at=MONDAY)

    completed = session_stop(session=session, at=MONDAY + timedelta(minutes=30))

    cdr = Cdr.objects.get()
    assert cdr.start_date_time == MONDAY
    assert [p["dimensions"] for p in cdr.charging_periods] == [
        [{"type": "RESERVATION_TIME", "volume": Decimal("0.5")}]
    ]
    assert cdr.total_reservation_cost_excl_vat == cdr.total_cost_excl_vat
    assert cdr.total_cost_excl_vat == completed.total_cost_excl_vat
    assert cdr.cdr_location["evse_uid"] == "#NA"


def test_a_reservation_then_charging_starts_the_cdr_at_the_reservation(
    location: Location, emsp: PartnerPlatform
) -> None:
    connector = connector_of(location)
    price_connector_with(connector, "tariff_15_reservation_5_euro_per_hour.json")
    session = session_reserve(location=location, token=TOKEN, at=MONDAY)
    started = MONDAY + timedelta(minutes=15)
    session = session_activate(session=session, at=started, connector=connector)
    session = session_meter(
        session=session, at=started + timedelta(hours=1), reading=Reading(kwh=Decimal(20))
    )

    completed = session_stop(session=session, at=started + timedelta(hours=1))

    cdr = Cdr.objects.get()
    assert (cdr.start_date_time, completed.start_date_time) == (MONDAY, started)
    # T12: 15 min reserved at 5.00/h, the 0.50 start fee, 20 kWh at 0.25.
    assert (cdr.total_cost_excl_vat, completed.total_cost_excl_vat) == (
        Decimal("6.75"),
        Decimal("6.75"),
    )


def test_when_the_cdr_cannot_be_built_the_session_is_not_completed(
    location: Location, emsp: PartnerPlatform
) -> None:
    session = charging(connector_of(location))
    # A frozen location no CdrLocation can carry: the CDR fails, and so does the completion.
    Session.objects.filter(pk=session.pk).update(cdr_location={"id": "LOC1"})

    with pytest.raises(Exception, match="address"):
        session_stop(session=session, at=MONDAY + timedelta(hours=1))

    assert Session.objects.get(pk=session.pk).status == SessionStatus.ACTIVE
    assert Cdr.objects.count() == 0


# --- the session's total_cost is its CDR's, for any session ---------------------------------

readings = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=180),  # minutes since the previous reading
        st.decimals(min_value=0, max_value=40, places=3),  # kWh in them (0: parked)
        st.sampled_from([None, Decimal(10), Decimal(16), Decimal(40), Decimal(63)]),  # A
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tariff=st.sampled_from(PRICED_BY),
    start=st.integers(min_value=0, max_value=7 * 24 * 60 - 1),  # minute of a week
    metering=readings,
    parked=st.integers(min_value=0, max_value=120),
)
def test_a_completed_session_costs_what_its_cdr_costs(
    location: Location,
    emsp: PartnerPlatform,
    tariff: str,
    start: int,
    metering: list[tuple[int, Decimal, Decimal | None]],
    parked: int,
) -> None:
    connector = connector_of(location)
    with transaction.atomic():
        price_connector_with(connector, tariff)
        at = MONDAY + timedelta(minutes=start)
        session = charging(connector, at)
        kwh = Decimal(0)
        for minutes, energy, current in metering:
            at += timedelta(minutes=minutes)
            kwh += energy
            session = session_meter(
                session=session, at=at, reading=Reading(kwh=kwh, current=current)
            )

        completed = session_stop(session=session, at=at + timedelta(minutes=parked))

    cdr: Any = Cdr.objects.get(charging_session=completed)
    assert (cdr.total_cost_excl_vat, cdr.total_cost_incl_vat) == (
        completed.total_cost_excl_vat,
        completed.total_cost_incl_vat,
    )
    assert cdr.total_energy == completed.kwh
    assert (cdr.start_date_time, cdr.end_date_time) == (
        completed.start_date_time,
        completed.end_date_time,
    )
