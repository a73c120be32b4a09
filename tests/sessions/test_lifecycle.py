"""The session lifecycle through sessions.services: what each step stores and refuses."""

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from locations.models import Location
from push.models import Change
from sessions import errors, services
from sessions.metering import Reading
from sessions.models import Session, SessionStatus
from sessions.pricing import price
from sessions.signals import session_completed
from tests.examples import upsert_location, upsert_tariff
from tests.sessions.conftest import (
    START,
    cdr_token,
    connector,
    location_payload,
    start,
    tariff_payload,
)

pytestmark = pytest.mark.usefixtures("location")

MINUTE = timedelta(minutes=1)


def periods(session: Session) -> list[tuple[Any, dict[str, Decimal], str]]:
    return [
        (p.start_date_time, {d["type"]: d["volume"] for d in p.dimensions}, p.tariff_id)
        for p in session.charging_periods.order_by("position")
    ]


# --- starting ----------------------------------------------------------------------------------


def test_a_session_starts_with_its_location_and_tariff_frozen() -> None:
    session = start(authorization_reference="AUTH-1", meter_id="M 1")

    assert str(uuid.UUID(session.ocpi_id)) == session.ocpi_id
    assert (session.country_code, session.party_id, session.status) == ("BE", "BEC", "ACTIVE")
    assert (session.start_date_time, session.metered_until, session.end_date_time) == (
        START,
        START,
        None,
    )
    assert (session.kwh, session.total_cost_excl_vat, session.currency) == (0, None, "EUR")
    assert (session.token_party_id, session.token_uid, session.contract_id) == (
        "TNM",
        "012345678",
        "DE-TNM-C012345678",
    )
    assert (session.authorization_reference, session.meter_id) == ("AUTH-1", "M 1")
    assert session.cdr_location == {
        "id": "LOC1",
        "name": "Gent Zuid",
        "address": "F.Rooseveltlaan 3A",
        "city": "Gent",
        "postal_code": "9000",
        "country": "BEL",
        "coordinates": {"latitude": "51.047599", "longitude": "3.729944"},
        "evse_uid": "3256",
        "evse_id": "BE*BEC*E041503001",
        "connector_id": "1",
        "connector_standard": "IEC_62196_T2",
        "connector_format": "CABLE",
        "connector_power_type": "AC_3_PHASE",
    }
    assert [t["id"] for t in session.tariffs] == ["11"]
    assert session.tariffs[0]["elements"][0]["price_components"][1] == {
        "type": "ENERGY",
        "price": Decimal("0.25"),
        "vat": Decimal("10"),
        "step_size": 1,
    }
    assert (session.tariff_id, session.time_zone) == ("11", "Europe/Brussels")


def test_a_pending_session_is_not_metered_yet() -> None:
    session = start(status="PENDING")

    assert (session.status, session.metered_until) == ("PENDING", None)
    with pytest.raises(errors.IllegalTransition, match="only an ACTIVE session is metered"):
        services.session_meter(session=session, at=START + MINUTE, reading=Reading(kwh=Decimal(1)))


def test_the_cdr_location_keeps_to_its_own_lengths() -> None:
    upsert_location(location_payload(address="A" * 60, state="S" * 30, city="C" * 45))

    frozen = start().cdr_location

    assert (frozen["address"], frozen["state"], frozen["city"]) == ("A" * 45, "S" * 20, "C" * 45)


def test_an_explicit_id_is_kept_and_cannot_be_taken_twice() -> None:
    first = start(session_id="sess-1")

    with pytest.raises(errors.SessionError, match="already exists"):
        start(session_id="SESS-1")
    with pytest.raises(errors.SessionError, match="longer than 36"):
        start(session_id="x" * 37)
    assert list(Session.objects.values_list("ocpi_id", flat=True)) == [first.ocpi_id]


