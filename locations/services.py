"""Writes of locations, EVSEs and connectors, each with its push in the same transaction.

`data` arguments are validated data of the OCPI serializers (locations/serializers.py).
Rules (mod_locations.asciidoc, Flow and Lifecycle, GET List):

- A new object keeps the `last_updated` in `data` (imports and seeds keep their owner's
  timestamps; now when absent); an object that changes later gets now, and so do its
  parents (Connector → EVSE → Location), so date_from pulls see the change.
- Nothing changed: nothing is written or pushed, so the same upsert twice is one row and
  one push.
- EVSEs are never deleted: an EVSE left out of a Location upsert is set to REMOVED.
  Connectors are never deleted either (sessions and CDRs refer to them); leaving one out is
  refused.
- Pushes go to every catalogue partner (locations.pushes), one queue per location, with
  the smallest request that is right: a PATCH `{status, last_updated}` when only EVSE
  statuses changed, else a PUT of the object upserted. Locations with
  `roaming=False` are never pushed; switching roaming off sends a last PUT showing every
  EVSE REMOVED, the spec's only way to withdraw a location, then nothing more.
"""

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from locations.models import EVSE, Connector, Location, Status
from locations.pushes import (
    MODULE,
    push_connector,
    push_evse,
    push_location,
    push_statuses,
    push_withdrawal,
)
from locations.selectors import evse_id_taken, evses_of, location_by_key
from ocpi.pagination import note_list_change
from ocpi.querysets import update_rows
from ocpi.time import moment_after

_LOCATION_TEXT = ("name", "address", "city", "postal_code", "state", "country", "time_zone")
_LOCATION_LISTS = ("related_locations", "directions", "facilities", "images")
_LOCATION_OBJECTS = ("operator", "suboperator", "owner", "opening_times", "energy_mix")
_EVSE_TEXT = ("evse_id", "floor_level", "physical_reference")
_EVSE_LISTS = ("status_schedule", "capabilities", "directions", "parking_restrictions", "images")
_CONNECTOR_PLAIN = ("standard", "format", "power_type", "max_voltage", "max_amperage")


@dataclass
class _Outcome:
    """What an upsert changed, to choose the push and the parents' last_updated."""

    created: bool = False
    structural: bool = False  # anything beyond EVSE statuses
    status_changed: list[EVSE] = field(default_factory=list)
    latest: datetime | None = None  # newest last_updated given to a changed child

    @property
    def changed(self) -> bool:
        return self.created or self.structural or bool(self.status_changed)

    def merge(self, child: "_Outcome", child_updated: datetime) -> None:
        if not child.changed:
            return
        self.structural = self.structural or child.created or child.structural
        self.status_changed.extend(child.status_changed)
        self.latest = child_updated if self.latest is None else max(self.latest, child_updated)


# --- values: validated data → model fields -----------------------------------------------


def _coordinates(data: Mapping[str, Any]) -> dict[str, str]:
    coordinates = data.get("coordinates") or {}
    return {
        "latitude": coordinates.get("latitude", ""),
        "longitude": coordinates.get("longitude", ""),
    }


def _location_values(data: Mapping[str, Any]) -> dict[str, Any]:
    publish = data["publish"]
    return {
        "publish": publish,
        # Meaningful only when publish is false (mod_locations, Location.publish_allowed_to).
        "publish_allowed_to": [] if publish else list(data.get("publish_allowed_to") or []),
        **{name: data.get(name) or "" for name in _LOCATION_TEXT},
        **{name: list(data.get(name) or []) for name in _LOCATION_LISTS},
        **{name: data.get(name) for name in _LOCATION_OBJECTS},
        "parking_type": data.get("parking_type") or "",
        "charging_when_closed": data.get("charging_when_closed"),
        **_coordinates(data),
    }


def _evse_values(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "status": data["status"],
        **{name: data.get(name) or "" for name in _EVSE_TEXT},
        **{name: list(data.get(name) or []) for name in _EVSE_LISTS},
        **_coordinates(data),
    }


def _connector_values(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **{name: data[name] for name in _CONNECTOR_PLAIN},
        "max_electric_power": data.get("max_electric_power"),
        "tariff_ids": list(data.get("tariff_ids") or []),
        "terms_and_conditions": data.get("terms_and_conditions") or "",
    }


