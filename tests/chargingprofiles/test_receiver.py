"""The ChargingProfiles Receiver interface: PUT/GET/DELETE on a session → the OCPP call → the
result POSTed to the response_url; and every way a request is refused, with nothing sent."""

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from chargers.models import CallState, ChargePoint, ChargerTransaction, OcppVersion
from chargingprofiles.models import ProfileRequest, SessionProfile
from locations.models import EVSE
from push.models import Change
from sessions.services import session_stop
from tests.chargingprofiles.conftest import (
    RESPONSE_URL,
    URL,
    active_pushes,
    answer,
    calls,
    charge_point,
    charging,
    results,
)
from tests.sessions.conftest import cdr_token

pytestmark = pytest.mark.django_db

PROFILE = {
    "charging_rate_unit": "A",
    "min_charging_rate": 6,
    "charging_profile_period": [
        {"start_period": 0, "limit": 16},
        {"start_period": 1800, "limit": 8.5},
    ],
}


def put(client: APIClient, session_id: str, profile: Any = None, url: str = RESPONSE_URL) -> Any:
    body = {"charging_profile": PROFILE if profile is None else profile, "response_url": url}
    return client.put(f"{URL}/{session_id}", body, format="json")


def envelope(response: Any) -> tuple[int, int, Any]:
    body = response.json()
    return response.status_code, body["status_code"], body.get("data")


# --- PUT ----------------------------------------------------------------------------------------


def test_a_profile_put_is_sent_as_the_transactions_tx_profile_and_its_result_posted(
    client_a: APIClient, point: ChargePoint
) -> None:
    session = charging(point)
    transaction = ChargerTransaction.objects.get(session=session)

    response = put(client_a, session.ocpi_id)

    assert envelope(response) == (200, 1000, {"result": "ACCEPTED", "timeout": 30})
    (call,) = calls()
    assert call.action == "SetChargingProfile"
    assert call.follow_up == "chargingprofiles.set"
    assert call.payload == {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": transaction.pk,
            "transactionId": int(transaction.transaction_id),
            "stackLevel": 1,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                    {"startPeriod": 1800, "limit": 8.5, "numberPhases": 3},
                ],
                "minChargingRate": 6.0,
            },
        },
    }
    assert results() == []

    answer(call, {"status": "Accepted"})

    assert results() == [(RESPONSE_URL, {"result": "ACCEPTED"})]
    request = ProfileRequest.objects.get()
    assert (request.response, request.result, request.session_id) == (
        "ACCEPTED",
        "ACCEPTED",
        session.pk,
    )
    state = SessionProfile.objects.get(session=session)
    assert (state.subscriber_country_code, state.subscriber_party_id) == ("DE", "TNM")
    assert state.emsp_profile is not None
    assert state.emsp_profile["charging_profile_period"][1]["limit"] == Decimal("8.5")
    assert active_pushes() == []  # a change the eMSP asked for is answered by its result


def test_a_result_goes_to_the_emsp_with_routing_from_our_party(
    client_a: APIClient, point: ChargePoint
) -> None:
    session = charging(point)
    put(client_a, session.ocpi_id)

    answer(calls()[0], {"status": "Accepted"})

    change = Change.objects.get(module="chargingprofiles")
    delivery = change.deliveries.get()
    assert (change.owner_country_code, change.owner_party_id) == ("BE", "BEC")
    assert (delivery.to_country_code, delivery.to_party_id) == ("DE", "TNM")


@pytest.mark.parametrize(
    ("state", "response"),
    [
        (CallState.ANSWERED, {"status": "Rejected"}),
        (CallState.FAILED, None),
        (CallState.TIMED_OUT, None),
    ],
)
def test_a_profile_the_charge_point_does_not_take_is_rejected(
    client_a: APIClient, point: ChargePoint, state: str, response: Any
) -> None:
    session = charging(point)
    put(client_a, session.ocpi_id)

    answer(calls()[0], response, state)

    assert results() == [(RESPONSE_URL, {"result": "REJECTED"})]
    assert SessionProfile.objects.filter(session=session, emsp_profile__isnull=False).count() == 0


def test_a_2_0_1_station_gets_its_evse_and_transaction_id(
    client_a: APIClient, location: Any
) -> None:
    station = charge_point(OcppVersion.V201, "CS-201")
    session = charging(station, "3257")
    transaction = ChargerTransaction.objects.get(session=session)

    put(client_a, session.ocpi_id, {**PROFILE, "start_date_time": "2026-03-02T09:30:00Z"})

    payload = calls()[0].payload
    assert payload["evseId"] == 2
    profile = payload["chargingProfile"]
    assert profile["transactionId"] == transaction.transaction_id
    assert profile["chargingProfileKind"] == "Absolute"
    assert profile["chargingSchedule"][0]["startSchedule"] == "2026-03-02T09:30:00Z"