@pytest.mark.parametrize(
    ("field", "value"),
    [("country_code", "DEU"), ("party_id", "TN"), ("uid", "u" * 37), ("type", "CARD")],
)
def test_a_bad_token_stores_nothing(field: str, value: str) -> None:
    with pytest.raises(errors.SessionError, match=field):
        start(token={**cdr_token(), field: value})

    assert not Session.objects.exists()
    assert not Change.objects.filter(module="sessions").exists()


def test_only_roaming_locations_have_sessions() -> None:
    upsert_location(location_payload(), roaming=False)

    with pytest.raises(errors.NotAtRoamingLocation, match="not offered to roaming"):
        start()


def test_a_removed_evse_has_no_sessions() -> None:
    payload = location_payload()
    payload["evses"][0]["status"] = "REMOVED"
    upsert_location(payload)

    with pytest.raises(errors.NotAtRoamingLocation, match="REMOVED"):
        start()


@pytest.mark.parametrize(
    ("validity", "frozen"),
    [
        ({"start_date_time": "2026-03-02T09:00:00Z"}, ["11"]),  # from: inclusive
        ({"end_date_time": "2026-03-02T09:00:00Z"}, []),  # until: exclusive
        ({"start_date_time": "2026-03-02T09:00:01Z"}, []),
        ({"end_date_time": "2026-03-02T09:00:01Z"}, ["11"]),
    ],
)
def test_only_tariffs_valid_at_the_start_are_frozen(
    validity: dict[str, str], frozen: list[str], settings: Any
) -> None:
    settings.OCPI_CURRENCY = "CHF"
    upsert_tariff(tariff_payload("11", "tariff_10_025kwh_parking_start.json", **validity))

    session = start()

    assert [t["id"] for t in session.tariffs] == frozen
    assert session.tariff_id == (frozen[0] if frozen else "")
    assert session.currency == ("EUR" if frozen else "CHF")


def set_connector_tariffs(*tariffs: tuple[str, str | None]) -> None:
    """Connector 3256/1 priced by these (id, type) tariffs, in this order."""
    for tariff_id, kind in tariffs:
        upsert_tariff(tariff_payload(tariff_id, "tariff_1_simple_2hour.json", type=kind))
    payload = location_payload()
    payload["evses"][0]["connectors"][0]["tariff_ids"] = [t for t, _ in tariffs]
    upsert_location(payload)


@pytest.mark.parametrize(
    ("profile", "chosen"),
    [(None, "REG"), ("REGULAR", "REG"), ("CHEAP", "CHEAP"), ("FAST", "REG"), ("GREEN", "REG")],
)
def test_the_tariff_that_prices_the_session(profile: str | None, chosen: str) -> None:
    set_connector_tariffs(
        ("ADHOC", "AD_HOC_PAYMENT"),
        ("ANY", None),
        ("CHEAP", "PROFILE_CHEAP"),
        ("REG", "REGULAR"),
    )

    session = start(profile_type=profile)

    assert [t["id"] for t in session.tariffs] == ["ADHOC", "ANY", "CHEAP", "REG"]
    assert session.tariff_id == chosen


def test_an_untyped_tariff_prices_when_there_is_no_regular_one_and_ad_hoc_never() -> None:
    set_connector_tariffs(("ADHOC", "AD_HOC_PAYMENT"), ("FAST", "PROFILE_FAST"), ("ANY", None))

    assert start().tariff_id == "ANY"
    set_connector_tariffs(("ADHOC", "AD_HOC_PAYMENT"), ("FAST", "PROFILE_FAST"))
    assert start().tariff_id == ""


# --- activating --------------------------------------------------------------------------------


def test_a_pending_session_becomes_active_with_the_latest_authorization() -> None:
    pending = start(status="PENDING", auth_method="COMMAND", authorization_reference="OLD")
    at = START + 2 * MINUTE

    active = services.session_activate(
        session=pending, at=at, auth_method="WHITELIST", authorization_reference="NEW"
    )

    assert (active.status, active.start_date_time, active.metered_until) == ("ACTIVE", at, at)
    assert (active.auth_method, active.authorization_reference) == ("WHITELIST", "NEW")
    assert not active.charging_periods.exists()


