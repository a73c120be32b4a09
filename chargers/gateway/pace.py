"""When a store round of meter messages starts (chargers.gateway.meters.MeterBatch): at once,
or after lingering for more messages to share it.

A round's cost is nearly all fixed (a worker thread's hop, the charge points' read, the
INSERT's round trip), whatever it holds; charge points that meter every minute send on their
own clocks, so at a few dozen messages a second nearly every message was a round of its own.
A round therefore lingers, up to LINGER_SECONDS, until LINGER_BATCH messages wait, but only
- under load: at least LINGER_FROM_RATE messages arrived a second (measured over the last
  second or more); below it a message is stored at once, and the rounds' cost is small;
- while none of the messages waiting comes from a charge point answered less than
  BACK_TO_BACK_SECONDS ago: one that sends its next message as soon as it is answered
  (replaying its queue after an offline period, a closed-loop benchmark) would only be
  slowed, each of its messages waiting out the linger.
"""

import math
from collections.abc import Iterable

LINGER_SECONDS = 0.1
LINGER_BATCH = 8
LINGER_FROM_RATE = 20.0
BACK_TO_BACK_SECONDS = 1.0


class Pace:
    """What the lingering rule reads: the arrival rate, when each charge point was last
    answered. Times are the event loop's (seconds)."""

    def __init__(self) -> None:
        self._since = -math.inf
        self._count = 0
        self._rate = 0.0
        self._answered: dict[int, float] = {}
        self._pruned = -math.inf

    def arrived(self, now: float) -> None:
        self._count += 1
        elapsed = now - self._since
        if elapsed >= 1.0:
            self._rate = self._count / elapsed if math.isfinite(elapsed) else 0.0
            self._since, self._count = now, 0

    def answered(self, charge_point_pks: Iterable[int], now: float) -> None:
        for pk in charge_point_pks:
            self._answered[pk] = now
        if now - self._pruned >= BACK_TO_BACK_SECONDS:  # only the recent ones matter
            self._answered = {
                pk: at for pk, at in self._answered.items() if now - at < BACK_TO_BACK_SECONDS
            }
            self._pruned = now

    def lingers(self, waiting: list[int], started: float, now: float) -> float:
        """How much longer a round of the messages of `waiting` (their charge points' pks,
        the first waiting since `started`) lingers: 0 to start it now."""
        if not waiting or len(waiting) >= LINGER_BATCH or self._rate < LINGER_FROM_RATE:
            return 0.0
        if any(now - self._answered.get(pk, -math.inf) < BACK_TO_BACK_SECONDS for pk in waiting):
            return 0.0
        return max(started + LINGER_SECONDS - now, 0.0)
