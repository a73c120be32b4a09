"""Reads for seeding: whose estate it is, and what of it already exists."""

from datetime import datetime

from credentials.models import LocalParty
from locations.models import Location
from ocpi.enums import Role
from ocpi.routing import PartyRef
from tariffs.models import Tariff

DEMO_PREFIX = "DEMO-"


def default_cpo_party() -> LocalParty | None:
    """The platform's default party: its first active CPO party (the one the data
    migration made from OCPI_COUNTRY_CODE and OCPI_PARTY_ID, unless an operator changed it)."""
    return LocalParty.objects.active().filter(role=Role.CPO).order_by("pk").first()


def has_catalogue(party: LocalParty) -> bool:
    """Whether the party owns any location or tariff, demo or not."""
    return (
        Location.objects.for_party(PartyRef.of(party.country_code, party.party_id)).exists()
        or Tariff.objects.for_party(PartyRef.of(party.country_code, party.party_id)).exists()
    )


def demo_location_stamps(party: LocalParty) -> dict[str, datetime]:
    """last_updated of the party's demo locations by upper-cased id (ids are CiStrings)."""
    rows = (
        Location.objects.for_party(PartyRef.of(party.country_code, party.party_id))
        .filter(ocpi_id__istartswith=DEMO_PREFIX)
        .values_list("ocpi_id", "last_updated")
    )
    return {ocpi_id.upper(): stamp for ocpi_id, stamp in rows}


def demo_tariff_stamps(party: LocalParty) -> dict[str, datetime]:
    rows = (
        Tariff.objects.for_party(PartyRef.of(party.country_code, party.party_id))
        .filter(ocpi_id__istartswith=DEMO_PREFIX)
        .values_list("ocpi_id", "last_updated")
    )
    return {ocpi_id.upper(): stamp for ocpi_id, stamp in rows}