def test_a_session_cannot_become_active_before_it_began() -> None:
    pending = start(status="PENDING")

    with pytest.raises(errors.SessionError, match="before it began"):
        services.session_activate(session=pending, at=START - MINUTE)


def test_a_reservation_of_a_location_has_no_evse_until_charging_binds_one(
    location: Location,
) -> None:
    reserved = services.session_reserve(location=location, token=cdr_token(), at=START)

    assert (reserved.status, reserved.evse, reserved.connector) == ("RESERVATION", None, None)
    assert (reserved.reserved_from, reserved.reserved_until) == (START, None)
    assert reserved.cdr_location["evse_uid"] == reserved.cdr_location["connector_id"] == "#NA"
    assert reserved.cdr_location["evse_id"] == "#NA"
    assert [t["id"] for t in reserved.tariffs] == ["11", "13", "12"]

    with pytest.raises(errors.SessionError, match="name it"):
        services.session_activate(session=reserved, at=START + MINUTE)
    active = services.session_activate(
        session=reserved, at=START + 15 * MINUTE, connector=connector("3257", "1")
    )

    assert active.evse is not None
    assert active.connector is not None
    assert (active.evse.uid, active.connector.ocpi_id) == ("3257", "1")
    assert active.cdr_location["evse_uid"] == "3257"
    assert active.cdr_location["connector_id"] == "1"


def test_a_reservation_s_time_becomes_its_first_period_and_is_priced() -> None:
    """T12 (checklist §5.3): tariff_15, charging 15 min after the reservation, 20 kWh: 6.75."""
    reserved = services.session_reserve(
        location=Location.objects.get(), evse=connector("3257").evse, token=cdr_token(), at=START
    )
    charging = START + 15 * MINUTE

    active = services.session_activate(session=reserved, at=charging, connector=connector("3257"))

    assert active.tariff_id == "12"
    assert (active.reserved_until, active.start_date_time) == (charging, charging)
    assert periods(active) == [(START, {"RESERVATION_TIME": Decimal("0.2500")}, "12")]
    assert (active.total_cost_excl_vat, active.total_cost_incl_vat) == (
        Decimal("1.25"),
        Decimal("1.5"),
    )

    done = services.session_stop(
        session=active, at=charging + 60 * MINUTE, reading=Reading(kwh=Decimal(20))
    )

    assert done.kwh == 20
    assert (done.total_cost_excl_vat, done.total_cost_incl_vat) == (Decimal("6.75"), Decimal("7.6"))


def test_a_reservation_binds_only_its_own_evse(location: Location) -> None:
    reserved = services.session_reserve(
        location=location, evse=connector("3257").evse, token=cdr_token(), at=START
    )

    with pytest.raises(errors.SessionError, match="not on the reserved EVSE"):
        services.session_activate(session=reserved, at=START + MINUTE, connector=connector())


def test_a_reservation_that_ends_without_charging_is_completed_with_its_time() -> None:
    reserved = services.session_reserve(
        location=Location.objects.get(), evse=connector("3257").evse, token=cdr_token(), at=START
    )

    done = services.session_stop(session=reserved, at=START + 60 * MINUTE)

    assert (done.status, done.end_date_time, done.reserved_until) == (
        "COMPLETED",
        START + 60 * MINUTE,
        START + 60 * MINUTE,
    )
    assert periods(done) == [(START, {"RESERVATION_TIME": Decimal("1.0000")}, "12")]
    assert (done.total_cost_excl_vat, done.total_cost_incl_vat) == (Decimal("5"), Decimal("6"))


# --- metering ----------------------------------------------------------------------------------