def test_a_second_request_while_the_first_awaits_the_charge_point_is_too_often(
    client_a: APIClient, point: ChargePoint
) -> None:
    session = charging(point)
    put(client_a, session.ocpi_id)

    second = put(client_a, session.ocpi_id)
    answer(calls()[0], {"status": "Accepted"})
    third = put(client_a, session.ocpi_id)

    assert envelope(second)[2] == {"result": "TOO_OFTEN", "timeout": 30}
    assert envelope(third)[2] == {"result": "ACCEPTED", "timeout": 30}
    assert len(calls()) == 2


# --- GET and DELETE -----------------------------------------------------------------------------


def test_get_asks_for_the_composite_schedule_and_posts_the_active_profile(
    client_a: APIClient, point: ChargePoint
) -> None:
    session = charging(point)

    response = client_a.get(
        f"{URL}/{session.ocpi_id}", {"duration": "900", "response_url": RESPONSE_URL}
    )
    (call,) = calls()
    answer(
        call,
        {
            "status": "Accepted",
            "connectorId": 1,
            "scheduleStart": "2026-03-02T10:00:00Z",
            "chargingSchedule": {
                "duration": 900,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16},
                    {"startPeriod": 600, "limit": 10.5},
                ],
            },
        },
    )

    assert envelope(response)[2] == {"result": "ACCEPTED", "timeout": 30}
    assert (call.action, call.payload) == (
        "GetCompositeSchedule",
        {"connectorId": 1, "duration": 900, "chargingRateUnit": "A"},
    )
    assert results() == [
        (
            RESPONSE_URL,
            {
                "result": "ACCEPTED",
                "profile": {
                    "start_date_time": "2026-03-02T10:00:00Z",
                    "charging_profile": {
                        "start_date_time": "2026-03-02T10:00:00Z",
                        "duration": 900,
                        "charging_rate_unit": "A",
                        "charging_profile_period": [
                            {"start_period": 0, "limit": Decimal(16)},
                            {"start_period": 600, "limit": Decimal("10.5")},
                        ],
                    },
                },
            },
        )
    ]


def test_a_composite_schedule_refused_is_rejected(client_a: APIClient, point: ChargePoint) -> None:
    session = charging(point)
    client_a.get(f"{URL}/{session.ocpi_id}", {"duration": "900", "response_url": RESPONSE_URL})

    answer(calls()[0], {"status": "Rejected"})

    assert results() == [(RESPONSE_URL, {"result": "REJECTED"})]


@pytest.mark.parametrize(("status", "result"), [("Accepted", "ACCEPTED"), ("Unknown", "UNKNOWN")])
def test_delete_clears_the_transactions_profile(
    client_a: APIClient, point: ChargePoint, status: str, result: str
) -> None:
    session = charging(point)
    transaction = ChargerTransaction.objects.get(session=session)
    put(client_a, session.ocpi_id)
    answer(calls()[0], {"status": "Accepted"})

    response = client_a.delete(f"{URL}/{session.ocpi_id}?response_url={RESPONSE_URL}")
    clear = calls("ClearChargingProfile")[0]
    answer(clear, {"status": status})

    assert envelope(response)[2] == {"result": "ACCEPTED", "timeout": 30}
    assert clear.payload == {"id": transaction.pk}
    assert results()[-1] == (RESPONSE_URL, {"result": result})
    state = SessionProfile.objects.get(session=session)
    assert (state.emsp_profile is None) == (result == "ACCEPTED")


# --- refused at once, nothing sent ------------------------------------------------------------


def test_another_emsps_session_is_an_unknown_session(
    client_b: APIClient, client_a: APIClient, point: ChargePoint
) -> None:
    theirs = charging(point, token=cdr_token("B-1", "NL", "BBB"))
    mine = charging(point, "3257")

    answers = [
        envelope(put(client_a, theirs.ocpi_id)),
        envelope(put(client_b, mine.ocpi_id)),
        envelope(put(client_a, "NO-SUCH-SESSION")),
    ]

    assert answers == [(200, 1000, {"result": "UNKNOWN_SESSION", "timeout": 30})] * 3
    assert calls() == []
    assert ProfileRequest.objects.filter(session__isnull=True).count() == 3


def test_a_finished_session_is_an_unknown_session(client_a: APIClient, point: ChargePoint) -> None:
    session = charging(point)
    session_stop(session=session, at=session.start_date_time.replace(hour=10))

    assert envelope(put(client_a, session.ocpi_id))[2]["result"] == "UNKNOWN_SESSION"
    assert calls() == []


