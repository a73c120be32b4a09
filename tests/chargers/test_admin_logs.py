"""The read-only screens of what the gateway writes: transactions (with a link to their
session), calls to charge points (by state and action), the message log (searchable)."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from chargers.models import (
    ChargePoint,
    ChargePointCall,
    ChargePointMessage,
    ChargerTransaction,
    TransactionEvent,
)
from chargers.provisioning import charge_point_provision
from locations.models import Connector
from sessions.services import session_start
from tests.admin_pages import page_text
from tests.chargers.conftest import estate_location
from tests.sessions.conftest import cdr_token

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ADMIN = "/admin/chargers/"


@pytest.fixture
def cp(our_parties: Any) -> ChargePoint:
    estate_location("LOC1", "E1", "E2")
    return charge_point_provision(identity="CP-1", evse_refs=["E1"]).charge_point


def call(cp: ChargePoint, action: str, state: str, **fields: Any) -> ChargePointCall:
    return ChargePointCall.objects.create(
        charge_point=cp,
        action=action,
        payload={"type": "Soft"} if action == "Reset" else {},
        state=state,
        created_at=AT,
        deadline=AT + timedelta(seconds=30),
        **fields,
    )


def rows(response: Any, field: str) -> list[str]:
    return re.findall(
        rf'<t[hd] class="field-{field}"[^>]*>(?:<a [^>]+>)?([^<]*)', response.content.decode()
    )


def test_transactions_link_their_session_and_show_their_energy(
    operator: Client, cp: ChargePoint
) -> None:
    connector = Connector.objects.get(evse__uid="E1", ocpi_id="1")
    session = session_start(
        connector=connector, token=cdr_token(), auth_method="WHITELIST", at=AT, status="ACTIVE"
    )
    tx = ChargerTransaction.objects.create(
        charge_point=cp,
        transaction_id="1001",
        ocpp_evse_id=1,
        id_token="012345678",
        session=session,
        started_at=AT,
        meter_start_wh=Decimal("4223904"),
        meter_last_wh=Decimal("4235905"),
    )
    TransactionEvent.objects.create(
        transaction=tx,
        kind="MeterValues",
        timestamp=AT,
        received_at=AT,
        digest="d1",
        payload={"connectorId": 1},
    )
    ChargerTransaction.objects.create(charge_point=cp, transaction_id="1002", ended_at=AT)

    listing = operator.get(ADMIN + "chargertransaction/")
    open_only = operator.get(ADMIN + "chargertransaction/?open=yes")
    page = operator.get(f"{ADMIN}chargertransaction/{tx.pk}/change/")

    assert listing.status_code == 200
    assert sorted(rows(listing, "transaction_id")) == ["1001", "1002"]
    assert rows(open_only, "transaction_id") == ["1001"]
    assert rows(listing, "kwh")[rows(listing, "transaction_id").index("1001")] == "12.001"
    session_url = f"/admin/charging_sessions/session/{session.pk}/change/"
    assert session_url in listing.content.decode()
    assert page.status_code == 200
    assert session_url in page.content.decode()
    assert "MeterValues" in page_text(page)
    assert "Save" not in page_text(page)  # read-only


def test_calls_are_filtered_by_state_and_action(operator: Client, cp: ChargePoint) -> None:
    answered = call(cp, "Reset", "ANSWERED", response={"status": "Accepted"})
    call(cp, "TriggerMessage", "TIMED_OUT")
    call(cp, "Reset", "FAILED", error_code="NotSupported")

    by_state = operator.get(ADMIN + "chargepointcall/?state__exact=TIMED_OUT")
    by_action = operator.get(ADMIN + "chargepointcall/?action__exact=Reset")
    page = operator.get(f"{ADMIN}chargepointcall/{answered.pk}/change/")

    assert rows(by_state, "action") == ["TriggerMessage"]
    assert sorted(rows(by_action, "state")) == ["answered (CALLRESULT)", "refused (CALLERROR)"]
    assert page.status_code == 200
    text = page_text(page)
    assert '"type": "Soft"' in text
    assert '"status": "Accepted"' in text


def test_messages_are_searchable_and_filtered_by_charge_point(
    operator: Client, cp: ChargePoint
) -> None:
    other = charge_point_provision(identity="CP-2", evse_refs=["E2"]).charge_point
    for n, (owner, action) in enumerate([(cp, "BootNotification"), (other, "Heartbeat")]):
        ChargePointMessage.objects.create(
            charge_point=owner,
            at=AT + timedelta(seconds=n),
            direction="IN",
            message_type=2,
            unique_id=f"u-{n}",
            action=action,
            frame=f'[2,"u-{n}","{action}",{{}}]',
        )

    found = operator.get(ADMIN + "chargepointmessage/?q=Heartbeat")
    of_cp = operator.get(f"{ADMIN}chargepointmessage/?charge_point__id__exact={cp.pk}")
    by_identity = operator.get(ADMIN + "chargepointmessage/?q=CP-2")

    assert rows(found, "action") == ["Heartbeat"]
    assert rows(of_cp, "action") == ["BootNotification"]
    assert rows(by_identity, "unique_id") == ["u-1"]
    assert of_cp.status_code == 200


def test_nothing_written_by_the_gateway_can_be_added_or_deleted(
    operator: Client, cp: ChargePoint
) -> None:
    answered = call(cp, "Reset", "ANSWERED")

    for model in ["chargertransaction", "chargepointcall", "chargepointmessage"]:
        assert operator.get(f"{ADMIN}{model}/add/").status_code == 403
    assert operator.post(f"{ADMIN}chargepointcall/{answered.pk}/delete/").status_code == 403
    assert ChargePointCall.objects.filter(pk=answered.pk).exists()
