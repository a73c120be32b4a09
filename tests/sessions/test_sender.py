"""The Sessions Sender interface (mod_sessions, CPO Interface): the list, charging preferences."""

import io
import json as stdlib_json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from credentials.models import PartnerPlatform
from locations.models import Location
from ocpi import json
from ocpi.time import now
from push.models import Change
from sessions import services
from sessions.metering import Reading
from sessions.models import Session
from sessions.serializers import render_session
from tests.conftest import client_for
from tests.examples import upsert_location, upsert_tariff
from tests.partners import registered_emsp
from tests.sessions.conftest import (
    URL,
    cdr_token,
    location_payload,
    start,
    tariff_payload,
)

pytestmark = pytest.mark.usefixtures("location")

FROM = "2020-01-01T00:00:00Z"


def status(response: Any) -> tuple[int, int]:
    return response.status_code, response.json()["status_code"]


def ids(response: Any) -> list[str]:
    return [session["id"] for session in response.json()["data"]]


def listed(client: APIClient, extra: dict[str, str] | None = None, **params: Any) -> Any:
    return client.get(URL, {"date_from": FROM, **params}, headers=extra)


def routed(from_party: tuple[str, str]) -> dict[str, str]:
    return {
        "OCPI-from-country-code": from_party[0],
        "OCPI-from-party-id": from_party[1],
        "OCPI-to-country-code": "BE",
        "OCPI-to-party-id": "BEC",
    }


# --- GET -------------------------------------------------------------------------------------


def test_date_from_is_required(client_a: APIClient) -> None:
    response = client_a.get(URL)

    assert status(response) == (200, 2001)
    assert response.json()["status_message"] == "date_from is required"
    assert "data" not in response.json()


def test_an_emsp_gets_the_sessions_of_its_tokens_as_objects(
    client_a: APIClient, partner_b: PartnerPlatform
) -> None:
    of_a = start(token=cdr_token("A1"))
    start(token=cdr_token("B1", country="NL", party="BBB"))

    response = listed(client_a)

    assert status(response) == (200, 1000)
    assert response.json()["data"] == stdlib_json.loads(json.dumps([render_session(of_a)]))
    assert (response["X-Total-Count"], response["X-Limit"]) == ("1", "100")


def test_emsp_b_never_sees_emsp_a_s_sessions(client_b: APIClient, partner_a: Any) -> None:
    start(token=cdr_token("A1"))
    of_b = start(token=cdr_token("B1", country="NL", party="BBB"))

    assert ids(listed(client_b)) == [of_b.ocpi_id]
    assert ids(listed(client_for("emsp-a-sessions-token"))) != [of_b.ocpi_id]


def test_routing_headers_narrow_the_list_to_the_calling_party(our_party: Any) -> None:
    registered_emsp("Multi", "multi-token", ("DE", "TNM"), ("NL", "TNM"))
    client = client_for("multi-token")
    german = start(token=cdr_token("D1"))
    dutch = start(token=cdr_token("N1", country="NL"))

    assert ids(listed(client)) == [german.ocpi_id, dutch.ocpi_id]
    assert ids(listed(client, routed(("NL", "TNM")))) == [dutch.ocpi_id]
    response = listed(client, routed(("NL", "TNM")))
    assert (response["OCPI-from-party-id"], response["OCPI-to-party-id"]) == ("BEC", "TNM")
    assert status(listed(client, routed(("NL", "BBB")))) == (200, 2001)


def test_date_from_is_inclusive_and_date_to_exclusive(client_a: APIClient) -> None:
    first, second = start(token=cdr_token("A1")), start(token=cdr_token("A2"))
    Session.objects.filter(pk=first.pk).update(last_updated="2026-03-01T10:00:00Z")
    Session.objects.filter(pk=second.pk).update(last_updated="2026-03-01T11:00:00Z")

    assert ids(listed(client_a, date_from="2026-03-01T10:00:00Z")) == [
        first.ocpi_id,
        second.ocpi_id,
    ]
    assert ids(
        listed(client_a, date_from="2026-03-01T09:00:00Z", date_to="2026-03-01T11:00:00Z")
    ) == [first.ocpi_id]
    assert ids(listed(client_a, date_from="2026-03-01T10:00:00.001Z")) == [second.ocpi_id]