def _apply(obj: Any, values: Mapping[str, Any]) -> set[str]:
    """Set `values` on `obj`; return the names of the fields that changed."""
    changed = set()
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.add(name)
    return changed


def _stamp(obj: Any, given: datetime | None, moment: datetime, outcome: _Outcome) -> None:
    """A changed object's last_updated: the owner's given time when it is created (imports,
    seeds), now when it changes later; never older than a changed child's (GET List)."""
    obj.last_updated = (given or moment) if outcome.created else moment
    if outcome.latest is not None and outcome.latest > obj.last_updated:
        obj.last_updated = outcome.latest


def _bump(parent: Location | EVSE, child_updated: datetime, moment: datetime) -> None:
    """A parent of a changed child changed too (mod_locations, GET List)."""
    parent.last_updated = max(moment, child_updated)


# --- writing the tree ---------------------------------------------------------------------


def _write_connector(
    evse: EVSE, connector: Connector | None, data: Mapping[str, Any], moment: datetime
) -> tuple[Connector, _Outcome]:
    outcome = _Outcome(created=connector is None)
    if connector is None:
        connector = Connector(evse=evse, ocpi_id=data["ocpi_id"])
    outcome.structural = bool(_apply(connector, _connector_values(data)))
    if outcome.changed:
        _stamp(connector, data.get("last_updated"), moment, outcome)
        connector.save()
    return connector, outcome


def _write_connectors(
    evse: EVSE, items: Sequence[Mapping[str, Any]], moment: datetime, outcome: _Outcome
) -> None:
    existing = {c.ocpi_id.upper(): c for c in evse.connectors.order_by("pk")}
    given_ids = {item["ocpi_id"].upper() for item in items}
    missing = [c.ocpi_id for key, c in existing.items() if key not in given_ids]
    if missing:
        raise ValidationError(
            f"Connectors are never deleted; EVSE {evse.uid} would lose {', '.join(missing)}. "
            "Set the EVSE to REMOVED and create a new one instead."
        )
    for item in items:
        connector, child = _write_connector(
            evse, existing.get(item["ocpi_id"].upper()), item, moment
        )
        outcome.merge(child, connector.last_updated)


def _write_evse(
    location: Location, evse: EVSE | None, data: Mapping[str, Any], moment: datetime
) -> tuple[EVSE, _Outcome]:
    outcome = _Outcome(created=evse is None)
    if evse is None:
        evse = EVSE(location=location, uid=data["uid"])
    changed = _apply(evse, _evse_values(data))
    if changed & {"status", "evse_id"}:
        _check_evse_id_free(evse)
    if outcome.created:
        _stamp(evse, data.get("last_updated"), moment, outcome)
        evse.save()  # its connectors need the primary key
    _write_connectors(evse, data["connectors"], moment, outcome)
    outcome.structural = outcome.structural or bool(changed - {"status"})
    if "status" in changed and not outcome.created:
        outcome.status_changed.append(evse)
    if outcome.changed:
        _stamp(evse, data.get("last_updated"), moment, outcome)
        evse.save()
    return evse, outcome


def _write_evses(
    location: Location, items: Sequence[Mapping[str, Any]], moment: datetime, outcome: _Outcome
) -> None:
    existing = {evse.uid.upper(): evse for evse in evses_of(location)}
    given = {item["uid"].upper() for item in items}
    # Removals first: a new EVSE may reuse the evse_id of one it replaces.
    for key, evse in existing.items():
        if key not in given and evse.status != Status.REMOVED:
            evse.status = Status.REMOVED
            evse.last_updated = moment
            evse.save(update_fields=["status", "last_updated"])
            outcome.merge(_Outcome(status_changed=[evse]), moment)
    for item in items:
        evse, child = _write_evse(location, existing.get(item["uid"].upper()), item, moment)
        outcome.merge(child, evse.last_updated)


def _check_evse_id_free(evse: EVSE) -> None:
    refused = _evse_id_refusal(evse)
    if refused is not None:
        raise refused


def _evse_id_refusal(evse: EVSE, taken_here: Set[str] = frozenset()) -> ValidationError | None:
    """An evse_id belongs to one EVSE that is not REMOVED (mod_locations, EVSE.evse_id);
    `taken_here`: evse_ids taken by writes not saved yet (a batch of statuses)."""
    if evse.status != Status.REMOVED and (
        evse.evse_id in taken_here or evse_id_taken(evse_id=evse.evse_id, other_than=evse)
    ):
        return ValidationError(
            f"evse_id {evse.evse_id} is in use by another EVSE that is not REMOVED."
        )
    return None


