"""What a session freezes when it starts: the CdrLocation and the tariffs (mod_cdrs, CDR object).

"The CDR … contains the Location/EVSE/Connector … and Tariff information as it was at the start
of the session", so the session copies them in OCPI form; its running price and its CDR then
read the very same data, whatever the operator changes later.

Which tariff prices the session (mod_tariffs, TariffType; mod_sessions, ChargingPreferences):

1. A PROFILE_<type> tariff when the session starts with a profile type (e.g. the token's
   default_profile_type) and the connector has one for it.
2. Otherwise the REGULAR tariff ("valid when using an RFID, without any Charging Preference,
   or when Charging Preference: REGULAR is set"), else one without a type ("valid for all
   sessions").
3. Never AD_HOC_PAYMENT (payment at the charge point, not roaming), nor a PROFILE_* tariff
   without the matching profile.

Ties go to the first in the connector's tariff_ids. Without a match no tariff prices the
session and its total_cost stays unknown (absent is not free). The choice is made when the
session starts (a reservation not bound to a connector chooses again, among the tariffs it
froze, when charging binds one): later charging preferences do not re-price a session whose
periods already went out with their tariff_id.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Q

from locations.models import EVSE, Connector, Location, Status
from ocpi import json
from ocpi.routing import PartyRef
from sessions import checks
from sessions.errors import SessionError
from sessions.models import NOT_APPLICABLE, Session
from tariffs.models import Tariff, TariffType
from tariffs.selectors import with_elements
from tariffs.serializers import TariffSerializer

# CdrLocation keeps the pre-errata lengths (mod_cdrs); Location allows more (errata: 255, 45).
CDR_ADDRESS_LENGTH = 45
CDR_CITY_LENGTH = 45
CDR_STATE_LENGTH = 20


def cdr_location(
    location: Location, evse: EVSE | None, connector: Connector | None
) -> dict[str, Any]:
    """The CdrLocation of a session at `connector` (or a reservation of `evse`, or of the
    location as a whole: evse_uid, evse_id and connector_id "#NA").

    The connector_* enums are required even for a reservation, where a CDR's reader ignores
    them (mod_cdrs, CdrLocation): they then describe the first connector in scope. An EVSE
    without an evse_id is named by its uid (evse_id is optional on EVSE, required here).
    Address, city and state are cut to CdrLocation's lengths.
    """
    described = connector or _first_connector(location, evse)
    frozen: dict[str, Any] = {
        "id": location.ocpi_id,
        "name": location.name,
        "address": location.address[:CDR_ADDRESS_LENGTH],
        "city": location.city[:CDR_CITY_LENGTH],
        "postal_code": location.postal_code,
        "state": location.state[:CDR_STATE_LENGTH],
        "country": location.country,
        "coordinates": location.coordinates,
        "evse_uid": evse.uid if evse is not None else NOT_APPLICABLE,
        "evse_id": (evse.evse_id or evse.uid) if evse is not None else NOT_APPLICABLE,
        "connector_id": connector.ocpi_id if connector is not None else NOT_APPLICABLE,
        "connector_standard": described.standard,
        "connector_format": described.format,
        "connector_power_type": described.power_type,
    }
    return {key: value for key, value in frozen.items() if value != ""}


class NothingToCharge(ValueError):
    """A reservation of a location or EVSE without any connector."""


def _first_connector(location: Location, evse: EVSE | None) -> Connector:
    connectors = connectors_in_scope(location, evse)
    if not connectors:
        scope = f"EVSE {evse.uid}" if evse is not None else f"location {location.ocpi_id}"
        raise NothingToCharge(f"{scope} has no connector")
    return connectors[0]


def connectors_in_scope(location: Location, evse: EVSE | None) -> list[Connector]:
    """The connectors a reservation of `evse` (or of the whole location) may end up using."""
    connectors = Connector.objects.filter(evse__location=location).exclude(
        evse__status=Status.REMOVED
    )
    if evse is not None:
        connectors = connectors.filter(evse=evse)
    return list(connectors.order_by("evse_id", "pk"))


def tariff_ids_of(connectors: Iterable[Connector]) -> list[str]:
    """The connectors' tariff_ids in order, each once (compared as CiStrings)."""
    seen: dict[str, str] = {}
    for connector in connectors:
        for tariff_id in connector.tariff_ids or []:
            seen.setdefault(str(tariff_id).upper(), str(tariff_id))
    return list(seen.values())


