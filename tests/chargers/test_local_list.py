"""The local authorization list (chargers.local_list): what is listed from the tokens cache,
FULL and DIFFERENTIAL updates computed against what the charge point acknowledged, the
follow-up of each answer (Accepted: held, and the next part; VersionMismatch: FULL; anything
else: kept as the status), one update in flight at a time. Calls are answered here by hand
(the rows a gateway would write); tests/chargers/test_maintenance_gateway.py sends them to
simulated charge points."""

from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from chargers import calls, follow_ups, local_list
from chargers.local_list import Listed, entry_key, plan
from chargers.models import CallState, ChargePoint, ChargePointCall
from chargers.models_maintenance import ChargePointSetting, LocalAuthList, LocalListUpdate
from config.celery import app
from tests.tokens.conftest import cache_token

pytestmark = pytest.mark.django_db

V16, V201 = "1.6", "2.0.1"


def wanted(**entries: str) -> Listed:
    """A list whose entry `key` has the digest given (the entry itself: {"key": key})."""
    return Listed({key: {"key": key} for key in entries}, dict(entries))


# --- plan: the next update, pure ----------------------------------------------------------------


def test_the_first_update_is_full_with_every_entry() -> None:
    update = plan(V16, {}, 0, wanted(A="1", B="2"), full=True, chunk=10)

    assert update is not None
    assert (update.full, update.version) == (True, 1)
    assert update.entries == [{"key": "A"}, {"key": "B"}]
    assert update.after == {"A": "1", "B": "2"}


def test_a_differential_update_carries_only_the_changes_removals_without_info() -> None:
    held = {"A": "1", "B": "2", "C": "3"}

    update = plan(V16, held, 4, wanted(A="1", B="changed", D="4"), full=False, chunk=10)

    assert update is not None
    assert (update.full, update.version) == (False, 5)
    assert update.entries == [{"idTag": "C"}, {"key": "B"}, {"key": "D"}]
    assert update.after == {"A": "1", "B": "changed", "D": "4"}


def test_a_2_0_1_removal_names_the_id_token_and_its_type() -> None:
    key = entry_key(V201, "abc123", "ISO14443")

    update = plan(V201, {key: "1"}, 1, wanted(), full=False, chunk=10)

    assert key == "ISO14443 ABC123"
    assert update is not None
    assert update.entries == [{"idToken": {"idToken": "ABC123", "type": "ISO14443"}}]
    assert update.after == {}


def test_nothing_is_sent_when_it_holds_the_list() -> None:
    assert plan(V16, {"A": "1"}, 3, wanted(A="1"), full=False, chunk=10) is None


def test_a_long_list_goes_in_parts_of_the_chunk() -> None:
    full = plan(V16, {}, 0, wanted(A="1", B="2", C="3"), full=True, chunk=2)
    assert full is not None
    rest = plan(V16, full.after, full.version, wanted(A="1", B="2", C="3"), full=False, chunk=2)

    assert full.after == {"A": "1", "B": "2"}
    assert rest is not None
    assert (rest.full, rest.version, rest.entries) == (False, 2, [{"key": "C"}])


# --- listed: from the tokens cache ----------------------------------------------------------


@pytest.fixture
def tokens(our_parties: Any) -> None:
    cache_token("CARD-ALLOWED")  # RFID, whitelist ALLOWED, group DF000-2001-8999, language it
    cache_token("CARD-ALWAYS", whitelist="ALWAYS", group_id=None, language=None)
    cache_token("CARD-NEVER", whitelist="NEVER")
    cache_token("CARD-OFFLINE", whitelist="ALLOWED_OFFLINE")
    cache_token("CARD-INVALID", valid=False)
    cache_token("CARD-WITH-A-UID-OF-MORE-THAN-20")
    cache_token("card-allowed", type="APP_USER")  # the same 1.6 idTag as CARD-ALLOWED


