"""The charge point's time, believed only when it is possible.

A charge point whose clock was never set reports 1970 (or 2000, its RTC's epoch); one that
drifted reports the future. Its timestamps order its own messages (transactions are applied
in its time order), so a possible one is kept as given, however late it arrives; an impossible
one is replaced by our time of receipt, and the charge point's offset is recorded so that an
operator sees the bad clock (ChargePoint.clock_offset, and a warning in the log).
"""

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils.dateparse import parse_datetime

from chargers.models import ChargePoint

logger = logging.getLogger(__name__)

# Earlier than this, no OCPP 1.6 charge point was ever made: its clock was never set.
EARLIEST = datetime.fromisoformat("2010-01-01T00:00:00+00:00")


def parse(value: object) -> datetime | None:
    """An OCPP dateTime (RFC 3339; a missing offset is read as UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def possible(moment: datetime, received_at: datetime) -> bool:
    """Not before EARLIEST, and not later than our clock plus OCPP_CLOCK_TOLERANCE_SECONDS."""
    ahead = timedelta(seconds=settings.OCPP_CLOCK_TOLERANCE_SECONDS)
    return EARLIEST <= moment <= received_at + ahead


def charge_point_time(
    charge_point: ChargePoint, value: object, received_at: datetime
) -> tuple[datetime, bool]:
    """(the moment to use, whether the charge point's own was used)."""
    moment = parse(value)
    if moment is not None and possible(moment, received_at):
        return moment, True
    logger.warning(
        "Charge point %s sent an impossible time %r (ours %s): our time of receipt is used",
        charge_point.identity,
        value,
        received_at.isoformat(),
    )
    return received_at, False


def record_offset(charge_point: ChargePoint, reported: object, received_at: datetime) -> None:
    """Remember how far its clock is from ours (BootNotification, Heartbeat answers give it the
    right time; this says how wrong it was). Unparseable: left as it was."""
    moment = parse(reported)
    if moment is None:
        return
    offset = round((moment - received_at).total_seconds(), 3)
    ChargePoint.objects.filter(pk=charge_point.pk).update(clock_offset=offset)
    charge_point.clock_offset = offset