def tariffs_valid_at(
    owner: PartyRef, tariff_ids: Sequence[str], at: datetime
) -> list[dict[str, Any]]:
    """The Tariff objects of `owner` named by `tariff_ids` that are valid at `at`, in that order.

    start_date_time is inclusive and end_date_time exclusive ("no longer valid after"), as
    every period here is half-open. Unknown ids are skipped: a connector may name a tariff
    that was deleted or not yet created.
    """
    if not tariff_ids:
        return []
    named = Q(pk__in=[])
    for tariff_id in tariff_ids:
        named |= Q(ocpi_id__ci=tariff_id)
    valid = (Q(start_date_time__isnull=True) | Q(start_date_time__lte=at)) & (
        Q(end_date_time__isnull=True) | Q(end_date_time__gt=at)
    )
    found = {
        tariff.ocpi_id.upper(): tariff
        for tariff in with_elements(Tariff.objects.for_party(owner)).filter(named, valid)
    }
    ordered = [found[key] for key in (t.upper() for t in tariff_ids) if key in found]
    # Through JSON once: plain dicts and lists with exact Decimals, as the JSONField keeps them.
    rendered: list[dict[str, Any]] = json.loads(
        json.dumps(TariffSerializer(ordered, many=True).data)
    )
    return rendered


def choose_tariff(
    tariffs: Sequence[dict[str, Any]], profile_type: str | None
) -> dict[str, Any] | None:
    """The tariff that prices the session (the rule in this module's docstring)."""

    def first(kind: str) -> dict[str, Any] | None:
        return next((tariff for tariff in tariffs if (tariff.get("type") or "") == kind), None)

    if profile_type:
        wanted = first(f"PROFILE_{profile_type}")
        if wanted is not None:
            return wanted
    return first(TariffType.REGULAR) or first("")


def profile_tariff(tariffs: Sequence[dict[str, Any]], profile_type: str) -> dict[str, Any] | None:
    """The tariff for a ProfileType (REGULAR: the regular or untyped one), if any."""
    if profile_type == "REGULAR":
        return choose_tariff(tariffs, None)
    kind = f"PROFILE_{profile_type}"
    return next((tariff for tariff in tariffs if tariff.get("type") == kind), None)


def bind_connector(session: Session, connector: Connector) -> None:
    """Put the session on `connector` (a reservation that starts charging): the connector's
    tariff among those frozen for the reservation prices it, and the CdrLocation is its."""
    evse = connector.evse
    if session.connector_id is not None and session.connector_id != connector.pk:
        raise SessionError(f"Session {session.ocpi_id} is on another connector")
    if evse.location_id != session.location_id:
        raise SessionError(f"Connector {connector.ocpi_id} is not at the session's location")
    if session.evse_id is not None and session.evse_id != evse.pk:
        raise SessionError(f"Connector {connector.ocpi_id} is not on the reserved EVSE")
    checks.usable(evse)
    if session.connector_id is None:
        # Of the tariffs frozen for the reservation, the bound connector's price it now.
        named = {str(tariff_id).upper() for tariff_id in connector.tariff_ids or []}
        chosen = choose_tariff([t for t in session.tariffs if str(t["id"]).upper() in named], None)
        session.tariff_id = chosen["id"] if chosen is not None else ""
        session.currency = chosen["currency"] if chosen is not None else session.currency
    session.evse = evse
    session.connector = connector
    session.cdr_location = cdr_location(session.location, evse, connector)
