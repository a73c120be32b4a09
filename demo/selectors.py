"""Reads for seeding: whose estate it is, and what of it (and of the demo tokens) exists."""

from credentials.models import LocalParty
from locations.models import Location
from ocpi.enums import Role
from ocpi.routing import PartyRef
from tariffs.models import Tariff
from tokens.models import Token

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


def demo_location_ids(party: LocalParty) -> set[str]:
    """The upper-cased ids of the party's demo locations (ids are CiStrings)."""
    rows = (
        Location.objects.for_party(PartyRef.of(party.country_code, party.party_id))
        .filter(ocpi_id__istartswith=DEMO_PREFIX)
        .values_list("ocpi_id", flat=True)
    )
    return {ocpi_id.upper() for ocpi_id in rows}


def demo_tariff_ids(party: LocalParty) -> set[str]:
    rows = (
        Tariff.objects.for_party(PartyRef.of(party.country_code, party.party_id))
        .filter(ocpi_id__istartswith=DEMO_PREFIX)
        .values_list("ocpi_id", flat=True)
    )
    return {ocpi_id.upper() for ocpi_id in rows}


def token_exists(uid: str, token_type: str) -> bool:
    """Whether any eMSP's cached token has this uid and type."""
    return Token.objects.identified(uid, token_type).exists()