def test_a_reading_becomes_a_period_since_the_previous_one() -> None:
    session = start()

    session = services.session_meter(
        session=session,
        at=START + 5 * MINUTE,
        reading=Reading(kwh=Decimal("0.91666"), max_power=Decimal(11), state_of_charge=Decimal(40)),
    )
    session = services.session_meter(
        session=session, at=START + 10 * MINUTE, reading=Reading(kwh=Decimal("0.91666"))
    )

    assert periods(session) == [
        (
            START,
            {
                "ENERGY": Decimal("0.9167"),
                "TIME": Decimal("0.0833"),
                "MAX_POWER": Decimal("11.0000"),
                "STATE_OF_CHARGE": Decimal("40.0000"),
            },
            "11",
        ),
        (START + 5 * MINUTE, {"ENERGY": Decimal("0"), "PARKING_TIME": Decimal("0.0833")}, "11"),
    ]
    assert (session.kwh, session.metered_until) == (Decimal("0.9167"), START + 10 * MINUTE)
    # tariff 11: FLAT 0.50 + 916.7 Wh billed 917 (step 1 Wh) × 0.25/kWh + 5 min parking
    # billed 15 (step 900 s) × 2.00/h = 0.50 + 0.22925 + 0.50, rounded half up
    assert session.total_cost_excl_vat == Decimal("1.2293")


def test_a_meter_that_goes_backwards_changes_nothing() -> None:
    session = services.session_meter(
        session=start(), at=START + MINUTE, reading=Reading(kwh=Decimal(2))
    )

    with pytest.raises(errors.InvalidPeriods, match="backwards"):
        services.session_meter(
            session=session, at=START + 2 * MINUTE, reading=Reading(kwh=Decimal(1))
        )
    with pytest.raises(errors.InvalidPeriods, match="not after the previous one"):
        services.session_meter(session=session, at=START + MINUTE, reading=Reading(kwh=Decimal(3)))

    session.refresh_from_db()
    assert (session.kwh, session.charging_periods.count()) == (2, 1)


def test_periods_are_added_where_the_last_one_ended() -> None:
    session = start()
    five = START + 5 * MINUTE

    def energy(at: Any, kwh: str) -> dict[str, Any]:
        return {"start_date_time": at, "dimensions": [{"type": "ENERGY", "volume": Decimal(kwh)}]}

    with pytest.raises(errors.InvalidPeriods, match="must start where the last one ended"):
        services.session_add_periods(session=session, periods=[energy(five, "1")], until=five)
    with pytest.raises(errors.InvalidPeriods, match="one after the other"):
        services.session_add_periods(
            session=session, periods=[energy(START, "1"), energy(START, "1")], until=five
        )
    with pytest.raises(errors.InvalidPeriods, match="after the last period's start"):
        services.session_add_periods(session=session, periods=[energy(START, "1")], until=START)

    session = services.session_add_periods(
        session=session,
        periods=[energy(START, "1.5"), {**energy(five - MINUTE, "0.25"), "tariff_id": "OTHER"}],
        until=five,
    )

    assert periods(session) == [
        (START, {"ENERGY": Decimal("1.5000")}, "11"),
        (five - MINUTE, {"ENERGY": Decimal("0.2500")}, "OTHER"),
    ]
    assert (session.kwh, session.metered_until) == (Decimal("1.75"), five)


# --- ending ------------------------------------------------------------------------------------


def test_stopping_closes_the_last_period_and_completes_the_session() -> None:
    session = services.session_meter(
        session=start(), at=START + 30 * MINUTE, reading=Reading(kwh=Decimal(5))
    )
    end = START + 40 * MINUTE

    done = services.session_stop(session=session, at=end)

    assert (done.status, done.end_date_time, done.metered_until, done.kwh) == (
        "COMPLETED",
        end,
        end,
        5,
    )
    assert periods(done)[-1] == (
        START + 30 * MINUTE,
        {"ENERGY": Decimal("0"), "PARKING_TIME": Decimal("0.1667")},
        "11",
    )
    cost = price(done)
    assert cost is not None
    assert (done.total_cost_excl_vat, done.total_cost_incl_vat) == (
        cost.total_cost.excl_vat,
        cost.total_cost.incl_vat,
    )


