"""The operator's load management and profile screens: a grid limit edited (its windows
checked, its site planned again on save), its current plan shown; requests read-only."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from chargers.models import ChargePoint
from chargingprofiles.loadmanagement import replan
from chargingprofiles.models import GridLimit
from locations.models import EVSE, Location
from tests.chargingprofiles.conftest import START, calls, charging

pytestmark = pytest.mark.django_db

GRID_LIMITS = "/admin/chargingprofiles/gridlimit/"


def form(location: Location, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Car park",
        "location": location.pk,
        "max_kw": "15",
        "max_phase_a": "",
        "windows": '[{"from": "17:00", "until": "21:00", "max_kw": 6}]',
        "active": "on",
        **overrides,
    }


def test_a_grid_limit_added_plans_its_site(
    operator: Client,
    point: ChargePoint,
    location: Location,
    django_capture_on_commit_callbacks: Callable[..., Any],
    eager_tasks: None,
) -> None:
    session = charging(point, "3256", at=START - timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(f"{GRID_LIMITS}add/", form(location, windows="[]"))

    assert response.status_code == 302
    limit = GridLimit.objects.get()
    assert limit.planned_at is not None
    assert [call.action for call in calls()] == ["SetChargingProfile"]
    page = operator.get(f"{GRID_LIMITS}{limit.pk}/change/").content.decode()
    assert "shares_w" in page
    assert limit.plan == {session.ocpi_id: "10560.0"}  # the EVSE's 16 A under 15 kW


@pytest.mark.parametrize(
    "overrides",
    [
        {"windows": '[{"from": "17:00", "until": "17:00", "max_kw": 6}]'},
        {"windows": '{"from": "17:00"}'},
        {"max_kw": "-1"},
    ],
)
def test_a_grid_limit_that_makes_no_sense_is_refused(
    operator: Client, location: Location, overrides: dict[str, Any]
) -> None:
    response = operator.post(f"{GRID_LIMITS}add/", form(location, **overrides))

    assert response.status_code == 200
    assert GridLimit.objects.count() == 0


def test_evses_of_another_location_are_refused(
    operator: Client, location: Location, our_party: Any
) -> None:
    other = Location.objects.create(
        **{
            field.name: getattr(location, field.name)
            for field in Location._meta.concrete_fields
            if field.name not in ("id", "ocpi_id")
        },
        ocpi_id="LOC2",
    )
    evse = EVSE.objects.get(uid="3256")

    response = operator.post(f"{GRID_LIMITS}add/", form(other, evses=[evse.pk]))

    assert response.status_code == 200
    assert "Not at this location: 3256" in response.content.decode()


def test_requests_and_session_profiles_are_read_only(operator: Client, location: Location) -> None:
    for model in ("profilerequest", "sessionprofile"):
        assert operator.get(f"/admin/chargingprofiles/{model}/").status_code == 200
        assert operator.get(f"/admin/chargingprofiles/{model}/add/").status_code == 403


def test_an_evse_behind_another_group_is_refused(operator: Client, location: Location) -> None:
    evse = EVSE.objects.get(uid="3256")
    first = GridLimit.objects.create(name="Row A", location=location, max_kw=10)
    first.evses.set([evse])

    response = operator.post(f"{GRID_LIMITS}add/", form(location, evses=[evse.pk]))

    assert response.status_code == 200
    assert "Behind another limit already (limits do not nest): 3256" in response.content.decode()
    assert GridLimit.objects.count() == 1


def test_a_grid_limit_deleted_releases_its_sessions(
    operator: Client, point: ChargePoint, location: Location
) -> None:
    limit = GridLimit.objects.create(name="Car park", location=location, max_kw=6)
    charging(point, "3256")
    replan(limit.pk, START + timedelta(minutes=1))

    response = operator.post(f"{GRID_LIMITS}{limit.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert [call.action for call in calls()] == ["SetChargingProfile", "ClearChargingProfile"]