def test_an_evse_without_the_capability_or_a_session_without_a_charge_point_is_not_supported(
    client_a: APIClient, point: ChargePoint
) -> None:
    session = charging(point)
    EVSE.objects.filter(sessions=session).update(capabilities=["RESERVABLE"])
    other = charging(point, "3257")
    ChargerTransaction.objects.filter(session=other).update(session=None)

    assert envelope(put(client_a, session.ocpi_id))[2]["result"] == "NOT_SUPPORTED"
    assert envelope(put(client_a, other.ocpi_id))[2]["result"] == "NOT_SUPPORTED"
    assert calls() == []


def test_a_charge_point_offline_is_rejected_at_once(
    client_a: APIClient, point: ChargePoint
) -> None:
    session = charging(point)
    ChargePoint.objects.filter(pk=point.pk).update(gateway="")

    response = put(client_a, session.ocpi_id)

    assert envelope(response)[2] == {"result": "REJECTED", "timeout": 30}
    assert calls() == []
    assert ProfileRequest.objects.get().reason == "Charge point CP-1 is not connected"


@pytest.mark.parametrize(
    "profile",
    [
        {"charging_rate_unit": "A"},  # no periods to set
        {**PROFILE, "charging_rate_unit": "kW"},
        {**PROFILE, "charging_profile_period": [{"start_period": 0, "limit": 16.25}]},
        {**PROFILE, "charging_profile_period": [{"start_period": 60, "limit": 16}]},
        {
            **PROFILE,
            "charging_profile_period": [
                {"start_period": 0, "limit": 16},
                {"start_period": 0, "limit": 8},
            ],
        },
        {**PROFILE, "charging_profile_period": [{"start_period": 0, "limit": -1}]},
        {**PROFILE, "charging_profile_period": [{"start_period": 0, "limit": 1e30}]},
        {**PROFILE, "min_charging_rate": 1e300},
        {**PROFILE, "min_charging_rate": "6"},
        {**PROFILE, "start_date_time": "2026-03-02T09:30:00+01:00"},
        "not an object",
    ],
)
def test_a_malformed_profile_is_refused_with_2001_and_nothing_is_sent(
    client_a: APIClient, point: ChargePoint, profile: Any
) -> None:
    session = charging(point)

    response = put(client_a, session.ocpi_id, profile)

    assert envelope(response)[:2] == (400, 2001)
    assert calls() == []
    assert ProfileRequest.objects.count() == 0


def test_a_body_that_is_no_set_charging_profile_is_refused(
    client_a: APIClient, point: ChargePoint
) -> None:
    session = charging(point)

    listed = client_a.put(f"{URL}/{session.ocpi_id}", [PROFILE], format="json")
    no_url = client_a.put(f"{URL}/{session.ocpi_id}", {"charging_profile": PROFILE}, format="json")

    assert envelope(listed)[:2] == (400, 2001)
    assert envelope(no_url)[:2] == (400, 2001)
    assert calls() == []


def test_a_response_url_on_a_private_address_is_refused(
    client_a: APIClient, point: ChargePoint, settings: Any
) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = False
    session = charging(point)

    refused = [
        put(client_a, session.ocpi_id, url="http://10.0.0.7/results/1"),
        client_a.get(
            f"{URL}/{session.ocpi_id}", {"duration": "60", "response_url": "http://127.0.0.1/r"}
        ),
        client_a.delete(f"{URL}/{session.ocpi_id}?response_url=http://192.168.1.1/r"),
    ]

    assert [envelope(r)[:2] for r in refused] == [(400, 2001)] * 3
    assert "response_url refused" in refused[0].json()["status_message"]
    assert calls() == []
    assert ProfileRequest.objects.count() == 0


def test_get_needs_a_duration_and_delete_a_response_url(
    client_a: APIClient, point: ChargePoint
) -> None:
    session = charging(point)

    no_duration = client_a.get(f"{URL}/{session.ocpi_id}", {"response_url": RESPONSE_URL})
    no_url = client_a.delete(f"{URL}/{session.ocpi_id}")

    assert envelope(no_duration)[:2] == (400, 2001)
    assert envelope(no_url)[:2] == (400, 2001)
    assert calls() == []


def test_the_module_is_in_our_version_details(client_a: APIClient, settings: Any) -> None:
    endpoints = client_a.get("/ocpi/2.2.1").json()["data"]["endpoints"]

    assert {
        "identifier": "chargingprofiles",
        "role": "RECEIVER",
        "url": f"{settings.OCPI_BASE_URL}/ocpi/cpo/2.2.1/chargingprofiles",
    } in endpoints