def test_completion_is_signalled_inside_its_transaction() -> None:
    seen: list[tuple[str, int, bool]] = []

    def receiver(sender: Any, session: Session, **kwargs: Any) -> None:
        stored = Session.objects.get(pk=session.pk)
        seen.append((stored.status, stored.charging_periods.count(), transaction.get_autocommit()))

    session_completed.connect(receiver)
    try:
        services.session_stop(session=start(), at=START + MINUTE, reading=Reading(kwh=Decimal(1)))
    finally:
        session_completed.disconnect(receiver)

    assert seen == [("COMPLETED", 1, False)]


def test_a_failing_receiver_undoes_the_completion() -> None:
    session = start()

    def receiver(sender: Any, session: Session, **kwargs: Any) -> None:
        raise RuntimeError("no CDR")

    session_completed.connect(receiver)
    try:
        with pytest.raises(RuntimeError, match="no CDR"):
            services.session_stop(session=session, at=START + MINUTE)
    finally:
        session_completed.disconnect(receiver)

    session.refresh_from_db()
    assert (session.status, session.end_date_time, session.charging_periods.count()) == (
        "ACTIVE",
        None,
        0,
    )
    assert list(Change.objects.values_list("method", flat=True)) == []  # no eMSP registered


def test_an_invalid_session_is_never_completed() -> None:
    invalid = services.session_invalidate(session=start())

    assert (invalid.status, invalid.end_date_time) == ("INVALID", None)


@pytest.mark.parametrize("status", ["COMPLETED", "INVALID"])
def test_a_finished_session_never_changes(status: str) -> None:
    session = start()
    if status == "COMPLETED":
        session = services.session_stop(session=session, at=START + MINUTE)
    else:
        session = services.session_invalidate(session=session)
    later = START + 2 * MINUTE

    for change in (
        lambda: services.session_activate(session=session, at=later),
        lambda: services.session_stop(session=session, at=later),
        lambda: services.session_invalidate(session=session),
    ):
        with pytest.raises(errors.IllegalTransition, match=f"is {status} and cannot become"):
            change()
    with pytest.raises(errors.IllegalTransition, match="only an ACTIVE session is metered"):
        services.session_meter(session=session, at=later, reading=Reading(kwh=Decimal(1)))


@pytest.mark.parametrize(
    ("status", "target", "allowed"),
    [
        ("PENDING", "ACTIVE", True),
        ("PENDING", "COMPLETED", False),
        ("PENDING", "INVALID", True),
        ("ACTIVE", "ACTIVE", False),
        ("ACTIVE", "COMPLETED", True),
        ("RESERVATION", "COMPLETED", True),
    ],
)
def test_the_transitions(status: str, target: str, allowed: bool, location: Location) -> None:
    if status == "RESERVATION":
        session = services.session_reserve(location=location, token=cdr_token(), at=START)
    else:
        session = start(status=status)
    later = START + MINUTE
    action = {
        SessionStatus.ACTIVE: lambda: services.session_activate(session=session, at=later),
        SessionStatus.COMPLETED: lambda: services.session_stop(session=session, at=later),
        SessionStatus.INVALID: lambda: services.session_invalidate(session=session),
    }[SessionStatus(target)]

    if allowed:
        assert action().status == target
    else:
        with pytest.raises(errors.IllegalTransition):
            action()


def test_a_stop_at_the_last_reading_adds_no_period_but_refuses_new_energy() -> None:
    at = START + 5 * MINUTE
    session = services.session_meter(session=start(), at=at, reading=Reading(kwh=Decimal(2)))

    with pytest.raises(errors.InvalidPeriods, match="needs time after the previous one"):
        services.session_stop(session=session, at=at, reading=Reading(kwh=Decimal(3)))
    done = services.session_stop(session=session, at=at, reading=Reading(kwh=Decimal(2)))

    assert (done.status, done.kwh, done.charging_periods.count()) == ("COMPLETED", 2, 1)
