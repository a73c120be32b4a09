"""The simulated charge point's clock: right (the machine's), or never set.

A charge point without a real-time clock backup starts at the epoch after every power-up and
keeps counting from there until someone sets it (the `clock-1970` scenario): its timestamps
are then in January 1970, a few seconds or minutes after midnight.
"""

import time
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StationClock:
    def __init__(self, *, never_set: bool) -> None:
        self.never_set = never_set
        self._powered_up = time.monotonic()

    def now(self) -> datetime:
        if self.never_set:
            return EPOCH + timedelta(seconds=time.monotonic() - self._powered_up)
        return datetime.now(UTC)

    def stamp(self) -> str:
        """OCPP dateTime: RFC 3339 in UTC, milliseconds (2.0.1 Part 2 §2.1.2)."""
        return self.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
