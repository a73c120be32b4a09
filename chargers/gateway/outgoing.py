"""Calls from us to the charge points a gateway holds (TriggerMessage, Reset, ...).

Replaced at merge by the outgoing-calls helper's module; this one has the interface the gateway
(chargers.gateway.server) uses and does nothing else: it knows which link holds each identity
and claims no CALLRESULT or CALLERROR.
"""

from typing import Any, Protocol


class Link(Protocol):
    """A charge point's websocket as the gateway offers it (chargers.gateway.link.Link)."""

    version: str
    identity: str
    charge_point_pk: int

    async def send_frame(self, text: str) -> None: ...


class OutgoingCalls:
    def __init__(self, gateway_id: str) -> None:
        self.gateway_id = gateway_id
        self.links: dict[str, Link] = {}

    async def run(self) -> None:
        """The background task of the gateway's life (started and cancelled with it)."""

    def held(self, identity: str, link: Link) -> None:
        self.links[identity] = link

    def released(self, identity: str, link: Link) -> None:
        if self.links.get(identity) is link:
            del self.links[identity]

    def on_result(self, identity: str, unique_id: str, payload: Any) -> bool:
        """Whether the CALLRESULT answered one of our calls."""
        return False

    def on_error(
        self, identity: str, unique_id: str, code: str, description: str, details: Any
    ) -> bool:
        """Whether the CALLERROR answered one of our calls."""
        return False
