"""Load management: a grid limit shared among the sessions behind it, sent as TxProfiles; the
eMSP's profile and the driver's preferences respected; nothing sent when nothing changed."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from chargers.models import ChargePoint, ChargePointCall
from chargingprofiles.loadmanagement import grid_limit_of, parse_windows, replan
from chargingprofiles.models import GridLimit, SessionProfile
from locations.models import EVSE, Location
from push import delivery
from sessions.models import Session
from sessions.services import session_stop
from tests.chargingprofiles.conftest import (
    RESPONSE_URL,
    START,
    URL,
    active_pushes,
    answer,
    calls,
    charging,
)
from tests.conftest import client_for
from tests.partners import registered_emsp
from tests.push.sink import running_sink

pytestmark = pytest.mark.django_db

LATER = START + timedelta(minutes=5)


def grid(location: Location, max_kw: str = "15", **fields: Any) -> GridLimit:
    return GridLimit.objects.create(
        name="Grid connection", location=location, max_kw=Decimal(max_kw), **fields
    )


def limits_sent() -> dict[int, list[float]]:
    """Connector id → the limits of each SetChargingProfile sent to it, in order."""
    sent: dict[int, list[float]] = {}
    for call in calls("SetChargingProfile"):
        profile = call.payload["csChargingProfiles"]["chargingSchedule"]
        sent.setdefault(call.payload["connectorId"], []).append(
            profile["chargingSchedulePeriod"][0]["limit"]
        )
    return sent


def test_three_sessions_share_the_limit_and_a_replan_without_changes_sends_nothing(
    point: ChargePoint, location: Location
) -> None:
    limit = grid(location)
    for uid in ("3256", "3257", "3258"):
        charging(point, uid)

    result = replan(limit.pk, LATER)
    again = replan(limit.pk, LATER + timedelta(minutes=1))

    assert result == again
    assert result is not None
    assert set(result.watts.values()) == {Decimal(5000)}
    # 5000 W on 3 × 220 V = 7.57… A, rounded down.
    assert limits_sent() == {1: [7.5], 2: [7.5], 3: [7.5]}
    limit.refresh_from_db()
    assert limit.limit_w == Decimal(15_000)
    assert limit.plan == {session.ocpi_id: "5000.0" for session in Session.objects.all()}


def test_a_session_that_stops_leaves_its_share_to_the_others(
    point: ChargePoint,
    location: Location,
    django_capture_on_commit_callbacks: Callable[..., Any],
    eager_tasks: None,
) -> None:
    limit = grid(location)
    sessions = [charging(point, uid) for uid in ("3256", "3257", "3258")]
    replan(limit.pk, LATER)

    with django_capture_on_commit_callbacks(execute=True):
        session_stop(session=sessions[0], at=LATER)  # session_status_changed → the site's plan

    # Two left: 7500 W each, 11.3 A on 3 × 220 V; the EVSE's own 16 A allow it.
    assert limits_sent() == {1: [7.5], 2: [7.5, 11.3], 3: [7.5, 11.3]}


def test_a_session_starting_is_planned_with_the_others(
    point: ChargePoint,
    location: Location,
    django_capture_on_commit_callbacks: Callable[..., Any],
    eager_tasks: None,
) -> None:
    grid(location, "12")

    with django_capture_on_commit_callbacks(execute=True):
        first = charging(point, "3256")
    with django_capture_on_commit_callbacks(execute=True):
        charging(point, "3257")
    with django_capture_on_commit_callbacks(execute=True):
        session_stop(session=first, at=LATER)

    # Alone: the EVSE's 10 560 W (16 A) under 12 kW; two: 6000 W each (9.09 A → 9.0); the
    # second alone again.
    assert limits_sent() == {1: [16.0, 9.0], 2: [9.0, 16.0]}


def test_the_emsps_profile_caps_its_session_and_the_rest_goes_to_the_others(
    client_a: APIClient, point: ChargePoint, location: Location
) -> None:
    limit = grid(location)
    capped, *others = [charging(point, uid) for uid in ("3256", "3257", "3258")]
    client_a.put(
        f"{URL}/{capped.ocpi_id}",
        {
            "charging_profile": {
                "charging_rate_unit": "W",
                "charging_profile_period": [{"start_period": 0, "limit": 2000}],
            },
            "response_url": RESPONSE_URL,
        },
        format="json",
    )
    answer(calls()[0], {"status": "Accepted"})

    result = replan(limit.pk, LATER)

    assert result is not None
    assert result.watts[capped.ocpi_id] == Decimal(2000)
    assert [result.watts[s.ocpi_id] for s in others] == [Decimal(6500), Decimal(6500)]
    planned = SessionProfile.objects.get(session=capped)
    assert planned.sent_profile == {
        "charging_rate_unit": "W",
        "charging_profile_period": [{"start_period": 0, "limit": Decimal(2000)}],
    }


def test_an_accepted_plan_is_pushed_to_the_emsp_that_set_a_profile_only(
    client_a: APIClient, point: ChargePoint, location: Location
) -> None:
    limit = grid(location, "12")
    subscribed, silent = charging(point, "3256"), charging(point, "3257")
    client_a.put(
        f"{URL}/{subscribed.ocpi_id}",
        {
            "charging_profile": {
                "charging_rate_unit": "A",
                "charging_profile_period": [{"start_period": 0, "limit": 16}],
            },
            "response_url": RESPONSE_URL,
        },
        format="json",
    )
    answer(calls()[0], {"status": "Accepted"})

    replan(limit.pk, START + timedelta(minutes=10))
    for call in calls("SetChargingProfile")[1:]:
        answer(call, {"status": "Accepted"})

    # 6000 W each on 3 × 220 V: 9.0 A (9.09…), from 10 minutes into the session.
    ((path, body),) = active_pushes()
    assert path == [subscribed.ocpi_id]
    assert body["charging_profile"] == {
        "charging_rate_unit": "A",
        "charging_profile_period": [{"start_period": 0, "limit": Decimal(9)}],
    }
    assert silent.ocpi_id not in str(active_pushes())


def test_minimums_beyond_the_limit_leave_the_latest_session_at_0_and_say_so(
    point: ChargePoint, location: Location
) -> None:
    limit = grid(location, "10")
    early = charging(point, "3256")
    late = charging(point, "3257", at=START + timedelta(minutes=1))
    for session in (early, late):
        Session.objects.filter(pk=session.pk).update(
            charging_preferences={
                "profile_type": "REGULAR",
                "departure_time": "2026-03-02T10:00:00Z",
                "energy_need": Decimal(6),
            }
        )

    result = replan(limit.pk, START + timedelta(minutes=2))

    # Each needs 6 kWh in 58 minutes (6.2 kW): both do not fit in 10 kW.
    assert result is not None
    assert result.starved == (late.ocpi_id,)
    assert result.watts[late.ocpi_id] == 0
    assert result.watts[early.ocpi_id] == Decimal(10_000)
    assert limits_sent() == {1: [15.1], 2: [0.0]}
    limit.refresh_from_db()
    assert limit.starved == [late.ocpi_id]
    assert SessionProfile.objects.get(session=late).starved is True


def test_a_time_of_day_window_lowers_the_limit_then_it_rises_again(
    point: ChargePoint, location: Location
) -> None:
    # 17:00-21:00 Brussels (UTC+1 in March) is 16:00-20:00 UTC.
    limit = grid(location, "20", windows=[{"from": "17:00", "until": "21:00", "max_kw": "6"}])
    charging(point, "3256")
    charging(point, "3257")

    replan(limit.pk, datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    replan(limit.pk, datetime(2026, 3, 2, 16, 30, tzinfo=UTC))
    replan(limit.pk, datetime(2026, 3, 2, 20, 0, tzinfo=UTC))

    assert limits_sent() == {1: [15.1, 4.5, 15.1], 2: [15.1, 4.5, 15.1]}
    limit.refresh_from_db()
    assert limit.next_change_at == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)


def test_a_per_phase_limit(point: ChargePoint, location: Location) -> None:
    limit = grid(location, "100", max_phase_a=Decimal(20))
    charging(point, "3256")
    charging(point, "3257")

    replan(limit.pk, LATER)

    assert limits_sent() == {1: [10.0], 2: [10.0]}


def test_a_group_of_evses_has_its_own_limit_and_the_location_wide_one_the_rest(
    point: ChargePoint, location: Location
) -> None:
    group = grid(location, "8")
    group.evses.set(EVSE.objects.filter(uid__in=["3256", "3257"]))
    rest = grid(location, "3")
    inside = charging(point, "3256")
    outside = charging(point, "3258")

    in_group = replan(group.pk, LATER)
    in_rest = replan(rest.pk, LATER)

    assert in_group is not None
    assert in_rest is not None
    assert list(in_group.watts) == [inside.ocpi_id]
    assert list(in_rest.watts) == [outside.ocpi_id]
    assert grid_limit_of(inside.evse_id, location.pk) == group.pk  # type: ignore[arg-type]
    assert grid_limit_of(outside.evse_id, location.pk) == rest.pk  # type: ignore[arg-type]
    # 8 kW: the EVSE's 10 560 W does not fit, 12.1 A; 3 kW: 4.5 A.
    assert limits_sent() == {1: [12.1], 3: [4.5]}


def test_a_charge_point_offline_is_sent_its_profile_once_back(
    point: ChargePoint, location: Location
) -> None:
    limit = grid(location)
    charging(point, "3256")
    ChargePoint.objects.filter(pk=point.pk).update(gateway="")

    replan(limit.pk, LATER)
    nothing = ChargePointCall.objects.count()
    ChargePoint.objects.filter(pk=point.pk).update(gateway="gw-test")
    replan(limit.pk, LATER)

    assert nothing == 0
    assert limits_sent() == {1: [16.0]}


def test_a_planned_profile_that_failed_is_sent_again_at_the_next_plan(
    point: ChargePoint, location: Location
) -> None:
    limit = grid(location)
    charging(point, "3256")
    replan(limit.pk, LATER)

    answer(calls()[0], None, "TIMED_OUT")
    replan(limit.pk, LATER)

    assert limits_sent() == {1: [16.0, 16.0]}


def test_an_inactive_limit_plans_nothing(point: ChargePoint, location: Location) -> None:
    limit = grid(location, active=False)
    charging(point, "3256")

    assert replan(limit.pk, LATER) is None
    assert calls() == []


@pytest.mark.parametrize(
    "windows",
    [
        {"from": "17:00"},
        [{"from": "17:00", "until": "21:00"}],
        [{"from": "25:00", "until": "21:00", "max_kw": 1}],
        [{"from": "17:00", "until": "17:00", "max_kw": 1}],
        [{"from": "17:00", "until": "21:00", "max_kw": "x"}],
        [{"from": "17:00", "until": "21:00", "max_kw": -1}],
    ],
)
def test_windows_that_make_no_sense_are_refused(windows: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the message is the operator's; any will do)
        parse_windows(windows)


def test_the_active_profile_is_put_at_the_emsps_sender_endpoint_and_the_result_posted(
    point: ChargePoint, location: Location, our_party: Any
) -> None:
    with running_sink() as sink:
        partner = registered_emsp(
            "EmspSink",
            "emsp-sink-token",
            ("DE", "TNM"),
            endpoints=(
                ("chargingprofiles", "SENDER", f"{sink.url}/cp"),
                ("chargingprofiles", "RECEIVER", f"{sink.url}/wrong"),
            ),
        )
        client = client_for("emsp-sink-token")
        limit = grid(location, "6")
        session = charging(point, "3256")
        client.put(
            f"{URL}/{session.ocpi_id}",
            {
                "charging_profile": {
                    "charging_rate_unit": "A",
                    "charging_profile_period": [{"start_period": 0, "limit": 16}],
                },
                "response_url": f"{sink.url}/results/1",
            },
            format="json",
        )
        answer(calls()[0], {"status": "Accepted"})
        replan(limit.pk, START + timedelta(minutes=1))
        answer(calls()[1], {"status": "Accepted"})

        while delivery.deliver_due(partner.pk):
            pass

    # Two queues (the result's URL, the session's profile): in no particular order.
    received = {(r.method, r.path): r for r in sink.received}
    assert set(received) == {("POST", "/results/1"), ("PUT", f"/cp/{session.ocpi_id}")}
    put = received[("PUT", f"/cp/{session.ocpi_id}")]
    # 6000 W on 3 × 220 V: 9.0 A (9.09…, rounded down).
    assert put.body["charging_profile"] == {
        "charging_rate_unit": "A",
        "charging_profile_period": [{"start_period": 0, "limit": 9.0}],
    }
    assert put.headers["ocpi-to-party-id"] == "TNM"


def test_a_limit_switched_off_releases_its_sessions(
    client_a: APIClient, point: ChargePoint, location: Location
) -> None:
    limit = grid(location, "6")
    plain, steered = charging(point, "3256"), charging(point, "3257")
    client_a.put(
        f"{URL}/{steered.ocpi_id}",
        {
            "charging_profile": {
                "charging_rate_unit": "A",
                "charging_profile_period": [{"start_period": 0, "limit": 12}],
            },
            "response_url": RESPONSE_URL,
        },
        format="json",
    )
    answer(calls()[0], {"status": "Accepted"})
    replan(limit.pk, LATER)
    GridLimit.objects.filter(pk=limit.pk).update(active=False)

    assert replan(limit.pk, LATER) is None

    # 3000 W each while planned (4.5 A); then the eMSP's 12 A alone, and the other cleared.
    assert limits_sent() == {1: [4.5], 2: [12.0, 4.5, 12.0]}
    [clear] = calls("ClearChargingProfile")
    transaction_pk = plain.charger_transaction.pk  # type: ignore[union-attr]
    assert clear.payload == {"id": transaction_pk}
    states = SessionProfile.objects.filter(grid_limit__isnull=False)
    assert not states.exists()


def test_an_evse_that_leaves_the_group_is_released(point: ChargePoint, location: Location) -> None:
    limit = grid(location, "6")
    limit.evses.set(EVSE.objects.filter(uid__in=["3256", "3257"]))
    charging(point, "3256")
    charging(point, "3257")
    replan(limit.pk, LATER)

    limit.evses.set(EVSE.objects.filter(uid="3256"))
    replan(limit.pk, LATER)

    # Two at 3000 W (4.5 A); the one left at 6000 W (9.0 A); the other cleared.
    assert limits_sent() == {1: [4.5, 9.0], 2: [4.5]}
    assert [c.payload["id"] for c in calls("ClearChargingProfile")] == [
        SessionProfile.objects.get(session__evse__uid="3257").session.charger_transaction.pk  # type: ignore[union-attr]
    ]
