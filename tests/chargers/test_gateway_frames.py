"""Bad OCPP input: malformed frames, unknown actions, schema-invalid payloads, handlers that fail;
each gets the CALLERROR its version's spec names, and the connection goes on."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from ocpp.exceptions import GenericError
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import ClientConnection

from chargers.handlers import Context, Payload
from chargers.models import ChargePoint
from tests.chargers.gatewayrunner import (
    HEARTBEATS,
    RunningGateway,
    call,
    charge_point,
    connect_as,
    receive,
    use_handlers,
)

pytestmark = pytest.mark.django_db(transaction=True)


def accept(context: Context, payload: Payload) -> Payload:
    return {}


def data_transfer(context: Context, payload: Payload) -> Payload:
    """Misbehaves as its vendorId says."""
    match payload["vendorId"]:
        case "invalid-answer":
            return {"status": "Perhaps"}
        case "refuses":
            raise GenericError(description="Not today", details={"reason": "test"})
        case "crashes":
            raise RuntimeError("handler bug")
        case "not-json":
            return {"status": "Accepted", "data": {1, 2}}
    return {"status": "Accepted"}


HANDLERS = {
    **HEARTBEATS,
    ("1.6", "StatusNotification"): accept,
    ("2.0.1", "StatusNotification"): accept,
    ("2.0.1", "MeterValues"): accept,
    ("1.6", "DataTransfer"): data_transfer,
    ("2.0.1", "DataTransfer"): data_transfer,
}


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningGateway]:
    use_handlers(monkeypatch, HANDLERS)
    with RunningGateway("gw-frames") as running:
        yield running


@pytest.fixture(params=["1.6", "2.0.1"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def websocket(gateway: RunningGateway, version: str) -> Iterator[ClientConnection]:
    charge_point("CPF", version=version)
    with connect_as(gateway.url("CPF"), version) as connected:
        yield connected


def error_of(websocket: ClientConnection, frame: str | bytes) -> tuple[str, str]:
    """Send `frame`; return the (message id, error code) of the CALLERROR that answers it,
    after checking that the connection still answers a Heartbeat."""
    websocket.send(frame)
    answer = receive(websocket)
    assert answer[0] == 4
    assert isinstance(answer[3], str)
    assert isinstance(answer[4], dict)
    assert call(websocket, "alive", "Heartbeat", {})[:2] == [3, "alive"]
    return answer[1], answer[2]


@pytest.mark.parametrize(
    ("frame", "v16", "v201"),
    [
        ("this is not JSON", ("-1", "FormationViolation"), ("-1", "RpcFrameworkError")),
        ('{"not": "an array"}', ("-1", "FormationViolation"), ("-1", "RpcFrameworkError")),
        ("[]", ("-1", "ProtocolError"), ("-1", "RpcFrameworkError")),
        ('[2, "f1"]', ("f1", "ProtocolError"), ("f1", "RpcFrameworkError")),
        (
            '[2, "f1", "Heartbeat", {}, "extra"]',
            ("f1", "ProtocolError"),
            ("f1", "RpcFrameworkError"),
        ),
        (
            '[9, "f2", "Heartbeat", {}]',
            ("f2", "PropertyConstraintViolation"),
            ("f2", "MessageTypeNotSupported"),
        ),
        ('[2, 17, "Heartbeat", {}]', ("-1", "FormationViolation"), ("-1", "RpcFrameworkError")),
        (
            '[2, "' + "x" * 37 + '", "Heartbeat", {}]',
            ("-1", "FormationViolation"),
            ("-1", "RpcFrameworkError"),
        ),
        ('[2, "f3", 5, {}]', ("f3", "FormationViolation"), ("f3", "RpcFrameworkError")),
        ('[2, "f4", "Heartbeat", []]', ("f4", "FormationViolation"), ("f4", "FormatViolation")),
        ("[" * 30_000 + "]" * 30_000, ("-1", "FormationViolation"), ("-1", "RpcFrameworkError")),
    ],
)
def test_a_malformed_frame_gets_the_versions_callerror(
    settings: Any,
    websocket: ClientConnection,
    version: str,
    frame: str,
    v16: tuple[str, str],
    v201: tuple[str, str],
) -> None:
    assert error_of(websocket, frame) == (v16 if version == "1.6" else v201)


def test_a_binary_frame_is_read_as_text(websocket: ClientConnection) -> None:
    websocket.send(b'[2, "b1", "Heartbeat", {}]')

    assert receive(websocket)[:2] == [3, "b1"]


@pytest.mark.parametrize("action", ["FooBar", "../../v16/schemas/Heartbeat", "heartbeat"])
def test_an_unknown_action_is_not_implemented(websocket: ClientConnection, action: str) -> None:
    assert error_of(websocket, json.dumps([2, "u1", action, {}])) == ("u1", "NotImplemented")


def test_a_response_schemas_name_is_no_action(gateway: RunningGateway) -> None:
    """1.6 keeps HeartbeatResponse.json beside Heartbeat.json: not an action to call."""
    charge_point("CPR")
    with connect_as(gateway.url("CPR")) as websocket:
        frame = json.dumps([2, "r1", "HeartbeatResponse", {"currentTime": "2025-01-01T00:00:00Z"}])
        assert error_of(websocket, frame) == ("r1", "NotImplemented")


def test_a_known_action_without_handler_is_not_supported(
    websocket: ClientConnection, version: str
) -> None:
    payload = (
        {"idTag": "TAG"} if version == "1.6" else {"idToken": {"idToken": "T", "type": "ISO14443"}}
    )

    assert error_of(websocket, json.dumps([2, "a1", "Authorize", payload])) == (
        "a1",
        "NotSupported",
    )


STATUS_16 = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"connectorId": "1"}, "TypeConstraintViolation"),
        ({"info": "x" * 51}, "TypeConstraintViolation"),
        ({"status": "Bogus"}, "PropertyConstraintViolation"),
        ({"status": None}, "ProtocolError"),  # None: left out
        ({"vendorSpecific": 1}, "FormationViolation"),
    ],
)
def test_a_schema_invalid_16_payload_gets_its_keywords_code(
    gateway: RunningGateway, change: dict[str, Any], code: str
) -> None:
    charge_point("CPS")
    payload = {k: v for k, v in {**STATUS_16, **change}.items() if v is not None}

    with connect_as(gateway.url("CPS")) as websocket:
        assert call(websocket, "ok", "StatusNotification", STATUS_16) == [3, "ok", {}]
        frame = json.dumps([2, "s1", "StatusNotification", payload])
        assert error_of(websocket, frame) == ("s1", code)


def test_a_schema_invalid_201_payload_gets_its_keywords_code(gateway: RunningGateway) -> None:
    charge_point("CPS2", version="2.0.1")
    status = {
        "timestamp": "2025-01-01T00:00:00Z",
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    }

    with connect_as(gateway.url("CPS2"), "2.0.1") as websocket:
        assert call(websocket, "ok", "StatusNotification", status) == [3, "ok", {}]
        extra = json.dumps([2, "s1", "StatusNotification", {**status, "vendorSpecific": 1}])
        assert error_of(websocket, extra) == ("s1", "FormatViolation")
        empty = json.dumps([2, "s2", "MeterValues", {"evseId": 1, "meterValue": []}])
        assert error_of(websocket, empty) == ("s2", "OccurenceConstraintViolation")


def test_a_relaxed_keyword_applies_to_its_charge_point_only(gateway: RunningGateway) -> None:
    charge_point("RELAXED", relaxed_validation=["additionalProperties"])
    charge_point("STRICT")
    payload = {**STATUS_16, "vendorSpecific": 1}

    with (
        connect_as(gateway.url("RELAXED")) as relaxed,
        connect_as(gateway.url("STRICT")) as strict,
    ):
        assert call(relaxed, "r", "StatusNotification", payload) == [3, "r", {}]
        frame = json.dumps([2, "s", "StatusNotification", payload])
        assert error_of(strict, frame) == ("s", "FormationViolation")
        # Only that keyword: the relaxed charge point's other violations are still refused.
        wrong_type = json.dumps([2, "t", "StatusNotification", {**payload, "connectorId": "1"}])
        assert error_of(relaxed, wrong_type) == ("t", "TypeConstraintViolation")


def test_an_operators_relaxation_applies_from_the_next_message(gateway: RunningGateway) -> None:
    charge_point("EDITED")
    payload = {**STATUS_16, "info": "x" * 60}

    with connect_as(gateway.url("EDITED")) as websocket:
        frame = json.dumps([2, "1", "StatusNotification", payload])
        assert error_of(websocket, frame) == ("1", "TypeConstraintViolation")
        ChargePoint.objects.filter(identity="EDITED").update(relaxed_validation=["maxLength"])
        assert call(websocket, "2", "StatusNotification", payload) == [3, "2", {}]


@pytest.mark.parametrize(
    ("vendor", "code", "description"),
    [
        ("invalid-answer", "InternalError", "The answer failed validation"),
        ("refuses", "GenericError", "Not today"),
        ("crashes", "InternalError", "The handler failed"),
    ],
)
def test_a_failing_handler_is_answered_with_a_callerror(
    websocket: ClientConnection, vendor: str, code: str, description: str
) -> None:
    answer = call(websocket, "d1", "DataTransfer", {"vendorId": vendor})

    assert answer[:4] == [4, "d1", code, description]
    assert call(websocket, "alive", "Heartbeat", {})[0] == 3


def test_a_handlers_answer_that_is_not_json_is_an_internal_error(gateway: RunningGateway) -> None:
    charge_point("CPJ", version="2.0.1")
    with connect_as(gateway.url("CPJ"), "2.0.1") as websocket:
        answer = call(websocket, "d1", "DataTransfer", {"vendorId": "not-json"})
        assert answer[:4] == [4, "d1", "InternalError", "The answer is not JSON"]


def test_a_handlers_refusal_keeps_its_details(websocket: ClientConnection) -> None:
    answer = call(websocket, "d1", "DataTransfer", {"vendorId": "refuses"})

    assert answer[4] == {"reason": "test"}


@pytest.mark.parametrize(
    "frame",
    ['[3, "nobody-asked", {}]', '[4, "nobody-asked", "GenericError", "", {}]', '[3, "x"]', "[4]"],
)
def test_results_and_errors_are_never_answered(websocket: ClientConnection, frame: str) -> None:
    websocket.send(frame)

    assert call(websocket, "next", "Heartbeat", {})[:2] == [3, "next"]


def test_an_oversized_frame_closes_the_connection_with_1009(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.OCPP_MAX_FRAME_BYTES = 1024
    use_handlers(monkeypatch, HANDLERS)
    charge_point("BIG")

    with RunningGateway("gw-small") as gateway, connect_as(gateway.url("BIG")) as websocket:
        assert call(websocket, "1", "DataTransfer", {"vendorId": "v", "data": "x" * 900})[0] == 3
        websocket.send(json.dumps([2, "2", "DataTransfer", {"vendorId": "v", "data": "x" * 2000}]))
        with pytest.raises(ConnectionClosedError) as closed:
            websocket.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
