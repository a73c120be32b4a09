"""Seeding the demo estate through the tariffs, locations and tokens services.

Going through the services, not the models, gives the demo exactly what an operator's own
edits get: validation by the OCPI serializers, last_updated moving up the tree, and a push
of every new object to the catalogue partners.

Seeding only adds: a location, tariff or token that exists (by id) is kept as it is, never
updated, renamed or stripped of EVSEs, whatever the seed. So seeding twice is a no-op, and
seeding over an estate the operator has changed since (or seeded with another seed) leaves
those changes alone.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rest_framework import serializers

from credentials.models import LocalParty
from demo import drivers, estate, price_list
from demo.selectors import demo_location_ids, demo_tariff_ids, token_exists
from locations.serializers import LocationSerializer
from locations.services import location_upsert
from ocpi.time import format_datetime, now
from tariffs.serializers import TariffSerializer
from tariffs.services import tariff_upsert
from tokens.serializers import TokenSerializer
from tokens.sync import tokens_sync


class InvalidDemoData(ValueError):
    """A generated object the OCPI serializers refuse: a bug in demo/, not in the input."""


@dataclass
class Tally:
    created: int = 0
    kept: int = 0  # existed already: left as they are

    @property
    def total(self) -> int:
        return self.created + self.kept


@dataclass
class SeedResult:
    party: LocalParty
    seed: int
    locations: Tally = field(default_factory=Tally)
    tariffs: Tally = field(default_factory=Tally)
    tokens: Tally = field(default_factory=Tally)
    evses: int = 0  # of the locations created
    connectors: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.locations.created or self.tariffs.created or self.tokens.created)


class _Validator:
    """Validates payloads of one OCPI class with a single serializer instance: building a
    serializer deep-copies its nested fields, which would cost more than the validation."""

    def __init__(self, serializer: serializers.Serializer[Any]) -> None:
        self.serializer = serializer

    def __call__(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return dict(self.serializer.run_validation(payload))
        except serializers.ValidationError as error:
            raise InvalidDemoData(
                f"demo object {payload['id']} is not valid: {error.detail}"
            ) from error


def seed_estate(
    *,
    party: LocalParty,
    locations: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Create what is missing of the tariffs and the first `locations` demo locations of
    `party`, and of the demo eMSP's tokens; what exists is kept as it is.

    Tariffs come first so that partners receive them before the connectors naming them.
    Demo locations beyond `locations` from earlier runs are left as they are. `progress` is
    called with the number of locations done so far.
    """
    if not 0 <= locations <= estate.MAX_LOCATIONS:
        raise ValueError(f"locations must be between 0 and {estate.MAX_LOCATIONS}")
    result = SeedResult(party=party, seed=seed)
    owner = {"country_code": party.country_code, "party_id": party.party_id}
    valid_tariff, valid_location = _Validator(TariffSerializer()), _Validator(LocationSerializer())

    known = demo_tariff_ids(party)
    for payload in price_list.tariffs(**owner, seed=seed, stamp=format_datetime(now())):
        if payload["id"].upper() in known:
            result.tariffs.kept += 1
            continue
        tariff_upsert(data=valid_tariff(payload))
        result.tariffs.created += 1

    known = demo_location_ids(party)
    operator = party.business_details()
    for index in range(locations):
        if estate.location_id(index).upper() in known:
            result.locations.kept += 1
        else:
            # Stamped as it is written, like any upsert: a partner pulling with date_from
            # while a large estate is being seeded must not miss what is committed after.
            stamp = format_datetime(now())
            payload = estate.location(
                **owner, operator=operator, seed=seed, index=index, stamp=stamp
            )
            location_upsert(data=valid_location(payload))
            result.locations.created += 1
            result.evses += len(payload["evses"])
            result.connectors += sum(len(evse["connectors"]) for evse in payload["evses"])
        if progress is not None:
            progress(index + 1)

    result.tokens = seed_demo_tokens()
    return result


def seed_demo_tokens() -> Tally:
    """Put the demo eMSP's tokens (demo.drivers) into the token cache, those missing only.

    A token whose uid and type some eMSP's token already has is left out too: a second one
    would make a tap of that uid ambiguous (tokens.services.authorize).
    """
    tally = Tally()
    valid_token = _Validator(TokenSerializer())
    missing = []
    for payload in drivers.token_payloads(format_datetime(now())):
        if token_exists(payload["uid"], payload["type"]):
            tally.kept += 1
        else:
            missing.append(valid_token(payload))
    tally.created = tokens_sync(items=missing).created
    return tally
