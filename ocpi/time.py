"""OCPI DateTime: UTC only, written `YYYY-MM-DDThh:mm:ss[.fff]Z` (types.asciidoc, DateTime).

Python's isoformat() writes `+00:00`, which OCPI does not allow, and a value without `Z`
means UTC, not server-local time. Offsets are refused on input: "+00:00 is not the same as
UTC" in the spec's words, and a non-zero offset means the sender did not follow it.
"""

import re
from datetime import UTC, datetime, timedelta

_DATETIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d{1,9}))?Z?$"
)
# The spec types DateTime as string(25), room for milliseconds. Peers that send microseconds
# (or nanoseconds) mean the same instant; refusing a whole object for that helps no one, so
# input takes up to nine fraction digits (30 characters) and output never exceeds 25.
MAX_LENGTH = 30


def now() -> datetime:
    """Return the current UTC time at millisecond precision, the precision we render."""
    moment = datetime.now(tz=UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# The precision we render and store a last_updated at: the smallest step forward.
TICK = timedelta(milliseconds=1)


def moment_after(previous: datetime | None) -> datetime:
    """The last_updated of an object's next write: now, but later than `previous` (its
    last_updated so far; None for a new object).

    Taken once the object is locked, so its last_updated only ever grows, even for two
    writes in one millisecond, a write that waited for the lock, or a clock stepped back.
    The rendered JSON of objects is cached by it (ocpi.jsoncache): a write that kept the
    same last_updated would serve the JSON from before the write.
    """
    moment = now()
    if previous is not None and moment <= previous:
        return previous + TICK
    return moment


def format_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("OCPI DateTime values must be timezone-aware")
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    milliseconds = value.microsecond // 1000
    if milliseconds:
        text += f".{milliseconds:03d}"
    return text + "Z"


def parse_datetime(text: str) -> datetime:
    """Parse an OCPI DateTime; raise ValueError for anything else, offsets included."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        raise ValueError(f"expected an OCPI DateTime string of at most {MAX_LENGTH} characters")
    match = _DATETIME.match(text)
    if match is None:
        raise ValueError(
            "expected YYYY-MM-DDThh:mm:ss[.fff][Z] in UTC; time zone offsets are not allowed"
        )
    fraction = (match["fraction"] or "").ljust(6, "0")[:6]
    parsed = datetime.fromisoformat(f"{match['date']}T{match['time']}+00:00")
    return parsed.replace(microsecond=int(fraction))
