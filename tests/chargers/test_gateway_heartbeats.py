"""Heartbeats answered by the gateway without the database (chargers.gateway.dispatch.at_once),
with the real handlers: only for a charge point whose last boot was accepted, only with a
payload valid as it is; a boot answered otherwise on the same connection ends it; a charge
point deleted while it only heartbeats is still disconnected; its last message is recorded."""

import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from chargers import connections
from chargers.gateway import dispatch, server
from chargers.models import ChargePoint, RegistrationStatus
from ocpi.time import parse_datetime
from tests.chargers.gatewayrunner import (
    RunningGateway,
    call,
    charge_point,
    connect_as,
    eventually,
    row,
)
from tests.chargers.test_boot import BOOT_16, BOOT_201

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dispatched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The actions answered the whole way (a worker thread, the charge point's row)."""
    actions: list[str] = []
    whole_way = dispatch.answer

    def recording(pk: int, version: str, call: Any, received_at: Any) -> dispatch.Answer:
        actions.append(call.action)
        return whole_way(pk, version, call, received_at)

    monkeypatch.setattr(dispatch, "answer", recording)
    return actions


def heartbeat(websocket: ClientConnection, unique_id: str, payload: Any = None) -> list[Any]:
    return call(websocket, unique_id, "Heartbeat", {} if payload is None else payload)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_an_accepted_charge_points_heartbeat_is_answered_without_the_database(
    dispatched: list[str], version: str
) -> None:
    charge_point("BEATS", version=version, boot_status=RegistrationStatus.ACCEPTED)

    with (
        RunningGateway("gw-beats") as gateway,
        connect_as(gateway.url("BEATS"), version) as websocket,
    ):
        answer = heartbeat(websocket, "1")

    assert answer[0] == 3
    assert answer[1] == "1"
    assert parse_datetime(answer[2]["currentTime"]) is not None
    assert dispatched == []


def test_its_heartbeats_still_move_its_last_message() -> None:
    charge_point("SEEN")

    with RunningGateway("gw-seen") as gateway, connect_as(gateway.url("SEEN")) as websocket:
        heartbeat(websocket, "1")
        seen = eventually(lambda: row("SEEN").last_message_at)
    assert seen is not None


@pytest.mark.parametrize("boot_status", [RegistrationStatus.PENDING, RegistrationStatus.REJECTED])
def test_a_charge_point_not_accepted_has_its_heartbeat_refused_the_whole_way(
    dispatched: list[str], boot_status: str
) -> None:
    charge_point("WAITS", boot_status=boot_status)

    with RunningGateway("gw-waits") as gateway, connect_as(gateway.url("WAITS")) as websocket:
        answer = heartbeat(websocket, "1")

    assert answer[0] == 4
    assert answer[2] == "SecurityError"
    assert dispatched == ["Heartbeat"]


@pytest.mark.parametrize(("version", "boot"), [("1.6", BOOT_16), ("2.0.1", BOOT_201)])
def test_a_boot_answered_rejected_on_the_connection_stops_its_heartbeats(
    dispatched: list[str], version: str, boot: dict[str, Any]
) -> None:
    charge_point("TURNED", version=version, boot_status=RegistrationStatus.ACCEPTED)

    with (
        RunningGateway("gw-turned") as gateway,
        connect_as(gateway.url("TURNED"), version) as websocket,
    ):
        assert heartbeat(websocket, "1")[0] == 3
        ChargePoint.objects.filter(identity="TURNED").update(
            registration_status=RegistrationStatus.REJECTED
        )
        assert call(websocket, "2", "BootNotification", boot)[2]["status"] == "Rejected"
        refused = heartbeat(websocket, "3")
        ChargePoint.objects.filter(identity="TURNED").update(
            registration_status=RegistrationStatus.ACCEPTED
        )
        assert call(websocket, "4", "BootNotification", boot)[2]["status"] == "Accepted"
        accepted = heartbeat(websocket, "5")

    assert refused[0] == 4
    assert refused[2] == "SecurityError"
    assert accepted[0] == 3
    assert dispatched == ["BootNotification", "Heartbeat", "BootNotification"]


def test_a_heartbeat_only_a_relaxation_lets_through_goes_the_whole_way(
    dispatched: list[str],
) -> None:
    charge_point("STRICT")
    charge_point("RELAXED", relaxed_validation=["additionalProperties"])

    with RunningGateway("gw-relax") as gateway:
        with connect_as(gateway.url("STRICT")) as strict:
            refused = heartbeat(strict, "1", {"vendorExtra": 1})
        with connect_as(gateway.url("RELAXED")) as relaxed:
            answered = heartbeat(relaxed, "1", {"vendorExtra": 1})

    assert refused[0] == 4
    assert refused[2] == "FormationViolation"
    assert answered[0] == 3
    assert "currentTime" in answered[2]
    assert dispatched == ["Heartbeat", "Heartbeat"]


def heartbeat_until_closed(websocket: ClientConnection) -> None:
    """Heartbeats, each answered (never refused), until the connection is closed."""
    for n in range(2, 1000):
        assert heartbeat(websocket, str(n))[0] == 3
        time.sleep(0.01)


def test_a_charge_point_deleted_while_it_only_heartbeats_is_disconnected(settings: Any) -> None:
    settings.OCPP_GATEWAY_POLL_SECONDS = 0.1
    charge_point("GONE")

    with RunningGateway("gw-gone") as gateway, connect_as(gateway.url("GONE")) as websocket:
        assert heartbeat(websocket, "1")[0] == 3
        ChargePoint.objects.filter(identity="GONE").delete()
        with pytest.raises(ConnectionClosed) as closed:
            heartbeat_until_closed(websocket)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == server.CLOSE_REMOVED


def test_check_held_names_the_charge_points_whose_rows_are_gone() -> None:
    kept = charge_point("KEPT", gateway="gw-here", connection=1)
    deleted = charge_point("DELETED", gateway="gw-here", connection=1)
    deleted_pk = deleted.pk
    deleted.delete()

    assert connections.check_held("gw-here", {kept.pk: 1, deleted_pk: 1}) == ([], [deleted_pk])
    assert connections.check_held("gw-here", {kept.pk: 1}) == ([], [])
    assert connections.check_held("gw-here", {}) == ([], [])


def test_check_held_tells_a_newer_connection_elsewhere_from_a_row_gone() -> None:
    elsewhere = charge_point("ELSEWHERE", gateway="gw-there", connection=2)
    older = charge_point("OLDER", gateway="gw-there", connection=1)

    held = {elsewhere.pk: 1, older.pk: 1, 10**9: 1}
    assert connections.check_held("gw-here", held) == ([elsewhere.pk], [10**9])


def test_check_held_reads_only_the_rows_that_do_not_name_the_gateway(
    django_assert_num_queries: Any,
) -> None:
    """Every row naming the gateway, as nearly all do: one query, however many it holds; a
    row that names another gateway is read besides, in one more."""
    ours = [charge_point(f"OURS-{n}", gateway="gw-here", connection=1) for n in range(3)]
    elsewhere = charge_point("ELSEWHERE", gateway="gw-there", connection=2)
    held = {point.pk: 1 for point in ours}

    with django_assert_num_queries(1):
        assert connections.check_held("gw-here", held) == ([], [])
    with django_assert_num_queries(2):
        assert connections.check_held("gw-here", {**held, elsewhere.pk: 1}) == ([elsewhere.pk], [])
