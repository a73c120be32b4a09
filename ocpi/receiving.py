"""The rule of every Receiver interface: an update older than what we hold changes nothing.

OCPI objects pushed to a Receiver (Tokens today; Locations, Tariffs, Sessions and CDRs of a
hub, commands results and whatever comes later) are Client Owned Objects: their owner sets
`last_updated` and no one else touches it, not even a hub that relays them (transport_and_format,
"Client Owned Object Push"; Message Routing, "Timestamps and Objects send via Hubs"). So the
owner's `last_updated` orders the owner's own versions of an object, and a PUT or PATCH whose
`last_updated` is older than the stored one is an out-of-order delivery, typically a retry of
a request that had in fact arrived: applying it would undo the newer state (a retried old PUT
turning a token blocked with valid=false back into valid=true). Such an update is not applied.
An equal `last_updated` is not older: the same update again (an idempotent retry), applied as
usual, which changes nothing.

The answer is HTTP 200 with OCPI 1000 and a status_message saying it was not applied:
- status_codes.asciidoc names no code for it, and forbids custom codes (19xx/29xx) in standard
  modules. 2xxx means "the client did something wrong": the update is a valid object from the
  object's owner, it only arrived late. A 2xxx would have the owner's push logic retry it or
  raise an alarm, and transport_and_format (PATCH) tells a client whose PATCH failed to GET
  the object and PUT it, which would again send what it already sent.
- The request reached the OCPI layer with a valid object, so HTTP 200 (status_codes: "200 -
  Ok when the object already existed"); the object holds the owner's newest state, which is
  what the owner asked for. `status_message` "may help when debugging" (transport_and_format,
  Response format): it says the update was not applied and names both timestamps, and the
  owner can GET the object to see the state that stands.

The check must run under the row lock, in the transaction that writes: call refuse_stale()
after `select_for_update()` and before saving, so two concurrent writes cannot both pass it.
A Receiver view needs nothing else: credentials.routing.FunctionalModuleApi turns StaleUpdate
into the answer above and counts it for the partner (credentials.receiving). Paths that apply
many objects at once (a pulled page) skip stale ones with is_stale() instead.
"""

from datetime import datetime

from rest_framework.response import Response

from ocpi.responses import ocpi_response
from ocpi.time import format_datetime


class StaleUpdate(Exception):
    """A PUT or PATCH older (by `last_updated`) than the object stored: not applied."""

    def __init__(self, *, what: str, stored: datetime, received: datetime) -> None:
        self.what = what
        self.stored = stored
        self.received = received
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return (
            f"Not applied: {self.what} has last_updated {format_datetime(self.stored)} here, "
            f"newer than this update's {format_datetime(self.received)}; the newer state stands"
        )


def is_stale(*, stored: datetime | None, received: datetime) -> bool:
    """Whether an update with `received` as last_updated is older than the object stored
    (None: nothing stored, never stale). Equal is not stale: an idempotent retry."""
    return stored is not None and received < stored


def refuse_stale(*, what: str, stored: datetime | None, received: datetime) -> None:
    """Raise StaleUpdate when the update is older than the stored object.

    Call it on the row read with select_for_update(), inside the transaction that writes.
    """
    if is_stale(stored=stored, received=received):
        assert stored is not None  # is_stale(): nothing stored is never stale
        raise StaleUpdate(what=what, stored=stored, received=received)


def stale_answer(update: StaleUpdate) -> Response:
    """HTTP 200, OCPI 1000, no data, and a status_message saying it was not applied."""
    return ocpi_response(message=update.message)
