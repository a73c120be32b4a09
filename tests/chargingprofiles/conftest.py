"""Charging profile fixtures: our CPO party BE*BEC at the spec's location LOC1, with a third EVSE,
every EVSE CHARGING_PROFILE_CAPABLE; a connected OCPP charge point carrying them; two eMSPs.

EVSEs 3256, 3257 and 3258 (AC_3_PHASE, 220 V, 16 A: 10 560 W) are OCPP connector / EVSE 1, 2
and 3 of charge point CP-1. eMSP A hosts DE*TNM with a chargingprofiles Sender endpoint (where
ActiveChargingProfile PUTs go); eMSP B hosts NL*BBB.
"""

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest
from rest_framework.test import APIClient

from chargers.models import (
    CallState,
    ChargePoint,
    ChargePointCall,
    ChargePointEvse,
    ChargerTransaction,
    OcppVersion,
)
from credentials.models import LocalParty, PartnerPlatform
from locations.models import EVSE, Location
from push.models import Change
from sessions.models import Session
from sessions.services import session_start
from tests import examples
from tests.conftest import client_for
from tests.examples import upsert_location, upsert_tariff
from tests.partners import only_local_party, registered_emsp
from tests.sessions.conftest import TARIFFS, cdr_token, connector, tariff_payload

URL = "/ocpi/cpo/2.2.1/chargingprofiles"
TOKEN_A = "emsp-a-profiles-token"
TOKEN_B = "emsp-b-profiles-token"
EMSP_A_URL = "https://emsp-a.example.com/ocpi/emsp/2.2.1"
RESPONSE_URL = "https://emsp-a.example.com/ocpi/emsp/2.2.1/chargingprofiles/results/17"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CAPABLE = ["RESERVABLE", "CHARGING_PROFILE_CAPABLE", "CHARGING_PREFERENCES_CAPABLE"]
_transaction_ids = count(1001)


def location_payload() -> dict[str, Any]:
    payload = copy.deepcopy(examples.example("locations", "location_example.json"))
    third = copy.deepcopy(payload["evses"][1])
    third.update(uid="3258", evse_id="BE*BEC*E3258")
    payload["evses"].append(third)
    for evse in payload["evses"]:
        evse["capabilities"] = list(CAPABLE)
    return payload


@pytest.fixture
def our_party(db: None, settings: Any) -> LocalParty:
    settings.OCPI_COUNTRY_CODE, settings.OCPI_PARTY_ID = "BE", "BEC"
    return only_local_party()


@pytest.fixture
def location(our_party: LocalParty) -> Location:
    for tariff_id, name in TARIFFS.items():
        upsert_tariff(tariff_payload(tariff_id, name))
    return upsert_location(location_payload())


@pytest.fixture
def partner_a(our_party: LocalParty) -> PartnerPlatform:
    return registered_emsp(
        "EmspA",
        TOKEN_A,
        ("DE", "TNM"),
        endpoints=(
            ("sessions", "RECEIVER", f"{EMSP_A_URL}/sessions"),
            ("chargingprofiles", "SENDER", f"{EMSP_A_URL}/chargingprofiles"),
        ),
    )


@pytest.fixture
def partner_b(our_party: LocalParty) -> PartnerPlatform:
    return registered_emsp("EmspB", TOKEN_B, ("NL", "BBB"))


@pytest.fixture
def client_a(partner_a: PartnerPlatform) -> APIClient:
    return client_for(TOKEN_A)


@pytest.fixture
def client_b(partner_b: PartnerPlatform) -> APIClient:
    return client_for(TOKEN_B)


def charge_point(version: str = OcppVersion.V16, identity: str = "CP-1") -> ChargePoint:
    """A connected charge point carrying EVSEs 3256, 3257 and 3258 as OCPP ids 1, 2, 3."""
    point = ChargePoint.objects.create(
        identity=identity, ocpp_version=version, connected_version=version, gateway="gw-test"
    )
    for ocpp_id, uid in enumerate(("3256", "3257", "3258"), start=1):
        ChargePointEvse.objects.create(
            charge_point=point, ocpp_evse_id=ocpp_id, evse=EVSE.objects.get(uid=uid)
        )
    return point


@pytest.fixture
def point(location: Location) -> ChargePoint:
    return charge_point()


def charging(
    point: ChargePoint, evse_uid: str = "3256", *, at: datetime = START, **kwargs: Any
) -> Session:
    """An ACTIVE session of DE*TNM's token at `evse_uid`, on an open OCPP transaction."""
    kwargs.setdefault("token", cdr_token())
    session = session_start(
        connector=connector(evse_uid, "1"),
        auth_method="WHITELIST",
        at=at,
        status="ACTIVE",
        **kwargs,
    )
    link = ChargePointEvse.objects.get(charge_point=point, evse__uid=evse_uid)
    number = next(_transaction_ids)
    ChargerTransaction.objects.create(
        charge_point=point,
        transaction_id=str(number) if point.ocpp_version == OcppVersion.V16 else f"tx-{number}",
        ocpp_evse_id=link.ocpp_evse_id,
        connector_id=1,
        session=session,
        started_at=at,
    )
    return session


def calls(action: str | None = None) -> list[ChargePointCall]:
    rows = ChargePointCall.objects.order_by("created_at", "pk")
    return list(rows.filter(action=action) if action else rows)


def answer(call: ChargePointCall, response: Mapping[str, Any] | None, state: str = "") -> None:
    """The call ends (answered, or `state`) and its follow-up runs, as the worker runs it."""
    from chargers import follow_ups

    final = state or CallState.ANSWERED
    ChargePointCall.objects.filter(pk=call.pk).update(
        state=final, response=response, finished_at=datetime.now(UTC)
    )
    assert follow_ups.run(str(call.pk)) is True


def results() -> list[tuple[str, Any]]:
    """(url, body) of the results POSTed to response_urls, in order."""
    return [
        (change.url, change.payload)
        for change in Change.objects.filter(module="chargingprofiles", method="POST").order_by("pk")
    ]


def active_pushes() -> list[tuple[list[str], Any]]:
    """(path, body) of the ActiveChargingProfile PUTs, in order."""
    return [
        (change.path, change.payload)
        for change in Change.objects.filter(module="chargingprofiles", method="PUT").order_by("pk")
    ]
