"""Test data of the status tests: our CPO party BE*BEC with one location of three EVSEs (each
two connectors, AVAILABLE), an eMSP partner receiving its pushes, charge points mapped to them,
and handlers called as the gateway calls them, their answers checked against the schemas."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from ocpp.messages import get_validator

from chargers.handlers import Context, handler_for
from chargers.models import ChargePoint, ChargePointEvse
from credentials.models import PartnerPlatform
from locations.models import EVSE, Location
from ocpi.time import format_datetime, now
from push.models import Change, Method
from tests.locations.conftest import location_payload, make_partner, upsert
from tests.partners import only_local_party

UIDS = ["LOC1-E0", "LOC1-E1", "LOC1-E2"]
CALL, CALLRESULT = 2, 3


@pytest.fixture
def partner(db: None) -> PartnerPlatform:
    only_local_party("BE", "BEC")
    return make_partner("Emsp", "tok-emsp", ("DE", "MSP"))


@pytest.fixture
def location(partner: PartnerPlatform) -> Location:
    return upsert(location_payload("LOC1", evses=len(UIDS)))


def charge_point(version: str, *uids: str, **fields: Any) -> ChargePoint:
    """A charge point whose OCPP EVSE (1.6: connector) id n is the n-th of `uids`."""
    created = ChargePoint.objects.create(
        identity=f"CP-{version}", ocpp_version=version, connected_version=version, **fields
    )
    for ocpp_id, uid in enumerate(uids, start=1):
        ChargePointEvse.objects.create(
            charge_point=created, ocpp_evse_id=ocpp_id, evse=EVSE.objects.get(uid=uid)
        )
    return created


def one_each(*uids: str) -> list[ChargePoint]:
    """A charge point (OCPP 1.6) per EVSE, its connector 1 that EVSE, reported Available an
    hour ago."""
    made = []
    for uid in uids:
        cp = ChargePoint.objects.create(
            identity=f"CP-{uid}", ocpp_version="1.6", connected_version="1.6"
        )
        ChargePointEvse.objects.create(
            charge_point=cp, ocpp_evse_id=1, evse=EVSE.objects.get(uid=uid)
        )
        available = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
        call(cp, "StatusNotification", available, at=now() - timedelta(hours=1))
        made.append(cp)
    return made


def call(
    charge_point: ChargePoint,
    action: str,
    payload: dict[str, Any],
    *,
    at: datetime | None = None,
) -> Any:
    """Run the handler of `action` as the gateway does for a valid CALL; its answer is valid."""
    version = charge_point.connected_version
    get_validator(CALL, action, version).validate(payload)
    handler = handler_for(version, action)
    assert handler is not None, action
    context = Context(
        charge_point=charge_point, version=version, received_at=at or now(), unique_id="m-1"
    )
    response = handler(context, payload)
    get_validator(CALLRESULT, action, version).validate(response)
    return response


def statuses() -> list[str]:
    return [EVSE.objects.get(uid=uid).status for uid in UIDS]


def patches() -> list[tuple[list[str], str]]:
    """(path, status) of every PATCH queued, oldest first."""
    changes = Change.objects.filter(method=Method.PATCH).order_by("pk")
    return [(change.path, (change.payload or {})["status"]) for change in changes]


def patch_of(uid: str, status: str) -> tuple[list[str], str]:
    return ["BE", "BEC", "LOC1", uid], status


def stamp(moment: datetime, seconds: float = 0) -> str:
    return format_datetime(moment + timedelta(seconds=seconds))
