"""One charge point's websocket as a gateway holds it: what the outgoing calls
(chargers.gateway.outgoing) send through, and the queue that keeps its CALLs in order."""

import asyncio
from datetime import datetime

from ocpp.messages import Call
from websockets.asyncio.server import ServerConnection

from chargers.gateway.arrivals import Arrival
from chargers.gateway.messagelog import FrameRecorder


class Link:
    """`version` ("1.6", "2.0.1"), `identity` and `charge_point_pk` name what is connected;
    `send_frame` sends a frame to it."""

    __slots__ = (
        "websocket",
        "identity",
        "charge_point_pk",
        "version",
        "connection",
        "remote_address",
        "recorder",
        "last_received",
        "idle_limit",
        "calls",
        "dispatcher",
        "previous",
        "replaced",
        "boot_status",
        "arrival",
    )

    def __init__(
        self,
        websocket: ServerConnection,
        *,
        identity: str,
        charge_point_pk: int,
        version: str,
        connection: int,
        remote_address: str,
        recorder: FrameRecorder,
        idle_limit: float,
        boot_status: str = "",
        arrival: Arrival | None = None,
    ) -> None:
        self.websocket = websocket
        self.identity = identity
        self.charge_point_pk = charge_point_pk
        self.version = version
        self.connection = connection  # its number (chargers.connections.connected)
        self.remote_address = remote_address
        self.recorder = recorder
        self.last_received = asyncio.get_running_loop().time()
        self.idle_limit = idle_limit
        # CALLs received and not yet answered, in arrival order (a list: at most
        # MAX_WAITING_CALLS, and an empty deque costs ten times its size), and the task
        # answering them (there only while there are some: an idle connection costs no task).
        self.calls: list[tuple[Call, datetime]] = []
        self.dispatcher: asyncio.Task[None] | None = None
        # The dispatcher of the connection this one replaced: it finishes before this one's
        # first CALL is handled, so that the charge point's messages stay in order.
        self.previous: asyncio.Task[None] | None = None
        self.replaced = False
        # The charge point's last BootNotification answer (ChargePoint.boot_status) as of its
        # last CALL answered: what lets a Heartbeat be answered without the database
        # (chargers.gateway.dispatch.at_once). Only a BootNotification changes it.
        self.boot_status = boot_status
        # While the charge point is arriving (chargers.gateway.arrivals): its place among them.
        self.arrival = arrival

    async def send_frame(self, text: str) -> None:
        """Send a frame made elsewhere, and log it. Raises websockets.ConnectionClosed when the
        connection is gone."""
        await self.websocket.send(text)
        self.recorder.sent_frame(self.charge_point_pk, text)

    async def send(self, text: str, message_type: int, unique_id: str, action: str) -> None:
        """Send a frame made here, and log it."""
        await self.websocket.send(text)
        self.recorder.sent(self.charge_point_pk, text, message_type, unique_id, action)

    def __repr__(self) -> str:
        return f"<Link {self.identity} #{self.connection} {self.version}>"
