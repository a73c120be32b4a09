"""Admission control for reconnect storms: at most OCPP_ARRIVALS_AT_ONCE charge points arrive
at once; the others are told, before any database work, when to come back.

A charge point arriving (from its handshake until its BootNotification and first statuses are
answered and it has gone quiet) costs the gateway tens of ms of CPU (bench/RESULTS.md). Let in
all at once, as when thousands reconnect after a network or gateway outage, every arrival slows
down together, their CALLs and handshakes time out together, and each charge point retries
after its own back-off: the storm feeds itself and nothing gets through in time. Beyond the
limit a charge point is refused at once with HTTP 503 and a Retry-After that gives it a place
in a queue drained at the rate arrivals have been finishing, so the refused come back spread
out, each about when a place is free. One that comes back before its moment keeps its place
(it is told the time left) unless a place is free then. OCPP says nothing of HTTP 503: charge
points retry a refused connection anyway (2.0.1 B04 RetryBackOff…), and one that ignores
Retry-After is refused again, cheaply, until its moment.

An arrival ends when its connection has had no CALL waiting or being answered for
QUIET_SECONDS, when the connection is closed (a handshake given up on included), or at the
latest LONGEST_SECONDS after its handshake began (a charge point replaying a long offline
queue is no longer arriving): `sweep`, from the gateway's loop, ends them.
"""

import math
import random
import time
from collections import deque
from collections.abc import Callable

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

# An arrival over once its connection has been this long without a CALL to answer.
QUIET_SECONDS = 0.5
# An arrival over this long after its handshake, whatever it does.
LONGEST_SECONDS = 60.0
# How often the gateway ends arrivals.
SWEEP_SECONDS = 0.25
# The drain rate is the arrivals finished within this many seconds, per second.
RATE_WINDOW_SECONDS = 10.0
# Until arrivals have finished for a while: the rate if each took this long.
ASSUMED_ARRIVAL_SECONDS = 5.0
# A place nobody came for is forgotten this long after its moment.
PLACE_KEPT_SECONDS = 60.0


class Arrival:
    """One charge point arriving. `quiet_since`: when it last had no CALL to answer (None
    while one is waiting or being answered, and during its handshake)."""

    __slots__ = ("websocket", "began", "quiet_since")

    def __init__(self, websocket: ServerConnection, began: float) -> None:
        self.websocket = websocket
        self.began = began
        self.quiet_since: float | None = None

    def busy(self) -> None:
        self.quiet_since = None

    def quiet(self, now: float) -> None:
        self.quiet_since = now


class Arrivals:
    """The arrivals of one gateway process (used on its event loop only: no lock).
    `limit` 0: no limit, nobody refused."""

    def __init__(
        self,
        limit: int,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.limit = limit
        self.clock = clock
        self.jitter = jitter
        self.present: set[Arrival] = set()
        self._finished: deque[float] = deque()  # when arrivals finished, within the window
        self._next_place = 0.0  # the moment the next refused charge point is given
        self._places: dict[str, float] = {}  # identity → its moment
        self._given: deque[tuple[float, str]] = deque()  # the same, in the order given
        self.refused = 0

    def enter(self, websocket: ServerConnection, identity: str) -> Arrival | None:
        """An arrival for `identity` if a place is free, else None (refuse it: retry_after)."""
        now = self.clock()
        if self.limit and len(self.present) >= self.limit:
            return None
        self._places.pop(identity, None)
        arrival = Arrival(websocket, now)
        self.present.add(arrival)
        return arrival

    def leave(self, arrival: Arrival, *, finished: bool = True) -> None:
        """`arrival` is over: `finished` (`sweep` found it done), or refused at admission,
        which tells nothing of how fast arrivals drain."""
        if arrival in self.present:
            self.present.discard(arrival)
            if finished:
                self._finished.append(self.clock())

    def retry_after(self, identity: str) -> int:
        """Whole seconds until `identity`'s place in the queue of the refused (at least 1)."""
        now = self.clock()
        self.refused += 1
        moment = self._places.get(identity)
        if moment is None or moment <= now:
            moment = max(self._next_place, now)
            self._next_place = moment + 1.0 / self.rate(now)
            self._places[identity] = moment
            self._given.append((moment, identity))
        return max(1, math.ceil(moment - now + self.jitter()))

    def rate(self, now: float) -> float:
        """Arrivals finished per second lately; until there are enough of them to say (half a
        limit's worth), what the limit would give if each took ASSUMED_ARRIVAL_SECONDS."""
        while self._finished and self._finished[0] < now - RATE_WINDOW_SECONDS:
            self._finished.popleft()
        assumed = max(self.limit, 1) / ASSUMED_ARRIVAL_SECONDS
        if len(self._finished) < max(self.limit, 2) / 2:
            return assumed
        return len(self._finished) / max(now - self._finished[0], 1.0)

    def sweep(self) -> None:
        """End the arrivals that are over; forget places long past."""
        now = self.clock()
        for arrival in list(self.present):
            quiet = arrival.quiet_since is not None and now - arrival.quiet_since >= QUIET_SECONDS
            closed = arrival.websocket.state is State.CLOSED
            if quiet or closed or now - arrival.began >= LONGEST_SECONDS:
                self.leave(arrival)
        while self._given and self._given[0][0] < now - PLACE_KEPT_SECONDS:
            moment, identity = self._given.popleft()
            if self._places.get(identity) == moment:
                del self._places[identity]
