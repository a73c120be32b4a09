"""Demo estate fixtures: the default CPO party, a catalogue partner, running the command."""

import io
from typing import Any

import pytest
from django.core.management import call_command

from credentials.models import (
    LocalParty,
    PartnerEndpoint,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
)
from locations.models import EVSE, Connector, Location
from locations.selectors import location_list
from locations.serializers import LocationSerializer
from ocpi import json
from ocpi.routing import PartyRef
from tariffs.models import Tariff
from tariffs.selectors import tariff_list
from tariffs.serializers import TariffSerializer
from tests.partners import only_local_party

TARIFFS = 44  # 11 kinds in each of 4 countries


@pytest.fixture
def cpo_party(db: None) -> LocalParty:
    """The platform's only party, as the data migration makes it, with a website and logo."""
    return only_local_party(
        "NL",
        "TNM",
        "The New Motion Demo CPO",
        website="https://cpo.example.com",
        logo={"url": "https://cpo.example.com/logo.png", "category": "OPERATOR", "type": "png"},
    )


@pytest.fixture
def partner(cpo_party: LocalParty) -> PartnerPlatform:
    """A registered eMSP that receives locations and tariffs: every change queues a push."""
    partner = PartnerPlatform(
        name="eMSP", status=PartnerStatus.REGISTERED, versions_url="http://127.0.0.1:9/versions"
    )
    partner.set_incoming_token("emsp-in")
    partner.set_outgoing_token("emsp-out")
    partner.save()
    PartnerRole.objects.create(
        partner=partner,
        role="EMSP",
        country_code="DE",
        party_id="EMS",
        business_details={"name": "EMS"},
    )
    for module in ("locations", "tariffs"):
        PartnerEndpoint.objects.create(
            partner=partner,
            identifier=module,
            role="RECEIVER",
            url=f"http://127.0.0.1:9/ocpi/emsp/2.2.1/{module}",
        )
    return partner


def seed(*args: str) -> tuple[str, str]:
    """Run `manage.py seed_demo ARGS`; return what it wrote to stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rendered_estate(party: LocalParty) -> tuple[list[Any], list[Any]]:
    """Every location and tariff of the party as partners receive them (wire JSON)."""
    owner = PartyRef.of(party.country_code, party.party_id)
    locations = LocationSerializer(location_list(parties=[owner]), many=True).data
    tariffs = TariffSerializer(tariff_list(parties=[owner]), many=True).data
    return json.loads(json.dumps(locations)), json.loads(json.dumps(tariffs))


def without_last_updated(value: Any) -> Any:
    """`value` with every last_updated left out: services stamp objects when they write them."""
    if isinstance(value, dict):
        return {k: without_last_updated(v) for k, v in value.items() if k != "last_updated"}
    if isinstance(value, list | tuple):
        return type(value)(without_last_updated(item) for item in value)
    return value


def wipe_estate() -> None:
    """Delete every location and tariff, so that the next seed starts from nothing."""
    Connector.objects.all().delete()
    EVSE.objects.all().delete()
    Location.objects.all().delete()
    Tariff.objects.all().delete()