def test_a_1_6_list_holds_valid_always_and_allowed_tokens_of_20_characters_at_most(
    tokens: None,
) -> None:
    found = local_list.listed(V16)

    assert found.entries == {
        "CARD-ALLOWED": {
            "idTag": "CARD-ALLOWED",
            "idTagInfo": {"status": "Accepted", "parentIdTag": "DF000-2001-8999"},
        },
        "CARD-ALWAYS": {"idTag": "CARD-ALWAYS", "idTagInfo": {"status": "Accepted"}},
    }
    assert set(found.digests) == set(found.entries)


def test_a_2_0_1_list_holds_id_tokens_with_their_type_group_and_language(tokens: None) -> None:
    found = local_list.listed(V201)

    assert sorted(found.entries) == [
        "Central CARD-ALLOWED",
        "ISO14443 CARD-ALLOWED",
        "ISO14443 CARD-ALWAYS",
        "ISO14443 CARD-WITH-A-UID-OF-MORE-THAN-20",
    ]
    assert found.entries["ISO14443 CARD-ALLOWED"] == {
        "idToken": {"idToken": "CARD-ALLOWED", "type": "ISO14443"},
        "idTokenInfo": {
            "status": "Accepted",
            "groupIdToken": {"idToken": "DF000-2001-8999", "type": "Central"},
            "language1": "it",
        },
    }


# --- sync and the follow-up of its answer -------------------------------------------------------


@pytest.fixture
def online(eager_tasks: None) -> ChargePoint:
    return ChargePoint.objects.create(
        identity="CP-LIST", ocpp_version=V16, connected_version=V16, gateway="gw-1"
    )


def answer(call: ChargePointCall, response: dict[str, Any] | None, *, error: str = "") -> None:
    """End the call as a gateway would, and run its follow-up."""
    now = timezone.now()
    ChargePointCall.objects.filter(pk=call.pk).update(
        state=CallState.FAILED if error else CallState.ANSWERED,
        response=response,
        error_code=error,
        sent_at=now,
        finished_at=now,
    )
    follow_ups.run(str(call.pk))


def last_call() -> ChargePointCall:
    return ChargePointCall.objects.filter(action="SendLocalList").order_by("-created_at").first()  # type: ignore[return-value]


def held(charge_point: ChargePoint) -> tuple[int, list[str], str]:
    state = LocalAuthList.objects.get(charge_point=charge_point)
    return state.version, sorted(state.entries), state.status


def test_accepted_updates_are_held_and_only_changes_follow(
    tokens: None, online: ChargePoint
) -> None:
    first = local_list.sync(online)
    assert first is not None
    answer(first, {"status": "Accepted"})
    cache_token("CARD-NEW", whitelist="ALWAYS", group_id=None)
    cache_token("CARD-ALWAYS", whitelist="ALWAYS", valid=False)
    second = local_list.sync(online)
    assert second is not None
    answer(second, {"status": "Accepted"})

    assert first.payload["updateType"] == "Full"
    assert first.payload["listVersion"] == 1
    assert len(first.payload["localAuthorizationList"]) == 2
    assert second.payload == {
        "listVersion": 2,
        "updateType": "Differential",
        "localAuthorizationList": [
            {"idTag": "CARD-ALWAYS"},
            {"idTag": "CARD-NEW", "idTagInfo": {"status": "Accepted"}},
        ],
    }
    assert held(online) == (2, ["CARD-ALLOWED", "CARD-NEW"], "Accepted")
    assert local_list.sync(online) is None  # it holds the list: nothing to send


def test_a_version_mismatch_is_followed_by_a_full_list(tokens: None, online: ChargePoint) -> None:
    LocalAuthList.objects.create(charge_point=online, version=7, entries={"OLD": "x"})
    differential = local_list.sync(online)
    assert differential is not None

    answer(differential, {"status": "VersionMismatch"})

    full = last_call()
    assert differential.payload["updateType"] == "Differential"
    assert (full.payload["updateType"], full.payload["listVersion"]) == ("Full", 8)
    assert full.requested_by == "local list"
    answer(full, {"status": "Accepted"})
    assert held(online) == (8, ["CARD-ALLOWED", "CARD-ALWAYS"], "Accepted")