# --- pushes -------------------------------------------------------------------------------


def _push_outcome(location: Location, outcome: _Outcome, put: Callable[[], None]) -> None:
    if not location.roaming or not outcome.changed:
        return
    if outcome.created or outcome.structural:
        put()
        return
    push_statuses([(location, evse) for evse in outcome.status_changed])


def _list_changed(location: Location, *, membership: bool = False) -> None:
    """The Sender list's X-Total-Count cache is stale (ocpi.pagination): `membership` when
    the location joined or left it (created, roaming switched), else a new last_updated."""
    note_list_change(MODULE, key=location.pk, membership=membership)


# --- public services ----------------------------------------------------------------------


def location_upsert(*, data: Mapping[str, Any], roaming: bool | None = None) -> Location:
    """Create or replace a Location with its EVSEs and connectors (a Location PUT).

    `data` is LocationSerializer validated data. Without an `evses` key the EVSEs stay as
    they are (an edit of the location's own fields); with one, EVSEs left out of it are set
    to REMOVED. `roaming` None keeps the current flag (True for a new location).
    """
    with transaction.atomic():
        location = location_by_key(
            country_code=data["country_code"],
            party_id=data["party_id"],
            location_id=data["ocpi_id"],
        )
        outcome = _Outcome(created=location is None)
        if location is None:
            location = Location(
                country_code=data["country_code"],
                party_id=data["party_id"],
                ocpi_id=data["ocpi_id"],
            )
        else:
            location = Location.objects.select_for_update().get(pk=location.pk)
        moment = moment_after(None if outcome.created else location.last_updated)
        was_roaming = location.roaming and not outcome.created
        if roaming is not None:
            location.roaming = roaming
        outcome.structural = bool(_apply(location, _location_values(data)))
        if outcome.created:
            _stamp(location, data.get("last_updated"), moment, outcome)
            location.save()  # its EVSEs need the primary key
        if "evses" in data:
            _write_evses(location, data["evses"] or [], moment, outcome)
        roaming_changed = not outcome.created and was_roaming != location.roaming
        if outcome.changed or roaming_changed:
            _stamp(location, data.get("last_updated"), moment, outcome)
            location.save()
            _list_changed(location, membership=outcome.created or roaming_changed)
        if roaming_changed:
            (push_location if location.roaming else push_withdrawal)(location)
        else:
            _push_outcome(location, outcome, partial(push_location, location))
    return location


def evse_upsert(*, location: Location, data: Mapping[str, Any]) -> EVSE:
    """Create or replace one EVSE with its connectors (an EVSE PUT); bumps the location."""
    with transaction.atomic():
        location = Location.objects.select_for_update().get(pk=location.pk)
        moment = moment_after(location.last_updated)
        existing = location.evses.filter(uid__ci=data["uid"]).first()
        evse, outcome = _write_evse(location, existing, data, moment)
        if outcome.changed:
            _bump(location, evse.last_updated, moment)
            location.save(update_fields=["last_updated"])
            _list_changed(location)
        _push_outcome(location, outcome, partial(push_evse, location, evse))
    return evse


def connector_upsert(*, evse: EVSE, data: Mapping[str, Any]) -> Connector:
    """Create or replace one connector (a Connector PUT); bumps its EVSE and location."""
    with transaction.atomic():
        location = Location.objects.select_for_update().get(pk=evse.location_id)
        moment = moment_after(location.last_updated)
        evse = EVSE.objects.get(pk=evse.pk)
        existing = evse.connectors.filter(ocpi_id__ci=data["ocpi_id"]).first()
        connector, outcome = _write_connector(evse, existing, data, moment)
        if outcome.changed:
            _bump(evse, connector.last_updated, moment)
            evse.save(update_fields=["last_updated"])
            _bump(location, evse.last_updated, moment)
            location.save(update_fields=["last_updated"])
            _list_changed(location)
        _push_outcome(location, outcome, partial(push_connector, location, evse, connector))
    return connector


