"""The operator's charge point screens: the list, a charge point's page, provisioning and
passwords (shown once), the EVSE mapping, and the actions that send calls through
chargers.calls (its send() is replaced here: no gateway holds a connection in these tests)."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from chargers import calls
from chargers.connections import password_matches
from chargers.models import (
    ChargePoint,
    ChargePointCall,
    ChargePointEvse,
    ChargePointMessage,
)
from chargers.provisioning import charge_point_provision
from tests.admin_pages import messages_of, page_text, run_action
from tests.chargers.conftest import estate_location, evse

pytestmark = pytest.mark.django_db

CHARGE_POINTS = "/admin/chargers/chargepoint/"
SEEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def estate(our_parties: Any) -> None:
    estate_location("LOC1", "E1", "E2")
    estate_location("LOC2", "E1")


def charge_point(identity: str, *refs: str, version: str = "1.6", **fields: Any) -> ChargePoint:
    provisioned = charge_point_provision(identity=identity, evse_refs=refs, ocpp_version=version)
    ChargePoint.objects.filter(pk=provisioned.charge_point.pk).update(**fields)
    return ChargePoint.objects.get(pk=provisioned.charge_point.pk)


def online(identity: str, *refs: str, version: str = "1.6") -> ChargePoint:
    return charge_point(identity, *refs, version=version, gateway="gw-1", connected_version=version)


def told(response: Any) -> list[str]:
    """The messages the operator was given, without their links."""
    return [re.sub(r"<[^>]+>", "", message) for message in messages_of(response)]


def listed(response: Any) -> list[str]:
    return re.findall(
        r'<th class="field-identity"><a href="[^"]+">([^<]+)</a>', response.content.decode()
    )


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, Any], str]]:
    """The calls the actions send: (identity, action, payload, requested_by). A charge point
    without a gateway is refused as chargers.calls refuses it."""
    record: list[tuple[str, str, dict[str, Any], str]] = []

    def send(
        charge_point: ChargePoint,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,
        requested_by: str = "",
    ) -> ChargePointCall:
        if not charge_point.gateway:
            raise calls.ChargePointOffline(f"Charge point {charge_point.identity} is offline")
        record.append((charge_point.identity, action, payload, requested_by))
        now = timezone.now()
        return ChargePointCall(
            charge_point=charge_point, action=action, payload=payload, created_at=now, deadline=now
        )

    monkeypatch.setattr(calls, "send", send)
    return record


# --- the list ----------------------------------------------------------------------------


def test_the_list_shows_connection_boot_and_clock(operator: Client, estate: None) -> None:
    online("CP-ON", "LOC1/E1", version="2.0.1")
    ChargePoint.objects.filter(identity="CP-ON").update(
        last_message_at=SEEN,
        vendor="Alfen",
        model="Eve Double",
        firmware_version="6.2.0",
        clock_offset=-3.4,
        registration_status="Pending",
        serial_number="ACE0012345",
    )
    charge_point("CP-OFF", "LOC1/E2")

    response = operator.get(CHARGE_POINTS)

    assert response.status_code == 200
    assert listed(response) == ["CP-OFF", "CP-ON"]
    text = page_text(response)
    assert (
        "CP-ON OCPP 2.0.1 1: HTTP Basic auth 2026-03-01 13:00 CET Pending Alfen Eve Double "
        "6.2.0 -3 s" in text
    )
    assert "CP-OFF OCPP 1.6J 1: HTTP Basic auth – Accepted – - –" in text
    row = re.search(
        r'<tr[^>]*>\s*<td class="action-checkbox">.*?CP-ON.*?</tr>', response.content.decode(), re.S
    )
    assert row is not None
    assert 'alt="True"' in row.group(0)


def test_the_list_filters_online_and_finds_a_serial_number(operator: Client, estate: None) -> None:
    online("CP-ON", "LOC1/E1")
    charge_point("CP-OFF", "LOC1/E2", serial_number="SN-777")

    assert listed(operator.get(CHARGE_POINTS + "?online=yes")) == ["CP-ON"]
    assert listed(operator.get(CHARGE_POINTS + "?online=no")) == ["CP-OFF"]
    assert listed(operator.get(CHARGE_POINTS + "?q=SN-777")) == ["CP-OFF"]
    assert listed(operator.get(CHARGE_POINTS + "?ocpp_version__exact=1.6")) == ["CP-OFF", "CP-ON"]


# --- one charge point ------------------------------------------------------------------------


def test_a_charge_point_page_shows_its_evses_messages_and_calls(
    operator: Client, estate: None
) -> None:
    cp = online("CP-1", "LOC1/E2", "LOC2/E1")
    for n in range(60):
        ChargePointMessage.objects.create(
            charge_point=cp,
            at=SEEN + timedelta(seconds=n),
            direction="IN",
            message_type=2,
            unique_id=f"m-{n}",
            action="Heartbeat",
            frame=f'[2,"m-{n}","Heartbeat",{{}}]',
        )
    ChargePointCall.objects.create(
        charge_point=cp,
        action="Reset",
        payload={"type": "Soft"},
        state="ANSWERED",
        requested_by="admin:operator",
        created_at=SEEN,
        deadline=SEEN + timedelta(seconds=30),
    )

    response = operator.get(f"{CHARGE_POINTS}{cp.pk}/change/")

    assert response.status_code == 200
    text = page_text(response)
    assert "ws://ocpp.test:9000/ocpp/CP-1" in text
    assert "set (only its hash is kept) — Set a new password" in text
    assert "BE*BEC LOC1" in text
    assert "BE*BEC LOC2" in text
    assert 'value="LOC1-E2"' not in response.content.decode()  # EVSEs by their pk, not text
    assert text.count('"Heartbeat",{}]') == 50  # the most recent 50 of the 60 kept
    assert '"m-59"' in text
    assert '"m-9"' not in text
    assert f"?charge_point__id__exact={cp.pk}" in response.content.decode()
    assert "Reset answered (CALLRESULT) admin:operator" in text


def test_saving_a_charge_point_changes_only_what_the_operator_may_change(
    operator: Client, estate: None
) -> None:
    cp = online("CP-1", "LOC1/E1")
    ChargePoint.objects.filter(pk=cp.pk).update(last_message_at=SEEN, vendor="Alfen")
    link = ChargePointEvse.objects.get()
    form = {
        "ocpp_version": "2.0.1",
        "security_profile": "2",
        "registration_status": "Accepted",
        "heartbeat_interval": "60",
        "relaxed_validation": '["additionalProperties"]',
        "evses-TOTAL_FORMS": "1",
        "evses-INITIAL_FORMS": "1",
        "evses-MIN_NUM_FORMS": "0",
        "evses-MAX_NUM_FORMS": "1000",
        "evses-0-id": str(link.pk),
        "evses-0-charge_point": str(cp.pk),
        "evses-0-ocpp_evse_id": "1",
        "evses-0-evse": str(link.evse_id),
    }

    response = operator.post(f"{CHARGE_POINTS}{cp.pk}/change/", form)

    assert response.status_code == 302, page_text(response)
    cp.refresh_from_db()
    assert (cp.ocpp_version, cp.security_profile, cp.heartbeat_interval) == ("2.0.1", 2, 60)
    assert cp.relaxed_validation == ["additionalProperties"]
    assert (cp.gateway, cp.last_message_at, cp.vendor) == ("gw-1", SEEN, "Alfen")


def test_mapping_an_evse_of_another_charge_point_is_refused(operator: Client, estate: None) -> None:
    cp = charge_point("CP-1", "LOC1/E1")
    charge_point("CP-2", "LOC1/E2")
    link = ChargePointEvse.objects.get(charge_point=cp)
    form = {
        "ocpp_version": "1.6",
        "security_profile": "1",
        "registration_status": "Accepted",
        "heartbeat_interval": "300",
        "relaxed_validation": "[]",
        "evses-TOTAL_FORMS": "2",
        "evses-INITIAL_FORMS": "1",
        "evses-MIN_NUM_FORMS": "0",
        "evses-MAX_NUM_FORMS": "1000",
        "evses-0-id": str(link.pk),
        "evses-0-charge_point": str(cp.pk),
        "evses-0-ocpp_evse_id": "1",
        "evses-0-evse": str(link.evse_id),
        "evses-1-charge_point": str(cp.pk),
        "evses-1-ocpp_evse_id": "2",
        "evses-1-evse": str(evse("LOC1", "E2").pk),
    }

    response = operator.post(f"{CHARGE_POINTS}{cp.pk}/change/", form)

    assert response.status_code == 200
    assert "EVSE LOC1/E2 is already mapped to charge point CP-2 (OCPP id 1)." in page_text(response)
    assert ChargePointEvse.objects.filter(charge_point=cp).count() == 1


# --- provisioning and passwords ----------------------------------------------------------------


def test_adding_provisions_and_shows_the_password_once(operator: Client, estate: None) -> None:
    page = operator.get(CHARGE_POINTS + "add/")
    response = operator.post(
        CHARGE_POINTS + "add/",
        {
            "identity": "CP-NEW",
            "evses": "LOC1/E2\nLOC2/E1",
            "ocpp_version": "2.0.1",
            "security_profile": "1",
            "password": "",
        },
    )

    assert page.status_code == 200
    assert "In OCPP id order" in page_text(page)
    assert response.status_code == 200
    text = page_text(response)
    password = re.search(r'<code class="password">([^<]+)</code>', response.content.decode())
    assert password is not None
    cp = ChargePoint.objects.get(identity="CP-NEW")
    assert password_matches(cp.password_hash, password.group(1))
    assert "URL ws://ocpp.test:9000/ocpp/CP-NEW" in text
    assert "OCPP id 1 EVSE LOC1/E2 OCPP id 2 EVSE LOC2/E1" in text
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert cp.ocpp_version == "2.0.1"
    later = operator.get(f"{CHARGE_POINTS}{cp.pk}/change/")
    assert password.group(1) not in later.content.decode()


def test_adding_names_every_problem_and_stores_nothing(operator: Client, estate: None) -> None:
    response = operator.post(
        CHARGE_POINTS + "add/",
        {
            "identity": "CP:BAD",
            "evses": "E1, NOPE",
            "ocpp_version": "1.6",
            "security_profile": "1",
            "password": "short",
        },
    )

    assert response.status_code == 200
    text = page_text(response)
    assert "Identity 'CP:BAD' is not allowed" in text
    assert "The password must be 16 to 40 characters long (it has 5)." in text
    assert "EVSE uid E1 is at several locations (LOC1/E1, LOC2/E1)" in text
    assert "No EVSE with uid NOPE." in text
    assert not ChargePoint.objects.exists()


def test_a_new_password_is_shown_once_and_replaces_the_old(operator: Client, estate: None) -> None:
    provisioned = charge_point_provision(identity="CP-1", evse_refs=["LOC1/E1"])
    url = f"{CHARGE_POINTS}{provisioned.charge_point.pk}/password/"

    page = operator.get(url)
    response = operator.post(url, {"password": ""})

    assert "The old one stops working" in page_text(page)
    password = re.search(r'<code class="password">([^<]+)</code>', response.content.decode())
    assert password is not None
    stored = ChargePoint.objects.get(identity="CP-1").password_hash
    assert password_matches(stored, password.group(1))
    assert provisioned.password is not None
    assert not password_matches(stored, provisioned.password)


def test_a_given_new_password_must_be_long_enough(operator: Client, estate: None) -> None:
    provisioned = charge_point_provision(identity="CP-1", evse_refs=["LOC1/E1"])
    url = f"{CHARGE_POINTS}{provisioned.charge_point.pk}/password/"

    response = operator.post(url, {"password": "short"})

    assert "16 to 40 characters long" in page_text(response)
    assert provisioned.password is not None
    assert password_matches(
        ChargePoint.objects.get(identity="CP-1").password_hash, provisioned.password
    )


# --- calls to charge points --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "version", "call", "told_as"),
    [
        ("reset_soft", "1.6", ("Reset", {"type": "Soft"}), "Reset"),
        ("reset_soft", "2.0.1", ("Reset", {"type": "OnIdle"}), "Reset"),
        (
            "trigger_status",
            "1.6",
            ("TriggerMessage", {"requestedMessage": "StatusNotification"}),
            "TriggerMessage StatusNotification",
        ),
        (
            "make_available",
            "1.6",
            ("ChangeAvailability", {"connectorId": 0, "type": "Operative"}),
            "ChangeAvailability Operative",
        ),
        (
            "make_unavailable",
            "2.0.1",
            ("ChangeAvailability", {"operationalStatus": "Inoperative"}),
            "ChangeAvailability Inoperative",
        ),
    ],
)
def test_an_action_sends_its_call_through_chargers_calls(
    operator: Client,
    estate: None,
    sent: list[Any],
    action: str,
    version: str,
    call: tuple[str, dict[str, Any]],
    told_as: str,
) -> None:
    cp = online("CP-1", "LOC1/E1", version=version)

    response = run_action(operator, CHARGE_POINTS, action, cp.pk)

    assert sent == [("CP-1", *call, "admin:operator")]
    assert told(response) == [f"{told_as} sent to CP-1: their answers are in the calls."]


def test_an_offline_charge_point_is_reported_and_nothing_is_sent(
    operator: Client, estate: None, sent: list[Any]
) -> None:
    on = online("CP-ON", "LOC1/E1")
    off = charge_point("CP-OFF", "LOC1/E2")

    response = operator.post(
        CHARGE_POINTS,
        {"action": "reset_soft", "_selected_action": [on.pk, off.pk]},
        follow=True,
    )

    assert [identity for identity, *_ in sent] == ["CP-ON"]
    assert told(response) == [
        "Reset sent to CP-ON: their answers are in the calls.",
        "Reset not sent to CP-OFF: no gateway holds its connection (offline). "
        "Nothing was queued for it.",
    ]


def test_a_viewer_sees_charge_points_but_neither_acts_nor_sets_passwords(
    client: Client, django_user_model: Any, estate: None, sent: list[Any]
) -> None:
    viewer = django_user_model.objects.create_user("viewer", password="v-pass-123", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_chargepoint", content_type__app_label="chargers")
    )
    client.force_login(viewer)
    cp = online("CP-1", "LOC1/E1")

    listing = client.get(CHARGE_POINTS)
    refused = run_action(client, CHARGE_POINTS, "reset_soft", cp.pk)
    password = client.post(f"{CHARGE_POINTS}{cp.pk}/password/", {"password": ""})
    adding = client.get(CHARGE_POINTS + "add/")

    assert listed(listing) == ["CP-1"]
    assert "reset_soft" not in listing.content.decode()
    assert refused.status_code == 200
    assert sent == []
    assert password.status_code == 403
    assert adding.status_code == 403