@pytest.mark.parametrize(
    ("response", "error", "status"),
    [({"status": "Failed"}, "", "Failed"), (None, "NotImplemented", "NotImplemented")],
)
def test_a_refused_update_changes_nothing_held_and_says_why(
    tokens: None, online: ChargePoint, response: Any, error: str, status: str
) -> None:
    sent = local_list.sync(online)
    assert sent is not None

    answer(sent, response, error=error)

    assert held(online) == (0, [], status)
    assert LocalListUpdate.objects.get(call=sent).status == status
    assert ChargePointCall.objects.filter(action="SendLocalList").count() == 1


def test_one_update_in_flight_at_a_time(tokens: None, online: ChargePoint) -> None:
    local_list.sync(online)

    with pytest.raises(local_list.UpdateInFlight):
        local_list.sync(online, full=True)

    assert ChargePointCall.objects.count() == 1


def test_the_parts_follow_each_other_as_each_is_accepted(
    tokens: None, online: ChargePoint, settings: Any
) -> None:
    settings.OCPP_LOCAL_LIST_CHUNK = 5
    ChargePointSetting.objects.create(
        charge_point=online, variable="SendLocalListMaxLength", value="1", updated_at=timezone.now()
    )
    first = local_list.sync(online)
    assert first is not None

    answer(first, {"status": "Accepted"})
    answer(last_call(), {"status": "Accepted"})

    versions = [
        (
            c.payload["listVersion"],
            c.payload["updateType"],
            len(c.payload["localAuthorizationList"]),
        )
        for c in ChargePointCall.objects.order_by("created_at")
    ]
    assert versions == [(1, "Full", 1), (2, "Differential", 1)]
    assert held(online) == (2, ["CARD-ALLOWED", "CARD-ALWAYS"], "Accepted")


def test_an_offline_charge_point_is_sent_nothing(tokens: None, online: ChargePoint) -> None:
    ChargePoint.objects.filter(pk=online.pk).update(gateway="")

    with pytest.raises(calls.ChargePointOffline):
        local_list.sync(online)

    assert not ChargePointCall.objects.exists()
    assert not LocalListUpdate.objects.exists()


def test_the_beat_brings_up_to_date_only_lists_accepted_before(
    tokens: None, online: ChargePoint
) -> None:
    never = ChargePoint.objects.create(
        identity="CP-NEVER", ocpp_version=V16, connected_version=V16, gateway="gw-1"
    )
    first = local_list.sync(online)
    assert first is not None
    answer(first, {"status": "Accepted"})
    cache_token("CARD-NEW", whitelist="ALWAYS")

    assert local_list.sync_all() == 1
    assert local_list.sync_all() == 0  # in flight: not sent twice

    assert last_call().payload["listVersion"] == 2
    assert not ChargePointCall.objects.filter(charge_point=never).exists()


def test_the_reported_version_is_kept(online: ChargePoint) -> None:
    asked = local_list.get_version(online)

    answer(asked, {"listVersion": 3})

    assert LocalAuthList.objects.get(charge_point=online).reported_version == 3


def test_beat_runs_the_sync_task(tokens: None, online: ChargePoint) -> None:
    first = local_list.sync(online)
    assert first is not None
    answer(first, {"status": "Accepted"})
    cache_token("CARD-NEW", whitelist="ALWAYS")

    entry = settings.CELERY_BEAT_SCHEDULE["ocpp-local-lists"]
    assert entry["task"] == "chargers.sync_local_lists"
    assert app.tasks[entry["task"]].apply().get() == 1
