"""Seeding the demo estate through the tariffs and locations services.

Going through the services, not the models, gives the demo exactly what an operator's own
edits get: validation by the OCPI serializers, last_updated moving up the tree, and a push
of every change to the catalogue partners. The services write nothing for an upsert that
changes nothing, which makes seeding the same estate twice a no-op.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rest_framework import serializers

from credentials.models import LocalParty
from demo import estate, price_list
from demo.selectors import demo_location_stamps, demo_tariff_stamps
from locations.serializers import LocationSerializer
from locations.services import location_upsert
from ocpi.time import format_datetime, now
from tariffs.serializers import TariffSerializer
from tariffs.services import tariff_upsert


class InvalidDemoData(ValueError):
    """A generated object the OCPI serializers refuse: a bug in demo/, not in the input."""


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, before: datetime | None, after: datetime) -> None:
        if before is None:
            self.created += 1
        elif before != after:
            self.updated += 1
        else:
            self.unchanged += 1

    @property
    def changed(self) -> int:
        return self.created + self.updated

    @property
    def total(self) -> int:
        return self.changed + self.unchanged


@dataclass
class SeedResult:
    party: LocalParty
    seed: int
    locations: Tally = field(default_factory=Tally)
    tariffs: Tally = field(default_factory=Tally)
    evses: int = 0
    connectors: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.locations.changed or self.tariffs.changed)


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
    """Create or update the tariffs and the first `locations` demo locations of `party`.

    Tariffs come first so that partners receive them before the connectors naming them.
    Demo locations beyond `locations` from earlier runs are left as they are. `progress` is
    called with the number of locations done so far.
    """
    if not 0 <= locations <= estate.MAX_LOCATIONS:
        raise ValueError(f"locations must be between 0 and {estate.MAX_LOCATIONS}")
    result = SeedResult(party=party, seed=seed)
    owner = {"country_code": party.country_code, "party_id": party.party_id}
    valid_tariff, valid_location = _Validator(TariffSerializer()), _Validator(LocationSerializer())

    known = demo_tariff_stamps(party)
    for payload in price_list.tariffs(**owner, seed=seed, stamp=format_datetime(now())):
        tariff = tariff_upsert(data=valid_tariff(payload))
        result.tariffs.count(known.get(tariff.ocpi_id.upper()), tariff.last_updated)

    known = demo_location_stamps(party)
    operator = party.business_details()
    for index in range(locations):
        # Stamped as it is written, like any upsert: a partner pulling with date_from while
        # a large estate is being seeded must not miss what is committed after its pull.
        stamp = format_datetime(now())
        payload = estate.location(**owner, operator=operator, seed=seed, index=index, stamp=stamp)
        location = location_upsert(data=valid_location(payload))
        result.locations.count(known.get(location.ocpi_id.upper()), location.last_updated)
        result.evses += len(payload["evses"])
        result.connectors += sum(len(evse["connectors"]) for evse in payload["evses"])
        if progress is not None:
            progress(index + 1)
    return result
