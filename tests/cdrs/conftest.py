"""CDR fixtures: our CPO party BE*BEC with one location, eMSP partners, ended sessions.

Sessions are written with the ORM, as the sessions app stores them when they complete: the
CdrLocation and the tariffs frozen at the start, the charging periods as rows.
"""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cdrs.models import Cdr
from cdrs.services import cdr_for_session
from credentials.models import LocalParty, PartnerPlatform
from locations.models import EVSE, Connector, Location
from ocpi.time import now, parse_datetime
from sessions.models import Session, SessionChargingPeriod, SessionStatus
from tests.examples import TESTS, tariff_example
from tests.partners import only_local_party, registered_emsp

# Verbatim copies of the spec's examples (see their NOTICE.md for licence and defects).
CDR_EXAMPLE = TESTS / "tariffs" / "engine" / "vectors" / "cdr_example.json"
BASE = "https://cpo.example.com"
EMSP_TOKEN = "emsp-a-token-for-cdrs"
OTHER_TOKEN = "emsp-b-token-for-cdrs"
EMSP_CDRS_URL = "https://emsp-a.example.com/ocpi/emsp/2.2.1/cdrs/"

Period = tuple[str, list[dict[str, Any]]]


def cdr_location(**overrides: Any) -> dict[str, Any]:
    """The CdrLocation a session at LOC1 freezes (cdr_example.json's, coordinates the right
    way round: the example swaps latitude and longitude)."""
    return {
        "id": "LOC1",
        "name": "Gent Zuid",
        "address": "F.Rooseveltlaan 3A",
        "city": "Gent",
        "postal_code": "9000",
        "country": "BEL",
        "coordinates": {"latitude": "51.047599", "longitude": "3.729944"},
        "evse_uid": "3256",
        "evse_id": "BE*BEC*E041503003",
        "connector_id": "1",
        "connector_standard": "IEC_62196_T2",
        "connector_format": "SOCKET",
        "connector_power_type": "AC_1_PHASE",
        **overrides,
    }


def energy(kwh: str) -> dict[str, Any]:
    return {"type": "ENERGY", "volume": Decimal(kwh)}


def dimension(kind: str, volume: str) -> dict[str, Any]:
    return {"type": kind, "volume": Decimal(volume)}


def at(moment: str) -> datetime:
    return parse_datetime(moment)


@pytest.fixture(autouse=True)
def _public_base_url(settings: Any) -> None:
    settings.OCPI_BASE_URL = BASE


@pytest.fixture
def cpo(db: None) -> LocalParty:
    """BE*BEC, the CPO of the spec's CDR example, as our only party."""
    return only_local_party()


@pytest.fixture
def location(cpo: LocalParty) -> Location:
    return create_location()


def create_location() -> Location:
    """LOC1 of BE*BEC (cdr_example.json's): EVSE 3256 with connector 1."""
    moment = now()
    location = Location.objects.create(
        country_code="BE",
        party_id="BEC",
        ocpi_id="LOC1",
        name="Gent Zuid",
        address="F.Rooseveltlaan 3A",
        city="Gent",
        postal_code="9000",
        country="BEL",
        latitude="51.047599",
        longitude="3.729944",
        time_zone="Europe/Brussels",
        last_updated=moment,
    )
    evse = EVSE.objects.create(
        location=location, uid="3256", evse_id="BE*BEC*E041503003", last_updated=moment
    )
    Connector.objects.create(
        evse=evse,
        ocpi_id="1",
        standard="IEC_62196_T2",
        format="SOCKET",
        power_type="AC_1_PHASE",
        max_voltage=230,
        max_amperage=32,
        last_updated=moment,
    )
    return location


@pytest.fixture
def emsp(cpo: LocalParty) -> PartnerPlatform:
    """eMSP A (DE*MSP) with a cdrs Receiver endpoint."""
    return registered_emsp(
        "Emsp-A", EMSP_TOKEN, ("DE", "MSP"), endpoints=(("cdrs", "RECEIVER", EMSP_CDRS_URL),)
    )


@pytest.fixture
def other_emsp(cpo: LocalParty) -> PartnerPlatform:
    """eMSP B (NL, OTH) on its own platform, also with a cdrs Receiver endpoint."""
    url = "https://emsp-b.example.com/ocpi/emsp/2.2.1/cdrs/"
    return registered_emsp(
        "Emsp-B", OTHER_TOKEN, ("NL", "OTH"), endpoints=(("cdrs", "RECEIVER", url),)
    )


MakeSession = Callable[..., Session]


def create_session(
    location: Location,
    session_id: str = "S1",
    *,
    periods: Sequence[Period],
    end: str,
    tariffs: Sequence[dict[str, Any]] = (),
    status: str = SessionStatus.COMPLETED,
    token_party: tuple[str, str] = ("DE", "MSP"),
    reserved: tuple[str, str] | None = None,
    **fields: Any,
) -> Session:
    """A session at `location` that ended: `periods` are (start, dimensions) in order."""
    start = at(periods[0][0]) if periods else at(end) - timedelta(hours=1)
    kwh = sum(
        (d["volume"] for _, dims in periods for d in dims if d["type"] == "ENERGY"),
        Decimal(0),
    )
    evse = location.evses.get()
    values: dict[str, Any] = {
        "country_code": "BE",
        "party_id": "BEC",
        "ocpi_id": session_id,
        "start_date_time": start,
        "end_date_time": at(end),
        "kwh": kwh,
        "token_country_code": token_party[0],
        "token_party_id": token_party[1],
        "token_uid": "012345678",
        "token_type": "RFID",
        "contract_id": "DE8ACC12E46L89",
        "auth_method": "WHITELIST",
        "location": location,
        "evse": evse,
        "connector": evse.connectors.get(),
        "currency": "EUR",
        "status": status,
        "last_updated": at(end),
        "cdr_location": cdr_location(),
        "tariffs": list(tariffs),
        "tariff_id": tariffs[0]["id"] if tariffs else "",
        "time_zone": "Europe/Brussels",
        **fields,
    }
    if reserved is not None:
        values["reserved_from"], values["reserved_until"] = at(reserved[0]), at(reserved[1])
    session = Session.objects.create(**values)
    SessionChargingPeriod.objects.bulk_create(
        SessionChargingPeriod(
            session=session, position=index, start_date_time=at(begin), dimensions=dims
        )
        for index, (begin, dims) in enumerate(periods)
    )
    return session


@pytest.fixture
def make_session(location: Location) -> MakeSession:
    """create_session() at LOC1."""

    def make(*args: Any, **kwargs: Any) -> Session:
        return create_session(location, *args, **kwargs)

    return make


# T10 (tariff_4_complex.json): Monday 09:30 local, 165 min at 16 A with 20 kWh, 42 min parked.
T10_PERIODS = [
    (
        "2024-06-03T07:30:00Z",
        [energy("20"), dimension("TIME", "2.75"), dimension("MAX_CURRENT", "16")],
    ),
    ("2024-06-03T10:15:00Z", [dimension("PARKING_TIME", "0.7")]),
]
T10_END = "2024-06-03T10:57:00Z"


def t10_cdr(make_session: MakeSession, session_id: str = "S1", **fields: Any) -> Cdr:
    """The CDR of a T10 session priced by tariff_4_complex.json (`fields`: the session's)."""
    session = make_session(
        session_id,
        periods=T10_PERIODS,
        end=T10_END,
        tariffs=[tariff_example("tariff_4_complex.json")],
        **fields,
    )
    cdr = cdr_for_session(session=session)
    assert cdr is not None
    return cdr
