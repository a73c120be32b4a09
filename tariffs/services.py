"""Writes of tariffs: create/replace and delete, each with its push (mod_tariffs, Push model).

"When the CPO creates a new Tariff they push them to the eMSPs by calling the PUT method …
When the CPO deletes a Tariff, they … call DELETE." The outbox row is written in the same
transaction as the change (push.services.push_change); a worker delivers it.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from credentials.selectors import local_party
from ocpi.routing import PartyRef
from ocpi.serializers import DisplayTextSerializer, EnergyMixSerializer
from ocpi.tariff_links import connectors_naming, tariff_key
from ocpi.time import now
from push.services import catalogue_targets, push_change
from tariffs.models import RESTRICTION_FIELDS, PriceComponent, Tariff, TariffElement
from tariffs.selectors import tariff_get
from tariffs.serializers import TariffSerializer

MODULE = "tariffs"


class NotOurParty(ValueError):
    """A tariff may only be owned by a party this platform hosts."""


class TariffInUse(Exception):
    """Deleting a tariff that connectors still list in their tariff_ids (mod_tariffs, DELETE)."""

    def __init__(self, tariff: Tariff, connectors: Sequence[str]) -> None:
        self.connectors = list(connectors)
        super().__init__(
            f"Tariff {tariff.ocpi_id} is still used by connector(s) {', '.join(self.connectors)}"
        )


def _tariff_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The Tariff columns for validated TariffSerializer data (absent → "" / None / [])."""
    min_price = data.get("min_price") or {}
    max_price = data.get("max_price") or {}
    alt_text = data.get("tariff_alt_text") or []
    energy_mix = data.get("energy_mix")
    return {
        "currency": data["currency"],
        "type": data.get("type") or "",
        # Stored as rendered: plain dicts without nulls, numbers as exact Decimals.
        "tariff_alt_text": DisplayTextSerializer(many=True).to_representation(alt_text),
        "tariff_alt_url": data.get("tariff_alt_url") or "",
        "min_price_excl_vat": min_price.get("excl_vat"),
        "min_price_incl_vat": min_price.get("incl_vat"),
        "max_price_excl_vat": max_price.get("excl_vat"),
        "max_price_incl_vat": max_price.get("incl_vat"),
        "start_date_time": data.get("start_date_time"),
        "end_date_time": data.get("end_date_time"),
        "energy_mix": (
            EnergyMixSerializer().to_representation(energy_mix) if energy_mix is not None else None
        ),
    }


_TEXT_RESTRICTIONS = ("start_time", "end_time", "start_date", "end_date", "reservation")
_COMPONENT_FIELDS = ("type", "price", "vat", "step_size")
Elements = list[tuple[dict[str, Any], list[dict[str, Any]]]]


def _element_values(element: Mapping[str, Any]) -> dict[str, Any]:
    restrictions = element.get("restrictions") or {}
    values = {name: restrictions.get(name) for name in RESTRICTION_FIELDS}
    values.update({name: values[name] or "" for name in _TEXT_RESTRICTIONS})
    values["day_of_week"] = list(values["day_of_week"] or [])
    return values


def _desired_elements(data: Mapping[str, Any]) -> Elements:
    return [
        (
            _element_values(element),
            [
                {name: c.get(name) for name in _COMPONENT_FIELDS}
                for c in element["price_components"]
            ],
        )
        for element in data["elements"]
    ]


def _stored_elements(tariff: Tariff) -> Elements:
    """What the prefetched tariff holds, in the shape of _desired_elements()."""
    return [
        (
            {name: getattr(element, name) for name in RESTRICTION_FIELDS},
            [
                {name: getattr(component, name) for name in _COMPONENT_FIELDS}
                for component in element.price_components.all()
            ],
        )
        for element in tariff.elements.all()
    ]


def render_tariff(tariff: Tariff) -> dict[str, Any]:
    return dict(TariffSerializer(tariff).data)


