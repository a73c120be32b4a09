"""A charge point's maintenance page (chargers.admin_maintenance): the operations of its OCPP
version, each sending its call through chargers.calls (stored PENDING for the gateway holding
the charge point; no gateway runs here, the answers are written as a gateway writes them), the
calls with their state and answer, forms and charge points refused without anything stored;
its histories on the charge point's page; the changelist action Send local list."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from chargers import follow_ups
from chargers.models import CallState, ChargePoint, ChargePointCall
from chargers.models_maintenance import (
    ChargePointSetting,
    ConnectionEvent,
    LocalListUpdate,
    MaintenanceEvent,
)
from chargers.provisioning import charge_point_provision
from tests.admin_pages import messages_of, page_text, run_action
from tests.chargers.conftest import estate_location
from tests.tokens.conftest import cache_token

pytestmark = pytest.mark.django_db

CHARGE_POINTS = "/admin/chargers/chargepoint/"
SEEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def estate(our_parties: Any) -> None:
    estate_location("LOC1", "E1", "E2")
    estate_location("LOC2", "F1", "F2")


def charge_point(
    version: str = "1.6", *, gateway: str = "gw-1", location: str = "LOC1"
) -> ChargePoint:
    refs = [f"{location}/{uid}" for uid in (("E1", "E2") if location == "LOC1" else ("F1", "F2"))]
    provisioned = charge_point_provision(
        identity=f"CP-{version}", evse_refs=refs, ocpp_version=version
    )
    ChargePoint.objects.filter(pk=provisioned.charge_point.pk).update(
        gateway=gateway, connected_version=version if gateway else ""
    )
    return ChargePoint.objects.get(pk=provisioned.charge_point.pk)


def page(cp: ChargePoint) -> str:
    return f"{CHARGE_POINTS}{cp.pk}/maintenance/"


def post(operator: Client, cp: ChargePoint, operation: str, **fields: str) -> Any:
    data = {"operation": operation, **{f"{operation}-{k}": v for k, v in fields.items()}}
    return operator.post(page(cp), data, follow=True)


def sent() -> list[tuple[str, dict[str, Any], str]]:
    return [
        (c.action, c.payload, c.requested_by)
        for c in ChargePointCall.objects.order_by("created_at")
    ]


def headings(response: Any) -> list[str]:
    return re.findall(
        r'<fieldset class="module aligned" id="operation-([a-z_]+)">', response.content.decode()
    )


# --- the page ------------------------------------------------------------------------------


def test_a_1_6_charge_point_has_the_1_6_operations(operator: Client, estate: None) -> None:
    response = operator.get(page(charge_point("1.6")))

    assert response.status_code == 200
    assert headings(response) == [
        "reset",
        "availability",
        "trigger",
        "get_configuration",
        "change_configuration",
        "update_firmware",
        "get_diagnostics",
        "clear_cache",
        "data_transfer",
        "send_local_list",
        "get_local_list_version",
    ]
    assert "Connected to gateway gw-1." in page_text(response)
    assert 'http-equiv="refresh"' not in response.content.decode()


def test_a_2_0_1_charge_point_has_the_2_0_1_operations(operator: Client, estate: None) -> None:
    response = operator.get(page(charge_point("2.0.1")))

    assert headings(response) == [
        "reset",
        "availability",
        "trigger",
        "get_variables",
        "set_variable",
        "update_firmware",
        "get_log",
        "clear_cache",
        "data_transfer",
        "send_local_list",
        "get_local_list_version",
    ]


def test_the_charge_point_page_links_it_and_shows_its_histories(
    operator: Client, estate: None
) -> None:
    cp = charge_point("1.6")
    ConnectionEvent.objects.create(
        charge_point=cp,
        at=SEEN,
        kind="DISCONNECTED",
        connection=3,
        gateway="gw-1",
        close_code=4001,
        reason="closed by us: No message for 900 s",
    )
    MaintenanceEvent.objects.create(
        charge_point=cp, at=SEEN, kind="FIRMWARE", status="Downloading", request_id=None
    )
    ChargePointSetting.objects.create(
        charge_point=cp,
        variable="HeartbeatInterval",
        value="300",
        readonly=False,
        status="Accepted",
        updated_at=SEEN,
    )

    response = operator.get(f"{CHARGE_POINTS}{cp.pk}/change/")

    text = page_text(response)
    assert page(cp) in response.content.decode()
    assert "DISCONNECTED 3 gw-1 closed by us: No message for 900 s" in text
    assert "firmware update Downloading" in text
    assert "HeartbeatInterval 300 no Accepted" in text


# --- operations sent ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "operation", "fields", "action", "payload"),
    [
        ("1.6", "reset", {"kind": "hard"}, "Reset", {"type": "Hard"}),
        ("2.0.1", "reset", {"kind": "soft"}, "Reset", {"type": "OnIdle"}),
        (
            "1.6",
            "availability",
            {"evse": "2", "operative": "0"},
            "ChangeAvailability",
            {"connectorId": 2, "type": "Inoperative"},
        ),
        (
            "2.0.1",
            "availability",
            {"evse": "0", "operative": "1"},
            "ChangeAvailability",
            {"operationalStatus": "Operative"},
        ),
        (
            "2.0.1",
            "trigger",
            {"message": "StatusNotification", "evse": "1"},
            "TriggerMessage",
            {"requestedMessage": "StatusNotification", "evse": {"id": 1}},
        ),
        (
            "1.6",
            "get_configuration",
            {"keys": "HeartbeatInterval, MeterValueSampleInterval"},
            "GetConfiguration",
            {"key": ["HeartbeatInterval", "MeterValueSampleInterval"]},
        ),
        ("1.6", "get_configuration", {"keys": ""}, "GetConfiguration", {}),
        (
            "1.6",
            "change_configuration",
            {"key": "HeartbeatInterval", "value": "120"},
            "ChangeConfiguration",
            {"key": "HeartbeatInterval", "value": "120"},
        ),
        (
            "2.0.1",
            "get_variables",
            {"variables": "OCPPCommCtrlr/HeartbeatInterval\nEVSE@2/Power.MaxSet"},
            "GetVariables",
            {
                "getVariableData": [
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                        "attributeType": "Actual",
                    },
                    {
                        "component": {"name": "EVSE", "evse": {"id": 2}},
                        "variable": {"name": "Power"},
                        "attributeType": "MaxSet",
                    },
                ]
            },
        ),
        (
            "2.0.1",
            "set_variable",
            {
                "component": "TxCtrlr",
                "variable": "EVConnectionTimeOut",
                "attribute": "Actual",
                "value": "90",
            },
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "component": {"name": "TxCtrlr"},
                        "variable": {"name": "EVConnectionTimeOut"},
                        "attributeType": "Actual",
                        "attributeValue": "90",
                    }
                ]
            },
        ),
        (
            "1.6",
            "update_firmware",
            {
                "location": "https://fw.example.com/a.bin",
                "retrieve_at": "2026-12-24 08:00",
                "retries": "3",
            },
            "UpdateFirmware",
            {
                "location": "https://fw.example.com/a.bin",
                "retrieveDate": "2026-12-24T08:00:00Z",
                "retries": 3,
            },
        ),
        (
            "2.0.1",
            "update_firmware",
            {"location": "ftps://fw.example.com/a.bin", "retrieve_at": "2026-12-24 08:00"},
            "UpdateFirmware",
            {
                "requestId": 1,
                "firmware": {
                    "location": "ftps://fw.example.com/a.bin",
                    "retrieveDateTime": "2026-12-24T08:00:00Z",
                },
            },
        ),
        (
            "1.6",
            "get_diagnostics",
            {"location": "ftp://logs.example.com/in/"},
            "GetDiagnostics",
            {"location": "ftp://logs.example.com/in/"},
        ),
        (
            "2.0.1",
            "get_log",
            {"location": "sftp://logs.example.com/in/", "security": "on"},
            "GetLog",
            {
                "logType": "SecurityLog",
                "requestId": 1,
                "log": {"remoteLocation": "sftp://logs.example.com/in/"},
            },
        ),
        ("2.0.1", "clear_cache", {}, "ClearCache", {}),
        (
            "1.6",
            "data_transfer",
            {"vendor_id": "com.vendor", "message_id": "Ping", "content": "x=1"},
            "DataTransfer",
            {"vendorId": "com.vendor", "messageId": "Ping", "data": "x=1"},
        ),
        ("2.0.1", "get_local_list_version", {}, "GetLocalListVersion", {}),
    ],
)
def test_each_operation_sends_its_call(
    operator: Client,
    estate: None,
    version: str,
    operation: str,
    fields: dict[str, str],
    action: str,
    payload: dict[str, Any],
) -> None:
    cp = charge_point(version)

    response = post(operator, cp, operation, **fields)

    assert response.redirect_chain == [(page(cp), 302)]
    assert sent() == [(action, payload, "admin:operator")]
    assert any(
        f"{action} sent; its answer appears in the calls below." in m for m in messages_of(response)
    )
    text = page_text(response)
    assert f"{action} waiting to be sent admin:operator awaiting" in text
    assert 'http-equiv="refresh" content="3"' in response.content.decode()


def test_a_firmware_request_is_in_the_history_with_its_answer_once_known(
    operator: Client, estate: None
) -> None:
    cp = charge_point("2.0.1")
    post(operator, cp, "update_firmware", location="https://fw.example.com/a.bin")
    call = ChargePointCall.objects.get()

    ChargePointCall.objects.filter(pk=call.pk).update(
        state=CallState.ANSWERED, response={"status": "Rejected"}, finished_at=timezone.now()
    )
    follow_ups.run(str(call.pk))
    response = operator.get(page(cp))

    text = page_text(response)
    assert "firmware update (our request) 1 Rejected https://fw.example.com/a.bin" in text
    assert '"status": "Rejected"' in text
    assert 'http-equiv="refresh"' not in response.content.decode()


@pytest.mark.parametrize(
    ("state", "error_code", "status"),
    [
        (CallState.TIMED_OUT, "", "No answer"),
        (CallState.FAILED, "NotImplemented", "Refused: NotImplemented"),
    ],
)
def test_a_request_without_an_answer_says_so_in_the_history(
    operator: Client, estate: None, state: str, error_code: str, status: str
) -> None:
    cp = charge_point("1.6")
    post(operator, cp, "get_diagnostics", location="https://logs.example.com/")
    call = ChargePointCall.objects.get()

    ChargePointCall.objects.filter(pk=call.pk).update(
        state=state, error_code=error_code, finished_at=timezone.now()
    )
    follow_ups.run(str(call.pk))

    event = MaintenanceEvent.objects.get(call=call)
    assert (event.status, event.detail) == (status, "https://logs.example.com/")


def test_a_refused_call_shows_its_error(operator: Client, estate: None) -> None:
    cp = charge_point("1.6")
    now = timezone.now()
    ChargePointCall.objects.create(
        charge_point=cp,
        action="ClearCache",
        payload={},
        state=CallState.FAILED,
        error_code="NotSupported",
        error_description="No cache here",
        created_at=now,
        deadline=now + timedelta(seconds=30),
        finished_at=now,
    )
    ChargePointCall.objects.create(
        charge_point=cp,
        action="Reset",
        payload={"type": "Soft"},
        state=CallState.TIMED_OUT,
        error_description="No answer before the deadline",
        created_at=now - timedelta(seconds=1),
        deadline=now,
        finished_at=now,
    )

    text = page_text(operator.get(page(cp)))

    assert "ClearCache refused (CALLERROR) NotSupported: No cache here" in text
    assert "Reset no answer in time No answer before the deadline" in text


# --- refused: nothing stored -------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "fields", "problem"),
    [
        ("update_firmware", {"location": "file:///etc/passwd"}, "Not a URL with scheme"),
        ("update_firmware", {"location": "https://"}, "Not a URL with scheme"),
        ("get_diagnostics", {"location": "javascript:alert(1)"}, "Not a URL with scheme"),
        ("change_configuration", {"key": "K", "value": "x" * 501}, "at most 500 characters"),
        ("change_configuration", {"key": "", "value": "1"}, "This field is required."),
        ("reset", {"kind": "sideways"}, "Select a valid choice."),
        ("availability", {"evse": "7", "operative": "0"}, "Select a valid choice."),
    ],
)
def test_an_invalid_form_is_refused_and_nothing_is_sent(
    operator: Client, estate: None, operation: str, fields: dict[str, str], problem: str
) -> None:
    cp = charge_point("1.6")

    response = post(operator, cp, operation, **fields)

    assert response.redirect_chain == []
    assert problem in page_text(response)
    assert not ChargePointCall.objects.exists()
    assert not MaintenanceEvent.objects.exists()


def test_a_bad_variable_line_is_refused(operator: Client, estate: None) -> None:
    cp = charge_point("2.0.1")

    response = post(operator, cp, "get_variables", variables="no slash here")

    assert "Not Component/Variable: 'no slash here'" in page_text(response)
    assert not ChargePointCall.objects.exists()


def test_an_offline_charge_point_is_refused_and_nothing_is_queued(
    operator: Client, estate: None
) -> None:
    cp = charge_point("1.6", gateway="")

    response = post(operator, cp, "update_firmware", location="https://fw.example.com/a.bin")

    assert "Not sent: no gateway holds its connection (offline). Nothing was queued." in page_text(
        response
    )
    assert "Offline : nothing can be sent" in page_text(response)
    assert not ChargePointCall.objects.exists()
    assert not MaintenanceEvent.objects.exists()


def test_an_operation_of_the_other_version_is_refused(operator: Client, estate: None) -> None:
    cp = charge_point("2.0.1")

    response = post(operator, cp, "get_configuration", keys="")

    assert "No operation 'get_configuration' for OCPP 2.0.1." in messages_of(response)
    assert not ChargePointCall.objects.exists()


def test_a_viewer_gets_no_maintenance_page(
    client: Client, django_user_model: Any, estate: None
) -> None:
    viewer = django_user_model.objects.create_user("viewer", password="v-pass-123", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_chargepoint", content_type__app_label="chargers")
    )
    client.force_login(viewer)
    cp = charge_point("1.6")

    assert client.get(page(cp)).status_code == 403
    assert client.post(page(cp), {"operation": "clear_cache"}).status_code == 403
    assert not ChargePointCall.objects.exists()


# --- local list ----------------------------------------------------------------------------


def test_send_local_list_from_the_page_and_the_list(operator: Client, estate: None) -> None:
    cache_token("CARD-1", whitelist="ALWAYS")
    cp = charge_point("1.6")
    offline = charge_point("2.0.1", gateway="", location="LOC2")

    from_page = post(operator, cp, "send_local_list", full="on")
    again = run_action(operator, CHARGE_POINTS, "send_local_list", cp.pk)
    refused = run_action(operator, CHARGE_POINTS, "send_local_list", offline.pk)

    assert any("SendLocalList sent" in m for m in messages_of(from_page))
    update = LocalListUpdate.objects.get()
    assert (update.full, update.version, update.changes) == (True, 1, 1)
    assert messages_of(again) == [
        "Local list not sent to CP-1.6: An update of CP-1.6's list awaits its answer."
    ]
    assert messages_of(refused) == ["Local list not sent to CP-2.0.1: offline, nothing was queued."]
    assert [c.action for c in ChargePointCall.objects.all()] == ["SendLocalList"]
