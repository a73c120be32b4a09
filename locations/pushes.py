"""The pushes of locations, EVSEs and connectors to catalogue partners (mod_locations, Receiver).

locations.services decides, inside the writing transaction, which request is right; these
render and queue it: one queue per location (its EVSE and connector updates stay behind its
PUT), to every catalogue partner (push.services.catalogue_targets), the body rendered only
when some partner will receive it.
"""

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from locations.models import EVSE, Connector, Location, Status
from locations.selectors import evses_of, location_for_render
from locations.serializers import ConnectorSerializer, EVSESerializer, LocationSerializer
from ocpi.routing import PartyRef
from ocpi.time import format_datetime
from push.models import Method
from push.services import Request, catalogue_targets, push_change, push_changes

MODULE = "locations"


def _owner(location: Location) -> PartyRef:
    return PartyRef.of(location.country_code, location.party_id)


def _object_key(location: Location) -> str:
    """One push queue per location: its EVSE and connector updates stay behind its PUT."""
    return f"{MODULE}:{location.country_code}:{location.party_id}:{location.ocpi_id}".upper()


def _push(
    location: Location, method: str, path: Sequence[str], render: Callable[[], dict[str, Any]]
) -> None:
    """Queue the request for every catalogue partner; with none, skip rendering the body."""
    targets = catalogue_targets(MODULE)
    if not targets:
        return
    push_change(
        module=MODULE,
        method=method,
        owner=_owner(location),
        object_key=_object_key(location),
        path=[location.country_code, location.party_id, location.ocpi_id, *path],
        payload=render(),
        targets=targets,
    )


def _render_location(location: Location) -> dict[str, Any]:
    return dict(LocationSerializer(location_for_render(location.pk)).data)


def push_location(location: Location) -> None:
    _push(location, Method.PUT, [], partial(_render_location, location))


def push_evse(location: Location, evse: EVSE) -> None:
    def render() -> dict[str, Any]:
        return dict(EVSESerializer(evses_of(location).get(pk=evse.pk)).data)

    _push(location, Method.PUT, [evse.uid], render)


def push_connector(location: Location, evse: EVSE, connector: Connector) -> None:
    def render() -> dict[str, Any]:
        return dict(ConnectorSerializer(connector).data)

    _push(location, Method.PUT, [evse.uid, connector.ocpi_id], render)


def push_statuses(changed: Sequence[tuple[Location, EVSE]]) -> None:
    """PATCH each EVSE's status (mod_locations, PATCH example), queued together: one read of
    the partners, one batch of outbox rows (push.services.push_changes)."""
    targets = catalogue_targets(MODULE) if changed else []
    if not targets:
        return
    requests = [
        Request(
            module=MODULE,
            method=Method.PATCH,
            owner=_owner(location),
            object_key=_object_key(location),
            path=[location.country_code, location.party_id, location.ocpi_id, evse.uid],
            payload={"status": evse.status, "last_updated": format_datetime(evse.last_updated)},
        )
        for location, evse in changed
    ]
    push_changes(requests, targets=targets)


def push_withdrawal(location: Location) -> None:
    """The last PUT of a location leaving roaming: every EVSE REMOVED (no DELETE in OCPI)."""

    def render() -> dict[str, Any]:
        rendered = _render_location(location)
        stamp = format_datetime(location.last_updated)
        rendered["evses"] = [
            {**evse, "status": Status.REMOVED.value, "last_updated": stamp}
            for evse in rendered.get("evses", [])
        ]
        return rendered

    _push(location, Method.PUT, [], render)