def _write_elements(tariff: Tariff, elements: Elements) -> None:
    """Replace the elements and components: rows are reused by position, so an element's
    admin page keeps its URL; components are few and simply rewritten."""
    existing = {element.position: element for element in tariff.elements.all()}
    TariffElement.objects.filter(tariff=tariff, position__gte=len(elements)).delete()
    for position, (values, components) in enumerate(elements):
        element = existing.get(position) or TariffElement(tariff=tariff, position=position)
        for name, value in values.items():
            setattr(element, name, value)
        element.save()
        element.price_components.all().delete()
        PriceComponent.objects.bulk_create(
            PriceComponent(element=element, position=index, **component)
            for index, component in enumerate(components)
        )


def _push(tariff: Tariff, method: str, payload: dict[str, Any] | None) -> None:
    push_change(
        module=MODULE,
        method=method,
        owner=tariff.party,
        object_key=tariff.object_key,
        path=[tariff.country_code, tariff.party_id, tariff.ocpi_id],
        payload=payload,
        targets=catalogue_targets(MODULE),
    )


def tariff_upsert(*, data: Mapping[str, Any]) -> Tariff:
    """Create or replace one of our tariffs from validated TariffSerializer data.

    Elements and components are replaced as a whole (a Tariff PUT carries the full object).
    `last_updated` is ours to set, so the one in `data` is ignored. An upsert that changes
    nothing leaves last_updated alone and pushes nothing: the same PUT twice is one push.
    """
    party = PartyRef.of(data["country_code"], data["party_id"])
    if local_party(party) is None:
        raise NotOurParty(f"{party} is not a party of this platform")
    columns, elements = _tariff_values(data), _desired_elements(data)
    with transaction.atomic():
        tariff = (
            Tariff.objects.select_for_update()
            .for_party(party)
            .filter(ocpi_id__ci=data["ocpi_id"])
            .first()
        )
        if tariff is None:
            tariff = Tariff(
                country_code=data["country_code"],
                party_id=data["party_id"],
                ocpi_id=data["ocpi_id"],
            )
        else:
            current = tariff_get(party=party, tariff_id=tariff.ocpi_id)
            assert current is not None  # locked above
            stored = {name: getattr(current, name) for name in columns}
            if stored == columns and _stored_elements(current) == elements:
                return current
        for name, value in columns.items():
            setattr(tariff, name, value)
        tariff.last_updated = now()
        tariff.save()
        _write_elements(tariff, elements)
        saved = tariff_get(party=party, tariff_id=tariff.ocpi_id)
        assert saved is not None
        _push(saved, "PUT", render_tariff(saved))
    return saved


def tariff_references(*, tariff: Tariff) -> list[str]:
    """Connectors of the tariff's party whose tariff_ids name it, as LOCATION/EVSE/CONNECTOR.

    The rule (REMOVED EVSEs left out, ids compared as CiStrings) is ocpi.tariff_links', shared
    with the locations app, which this one may not import.
    """
    key = tariff_key(tariff.party, tariff.ocpi_id)
    return [
        f"{use.location_id}/{use.evse_uid}/{use.connector_id}"
        for use in connectors_naming([key])[key]
    ]


def tariff_delete(*, tariff: Tariff) -> None:
    """Delete a tariff no connector uses and push DELETE (no body) to the eMSPs.

    The spec RECOMMENDS making sure no Connector references the tariff first; we refuse
    instead of leaving partners with connectors that point at nothing.
    """
    with transaction.atomic():
        locked = Tariff.objects.select_for_update().filter(pk=tariff.pk).first()
        if locked is None:
            return
        connectors = tariff_references(tariff=locked)
        if connectors:
            raise TariffInUse(locked, connectors)
        path_tariff = Tariff(
            country_code=locked.country_code, party_id=locked.party_id, ocpi_id=locked.ocpi_id
        )
        locked.delete()
        _push(path_tariff, "DELETE", None)
