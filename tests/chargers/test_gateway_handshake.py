"""The gateway's handshake: path and identity, subprotocol negotiation, unknown identities,
security profile 1 (HTTP Basic auth). Real websockets clients against a real gateway."""

from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from chargers.models import RegistrationStatus
from tests.chargers.gatewayrunner import (
    HEARTBEATS,
    RunningGateway,
    call,
    charge_point,
    connect_as,
    eventually,
    row,
    use_handlers,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningGateway]:
    use_handlers(monkeypatch, HEARTBEATS)
    with RunningGateway("gw-handshake") as running:
        yield running


def refused_status(url: str, **options: object) -> int:
    with pytest.raises(InvalidStatus) as refused:
        connect_as(url, **options)  # type: ignore[arg-type]
    return refused.value.response.status_code


def test_a_16_charge_point_is_accepted_and_recorded(gateway: RunningGateway) -> None:
    charge_point("CP16")

    with connect_as(gateway.url("CP16"), "1.6") as websocket:
        assert websocket.subprotocol == "ocpp1.6"
        answer = call(websocket, "1", "Heartbeat", {})
        assert answer[:2] == [3, "1"]
        recorded = row("CP16")
        assert (recorded.gateway, recorded.connection, recorded.connected_version) == (
            "gw-handshake",
            1,
            "1.6",
        )
        assert recorded.remote_address == "127.0.0.1"
        assert recorded.connected_at is not None


def test_a_201_charge_point_is_accepted(gateway: RunningGateway) -> None:
    charge_point("CP201", version="2.0.1")

    with connect_as(gateway.url("CP201"), "2.0.1") as websocket:
        assert websocket.subprotocol == "ocpp2.0.1"
        assert call(websocket, "h", "Heartbeat", {})[:2] == [3, "h"]
        assert row("CP201").connected_version == "2.0.1"


@pytest.mark.parametrize(
    ("provisioned", "offered", "chosen"),
    [
        ("2.0.1", ["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1"),
        ("1.6", ["ocpp2.0.1", "ocpp1.6"], "ocpp1.6"),
        # Not offering its own: the first one offered that we speak.
        ("1.6", ["ocpp1.5", "ocpp2.0.1"], "ocpp2.0.1"),
    ],
)
def test_the_provisioned_version_is_preferred(
    gateway: RunningGateway, provisioned: str, offered: list[str], chosen: str
) -> None:
    charge_point("CPX", version=provisioned)

    subprotocols = [Subprotocol(name) for name in offered]
    with connect_as(gateway.url("CPX"), subprotocols=subprotocols) as websocket:
        assert websocket.subprotocol == chosen
        call(websocket, "1", "Heartbeat", {})  # answered once the connection is recorded
        assert row("CPX").connected_version == chosen.removeprefix("ocpp")


@pytest.mark.parametrize("offered", [["ocpp1.5"], ["ocpp2.1"], []])
def test_without_a_common_subprotocol_the_connection_is_closed(
    gateway: RunningGateway, offered: list[str]
) -> None:
    """OCPP-J 1.6 §3.1.2: the handshake completes without a subprotocol, then the
    connection is closed."""
    charge_point("CPN")

    subprotocols = [Subprotocol(name) for name in offered] or None
    with connect_as(gateway.url("CPN"), subprotocols=subprotocols) as websocket:
        assert websocket.subprotocol is None
        with pytest.raises(ConnectionClosedError) as closed:
            websocket.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1002
    assert row("CPN").gateway == ""


def test_an_unknown_identity_is_refused_with_404(gateway: RunningGateway) -> None:
    assert refused_status(gateway.url("NOBODY")) == 404
    assert not row_exists("NOBODY")


@pytest.mark.parametrize(
    "path", ["/ocpp/", "/ocpp", "/other/CP1", "/ocpp/CP1/extra", "/ocpp/a%2Fb"]
)
def test_a_path_other_than_ocpp_identity_is_refused_with_404(
    gateway: RunningGateway, path: str
) -> None:
    charge_point("CP1")

    assert refused_status(f"ws://127.0.0.1:{gateway.port}{path}") == 404


def test_the_identity_is_url_decoded(gateway: RunningGateway) -> None:
    charge_point("CP 1é")

    with connect_as(gateway.url("CP%201%C3%A9"), user="CP 1é") as websocket:
        assert call(websocket, "1", "Heartbeat", {})[0] == 3
    assert row("CP 1é").connection == 1


def test_an_unknown_identity_is_admitted_as_pending_when_allowed(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.OCPP_ADMIT_UNKNOWN = True  # type: ignore[attr-defined]
    use_handlers(monkeypatch, HEARTBEATS)

    with (
        RunningGateway("gw-admit") as gateway,
        connect_as(gateway.url("NEWCOMER"), "2.0.1", password=None) as websocket,
    ):
        assert websocket.subprotocol == "ocpp2.0.1"
        call(websocket, "1", "Heartbeat", {})
        admitted = row("NEWCOMER")
        assert admitted.registration_status == RegistrationStatus.PENDING
        assert admitted.ocpp_version == "2.0.1"
        assert admitted.gateway == "gw-admit"
        assert admitted.password_hash == ""


def test_an_admitted_charge_point_given_a_password_must_use_it(
    settings: object, gateway: RunningGateway
) -> None:
    settings.OCPP_ADMIT_UNKNOWN = True  # type: ignore[attr-defined]
    charge_point("PENDING1", registration_status=RegistrationStatus.PENDING)

    assert refused_status(gateway.url("PENDING1"), password=None) == 401


def test_basic_auth_without_credentials_is_refused_with_401(gateway: RunningGateway) -> None:
    charge_point("CPB")

    with pytest.raises(InvalidStatus) as refused:
        connect_as(gateway.url("CPB"), password=None)

    response = refused.value.response
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="OCPP", charset="UTF-8"'
    assert row("CPB").gateway == ""


@pytest.mark.parametrize(
    ("user", "password"),
    [("CPB", "wrong-password-0123"), ("OTHER", "secret-password-0123"), ("CPB", "")],
)
def test_basic_auth_with_wrong_credentials_is_refused_with_401(
    gateway: RunningGateway, user: str, password: str
) -> None:
    charge_point("CPB")

    assert refused_status(gateway.url("CPB"), user=user, password=password) == 401


def test_a_malformed_authorization_header_is_refused_with_401(gateway: RunningGateway) -> None:
    charge_point("CPB")

    with pytest.raises(InvalidStatus) as refused:
        connect(
            gateway.url("CPB"),
            subprotocols=[Subprotocol("ocpp1.6")],
            additional_headers={"Authorization": "Basic %%%not-base64"},
        )
    assert refused.value.response.status_code == 401


def test_a_charge_point_without_a_password_is_refused(gateway: RunningGateway) -> None:
    charge_point("NOPASS", password=None)

    assert refused_status(gateway.url("NOPASS"), password="anything-at-all-0123") == 401


def test_closing_marks_it_disconnected(gateway: RunningGateway) -> None:
    charge_point("CPD")

    with connect_as(gateway.url("CPD")) as websocket:
        call(websocket, "1", "Heartbeat", {})

    eventually(lambda: row("CPD").gateway == "")
    disconnected = row("CPD")
    assert disconnected.disconnected_at is not None
    assert disconnected.connection == 1


def row_exists(identity: str) -> bool:
    from chargers.models import ChargePoint

    return ChargePoint.objects.filter(identity=identity).exists()
