"""How far a charge point's clock is from ours, read from the timestamps it sends.

Neither BootNotification nor Heartbeat carries its time (1.6 or 2.0.1), so the readings come
from the messages it stamps: StatusNotification, SecurityEventNotification and the 2.0.1
device-model reports (generatedAt). A timestamp may be older than its message (a status kept
while offline, a queued event), never newer: each reading is at most the true offset. So the
offset kept (ChargePoint.clock_offset) is the largest reading since its last boot, which clears
it (the BootNotification answer gives it our time, which it is recommended to take: 1.6 §4.2).
A time that is impossible (chargers.clock.possible) is recorded whatever came before: the
clock is wrong now. Only a change of more than RESOLUTION is written, so a charge point with
a good clock costs one write per boot.
"""

from chargers import clock
from chargers.handlers import Context

RESOLUTION = 1.0  # seconds; many charge points stamp whole seconds


def measure(context: Context, reported: object) -> None:
    """Take the reading of timestamp `reported`, received at context.received_at."""
    moment = clock.parse(reported)
    if moment is None:
        return
    reading = (moment - context.received_at).total_seconds()
    kept = context.charge_point.clock_offset
    if (
        kept is None
        or reading > kept + RESOLUTION
        or (not clock.possible(moment, context.received_at) and abs(reading - kept) > RESOLUTION)
    ):
        clock.record_offset(context.charge_point, reported, context.received_at)
