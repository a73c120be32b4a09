"""Session fixtures: our CPO party BE*BEC with the spec's location and three tariffs, two eMSPs.

The location is location_example.json (LOC1): EVSE 3256 (connector 1 priced by tariff 11,
connector 2 by tariff 13; made CHARGING_PREFERENCES_CAPABLE here) and EVSE 3257 (connector 1,
tariff 12, which has a reservation element). eMSP A hosts DE*TNM, eMSP B hosts NL*BBB; both
have a sessions Receiver endpoint (`emsp_url`, a sink when a test delivers).
"""

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from credentials.models import LocalParty, PartnerPlatform
from locations.models import Connector, Location
from sessions.models import Session
from sessions.services import session_start
from tests import examples
from tests.conftest import client_for
from tests.examples import tariff_example, upsert_location, upsert_tariff
from tests.partners import only_local_party, registered_emsp
from tests.push.sink import Sink, running_sink

URL = "/ocpi/cpo/2.2.1/sessions"
TOKEN_A = "emsp-a-sessions-token"
TOKEN_B = "emsp-b-sessions-token"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Brussels
# The spec's tariff examples, each under the id our location's connectors name.
TARIFFS = {
    "11": "tariff_10_025kwh_parking_start.json",  # FLAT 0.50, ENERGY 0.25, PARKING 2.00/h
    "12": "tariff_15_reservation_5_euro_per_hour.json",  # reservation 5.00/h, FLAT, ENERGY
    "13": "tariff_13_simple_3hour_5parking.json",  # TIME 3.00/h, PARKING 5.00/h
}


def example(name: str) -> dict[str, Any]:
    """A session example of the spec (examples/NOTICE.md: licence and defects)."""
    return examples.example("sessions", name)


def cdr_token(uid: str = "012345678", country: str = "DE", party: str = "TNM") -> dict[str, str]:
    return {
        "country_code": country,
        "party_id": party,
        "uid": uid,
        "type": "RFID",
        "contract_id": f"{country}-{party}-C{uid}",
    }


def tariff_payload(tariff_id: str, name: str, **overrides: Any) -> dict[str, Any]:
    """The spec's tariff `name` as our tariff `tariff_id`."""
    return tariff_example(name, id=tariff_id, **overrides)


def location_payload(**overrides: Any) -> dict[str, Any]:
    payload = copy.deepcopy(examples.example("locations", "location_example.json"))
    payload["evses"][0]["capabilities"] = ["RESERVABLE", "CHARGING_PREFERENCES_CAPABLE"]
    payload.update(overrides)
    return payload


def connector(evse_uid: str = "3256", connector_id: str = "1") -> Connector:
    return Connector.objects.get(evse__uid=evse_uid, ocpi_id=connector_id)


def start(
    evse_uid: str = "3256", connector_id: str = "1", *, at: datetime = START, **kwargs: Any
) -> Session:
    """An ACTIVE session of DE*TNM's token 012345678 (unless told otherwise)."""
    kwargs.setdefault("token", cdr_token())
    kwargs.setdefault("auth_method", "WHITELIST")
    kwargs.setdefault("status", "ACTIVE")
    return session_start(connector=connector(evse_uid, connector_id), at=at, **kwargs)


@pytest.fixture
def our_party(db: None, settings: Any) -> LocalParty:
    """Our one CPO party, BE*BEC (owner of the spec's location example)."""
    settings.OCPI_COUNTRY_CODE, settings.OCPI_PARTY_ID = "BE", "BEC"
    return only_local_party()


@pytest.fixture
def location(our_party: LocalParty) -> Location:
    for tariff_id, name in TARIFFS.items():
        upsert_tariff(tariff_payload(tariff_id, name))
    return upsert_location(location_payload())


@pytest.fixture
def emsp_url() -> str:
    """Where the eMSPs' sessions Receivers are; nothing listens unless a test uses `sink`."""
    return "https://emsp.example.com/ocpi/emsp/2.2.1/sessions"


@pytest.fixture
def partner_a(our_party: LocalParty, emsp_url: str) -> PartnerPlatform:
    return registered_emsp(
        "EmspA", TOKEN_A, ("DE", "TNM"), endpoints=(("sessions", "RECEIVER", emsp_url),)
    )


@pytest.fixture
def partner_b(our_party: LocalParty, emsp_url: str) -> PartnerPlatform:
    return registered_emsp(
        "EmspB", TOKEN_B, ("NL", "BBB"), endpoints=(("sessions", "RECEIVER", emsp_url + "-b"),)
    )


@pytest.fixture
def client_a(partner_a: PartnerPlatform) -> APIClient:
    return client_for(TOKEN_A)


@pytest.fixture
def client_b(partner_b: PartnerPlatform) -> APIClient:
    return client_for(TOKEN_B)


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        yield running
