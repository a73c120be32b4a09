"""Charge point fixtures: an estate of our EVSEs to map charge points onto."""

from typing import Any

import pytest

from locations.models import EVSE, Location
from tests.locations.conftest import location_payload, our_parties, upsert

__all__ = ["our_parties"]  # the fixture, used by this package's tests too

OCPP_BASE_URL = "ws://ocpp.test:9000"


@pytest.fixture(autouse=True)
def _ocpp_base_url(settings: Any) -> None:
    settings.OCPP_BASE_URL = OCPP_BASE_URL


@pytest.fixture(autouse=True)
def _progress_each_apply(settings: Any) -> None:
    """A session's progress PATCH each time its samples are applied (not every 300 s of the
    charge point's time, the default): these tests follow each sample to the eMSP. The
    default's spacing has a test of its own (test_transactions16)."""
    settings.OCPP_SESSION_PROGRESS_SECONDS = 0


def estate_location(location_id: str, *uids: str, status: str = "AVAILABLE") -> Location:
    """A location of BE*BEC with EVSEs of these uids (each with the example's connectors)."""
    payload = location_payload(location_id, evses=len(uids))
    for evse, uid in zip(payload["evses"], uids, strict=True):
        evse["uid"] = uid
        evse["evse_id"] = f"BE*BEC*E{location_id}{uid}".replace("-", "")
        evse["status"] = status
    return upsert(payload)


def evse(location_id: str, uid: str) -> EVSE:
    return EVSE.objects.select_related("location").get(location__ocpi_id=location_id, uid=uid)