def evse_set_status(*, evse: EVSE, status: str) -> EVSE:
    """Record a new EVSE status and PATCH it to partners (mod_locations, PATCH example)."""
    return evses_set_status(changes=[(evse, status)])[0]


def evses_set_status(*, changes: Sequence[tuple[EVSE, str]]) -> list[EVSE]:
    """Set each EVSE of `changes` to its status, as evse_set_status sets one, in one
    transaction: each location locked once (all in one statement, by primary key: writers of
    several locations lock them in one order), the EVSEs read once under those locks,
    written in one statement, the list's generation moved once, the PATCHes queued together.
    An EVSE given twice ends at its last status, with one PATCH (the earlier would be
    superseded unsent). The EVSEs as written, in the order given (without repeats).

    One refused change (an EVSE leaving REMOVED for an evse_id in use) refuses them all
    before anything is written, so that a caller catching it (the admin's action) goes on
    in a usable transaction; the gateway then sets them one by one.
    """
    wanted: dict[int, str] = {}
    for evse, status in changes:
        if status not in Status.values:
            raise ValidationError(f"Unknown EVSE status {status!r}.")
        wanted.pop(evse.pk, None)  # its last status, at its last place
        wanted[evse.pk] = status
    location_ids = {evse.location_id for evse, _ in changes}
    # No savepoint of its own: inside a caller's transaction (a StatusNotification's) it
    # would cost two statements for nothing.
    with transaction.atomic(savepoint=False):
        # Only what the PATCH and last_updated need: not the locations' JSON fields.
        locations = {
            location.pk: location
            for location in Location.objects.select_for_update()
            .only("country_code", "party_id", "ocpi_id", "roaming", "last_updated")
            .filter(pk__in=location_ids)
            .order_by("pk")
        }
        # Read again under the locks: what the callers hold may be stale.
        evses = EVSE.objects.in_bulk(wanted)
        written = _statuses_written(evses, wanted)
        if not isinstance(written, ValidationError):
            _write_statuses(locations, written)
    # Raised once out of the block: inside it, it would spoil a caller's transaction.
    if isinstance(written, ValidationError):
        raise written
    return [evses[pk] for pk in wanted]


def _statuses_written(
    evses: Mapping[int, EVSE], wanted: Mapping[int, str]
) -> list[EVSE] | ValidationError:
    """The EVSEs whose status changes, set to it; or the first refusal."""
    written: list[EVSE] = []
    taken_here: set[str] = set()  # evse_ids taken by EVSEs of this batch leaving REMOVED
    for pk, status in wanted.items():
        evse = evses[pk]
        if evse.status == status:
            continue
        leaves_removed = evse.status == Status.REMOVED
        evse.status = status
        if leaves_removed:  # else its evse_id was free already: it held it
            refused = _evse_id_refusal(evse, taken_here)
            if refused is not None:
                return refused
            taken_here.add(evse.evse_id)
        written.append(evse)
    return written


def _write_statuses(locations: Mapping[int, Location], evses: Sequence[EVSE]) -> None:
    """evses_set_status's writes, the locations locked: the EVSEs, their locations'
    last_updated, the list's generation, the PATCHes."""
    if not evses:
        return
    changed = {evse.location_id: locations[evse.location_id] for evse in evses}
    # One moment for the batch, later than each location's last_updated: one value to write.
    moment = max(moment_after(location.last_updated) for location in changed.values())
    for location in changed.values():
        location.last_updated = moment
    for evse in evses:
        evse.last_updated = moment
    update_rows(evses, ["status", "last_updated"])
    update_rows(list(changed.values()), ["last_updated"])
    # One bump for the batch: every location's change is in the one list's generation.
    _list_changed(changed[min(changed)])
    push_statuses([(changed[e.location_id], e) for e in evses if changed[e.location_id].roaming])


def location_set_roaming(*, location: Location, roaming: bool) -> Location:
    """Offer a location to roaming partners (PUT it) or withdraw it (last PUT, all REMOVED)."""
    with transaction.atomic():
        location = Location.objects.select_for_update().get(pk=location.pk)
        if location.roaming == roaming:
            return location
        location.roaming = roaming
        location.last_updated = moment_after(location.last_updated)
        location.save(update_fields=["roaming", "last_updated"])
        _list_changed(location, membership=True)
        if roaming:
            push_location(location)
        else:
            push_withdrawal(location)
    return location