def test_pages_are_linked(client_a: APIClient) -> None:
    sessions = [start(token=cdr_token(f"A{n}")) for n in range(3)]

    first = listed(client_a, limit=2)
    link = first["Link"]
    url = link[link.index("<") + 1 : link.index(">")].removeprefix("https://cpo.example.com")
    second = client_a.get(url.removeprefix("http://127.0.0.1:8000"))

    assert ids(first) == [s.ocpi_id for s in sessions[:2]]
    assert first["X-Total-Count"] == "3"
    assert ids(second) == [sessions[2].ocpi_id]
    assert "Link" not in second


def test_a_reservation_without_evse_is_listed_with_na(client_a: APIClient) -> None:
    services.session_reserve(location=Location.objects.get(), token=cdr_token(), at=now())

    [session] = listed(client_a).json()["data"]

    assert (session["status"], session["evse_uid"], session["connector_id"]) == (
        "RESERVATION",
        "#NA",
        "#NA",
    )


def test_the_list_costs_the_same_queries_for_one_session_or_many(client_a: APIClient) -> None:
    def add(uid: str) -> None:
        session = start(token=cdr_token(uid))
        services.session_meter(
            session=session,
            at=session.start_date_time + timedelta(minutes=5),
            reading=Reading(kwh=Decimal(1)),
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = listed(client_a)
        assert status(response) == (200, 1000)
        return len(captured)

    add("A0")
    listed(client_a)  # the caller, read once, then kept by the process
    one = queries()
    for n in range(1, 6):
        add(f"A{n}")

    # Whatever routing and authentication cost: the page, its locations, EVSEs and
    # connectors (joined) and its periods (one prefetch) do not grow with the page.
    assert queries() == one
    assert len(ids(listed(client_a))) == 6


@pytest.mark.parametrize("method", ["post", "patch", "delete", "put"])
def test_the_list_has_only_get(client_a: APIClient, method: str) -> None:
    assert status(getattr(client_a, method)(URL, {}, format="json")) == (405, 2000)


def test_the_endpoint_is_in_our_version_details(client_a: APIClient, settings: Any) -> None:
    settings.OCPI_BASE_URL = "https://cpo.example.com"

    endpoints = client_a.get("/ocpi/2.2.1").json()["data"]["endpoints"]

    assert {
        "identifier": "sessions",
        "role": "SENDER",
        "url": "https://cpo.example.com/ocpi/cpo/2.2.1/sessions",
    } in endpoints


# --- PUT charging_preferences ------------------------------------------------------------------


def put(client: APIClient, session_id: str, body: Any, **extra: Any) -> Any:
    return client.put(f"{URL}/{session_id}/charging_preferences", body, format="json", **extra)


def in_hours(hours: float) -> str:
    return (now() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_preferences_are_accepted_and_kept_without_a_push(client_a: APIClient) -> None:
    session = start()
    changes = Change.objects.count()

    response = put(client_a, session.ocpi_id.lower(), {"profile_type": "REGULAR"})

    assert status(response) == (200, 1000)
    assert response.json()["data"] == "ACCEPTED"
    session.refresh_from_db()
    assert session.charging_preferences == {"profile_type": "REGULAR"}
    assert Change.objects.count() == changes


def test_an_evse_without_the_capability_is_404_with_2001(client_a: APIClient) -> None:
    session = start("3257")

    response = put(client_a, session.ocpi_id, {"profile_type": "REGULAR"})

    assert status(response) == (404, 2001)
    assert "CHARGING_PREFERENCES_CAPABLE" in response.json()["status_message"]


def test_a_reservation_without_evse_has_no_capability_to_ask(client_a: APIClient) -> None:
    session = services.session_reserve(location=Location.objects.get(), token=cdr_token(), at=now())

    assert status(put(client_a, session.ocpi_id, {"profile_type": "REGULAR"})) == (404, 2001)


def test_an_unknown_session_or_another_emsp_s_is_not_found(
    client_a: APIClient, partner_b: PartnerPlatform
) -> None:
    of_b = start(token=cdr_token("B1", country="NL", party="BBB"))

    for session_id in ("no-such-session", of_b.ocpi_id):
        response = put(client_a, session_id, {"profile_type": "REGULAR"})
        assert status(response) == (404, 2000)
        assert response.json()["status_message"] == f"Unknown session {session_id}"
    assert status(put(client_for("emsp-b-sessions-token"), of_b.ocpi_id, {})) == (200, 2001)


@pytest.mark.parametrize(
    "body",
    [{}, {"profile_type": "SLOW"}, {"profile_type": "FAST", "departure_time": "tomorrow"}, [1]],
)
def test_invalid_preferences_are_2001(client_a: APIClient, body: Any) -> None:
    assert status(put(client_a, start().ocpi_id, body)) == (200, 2001)


def offer_cheap_profile() -> None:
    upsert_tariff(tariff_payload("CHEAP", "tariff_1_simple_2hour.json", type="PROFILE_CHEAP"))
    payload = location_payload()
    payload["evses"][0]["connectors"][0]["tariff_ids"] = ["11", "CHEAP"]
    upsert_location(payload)


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ({"profile_type": "CHEAP"}, "DEPARTURE_REQUIRED"),
        ({"profile_type": "CHEAP", "departure_time": "+2"}, "ENERGY_NEED_REQUIRED"),
        ({"profile_type": "CHEAP", "departure_time": "+2", "energy_need": 20}, "ACCEPTED"),
        # 220 V × 16 A × 3 phases = 10.56 kW: 21.12 kWh at most in two hours
        ({"profile_type": "CHEAP", "departure_time": "+2", "energy_need": 22}, "NOT_POSSIBLE"),
        (
            {"profile_type": "GREEN", "departure_time": "+2", "energy_need": 2},
            "PROFILE_TYPE_NOT_SUPPORTED",
        ),
        ({"profile_type": "FAST"}, "PROFILE_TYPE_NOT_SUPPORTED"),
        ({"profile_type": "REGULAR", "departure_time": "-1"}, "NOT_POSSIBLE"),
        ({"profile_type": "REGULAR", "discharge_allowed": True}, "ACCEPTED"),
    ],
)
def test_what_we_answer_to_preferences(
    client_a: APIClient, body: dict[str, Any], answer: str
) -> None:
    offer_cheap_profile()
    session = start()
    assert session.tariff_id == "11"
    if "departure_time" in body:
        body = {**body, "departure_time": in_hours(float(body["departure_time"]))}

    response = put(client_a, session.ocpi_id, body)

    assert (status(response), response.json()["data"]) == ((200, 1000), answer)
    session.refresh_from_db()
    kept = session.charging_preferences
    assert (kept is not None) == (answer == "ACCEPTED")


def test_a_finished_session_takes_no_preferences(client_a: APIClient) -> None:
    session = services.session_stop(session=start(), at=now())

    response = put(client_a, session.ocpi_id, {"profile_type": "REGULAR"})

    assert response.json()["data"] == "NOT_POSSIBLE"


# --- OpenAPI -----------------------------------------------------------------------------------


def test_the_interface_is_described_in_a_valid_openapi_document(client: Client) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO())
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    listing = paths["/ocpi/cpo/2.2.1/sessions"]["get"]
    assert {(p["name"], p.get("required", False)) for p in listing["parameters"]} >= {
        ("date_from", True),
        ("OCPI-from-party-id", False),
    }
    preferences = paths["/ocpi/cpo/2.2.1/sessions/{session_id}/charging_preferences"]["put"]
    envelope = preferences["responses"]["200"]["content"]["application/json"]["schema"]
    assert envelope["properties"]["data"]["enum"][0] == "ACCEPTED"
    assert list(paths["/ocpi/cpo/2.2.1/sessions/{session_id}/charging_preferences"]) == ["put"]
