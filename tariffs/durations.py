"""Durations as people read and type them: "15 min", "1 h 30 min", "45 s".

The tariff model counts in seconds (min_duration, max_duration, step sizes of TIME and
PARKING_TIME), as OCPI does; the operator's screens show and accept the readable form.
"""

import re

_UNITS = (("h", 3600), ("min", 60), ("s", 1))
_PART = re.compile(r"(\d+)\s*(hours?|h|minutes?|min|m|seconds?|sec|s)", re.IGNORECASE)
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}


def readable_duration(seconds: int) -> str:
    """7200 → "2 h", 5400 → "1 h 30 min", 90 → "1 min 30 s", 0 → "0 s"."""
    if seconds == 0:
        return "0 s"
    parts = []
    left = seconds
    for unit, size in _UNITS:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {unit}")
    return " ".join(parts)


def parse_duration(text: str) -> int:
    """Seconds in "90", "15 min", "1 h 30 min", "1h30m", "45 s"; ValueError otherwise.

    A bare number is seconds, the unit the OCPI object stores.
    """
    cleaned = text.strip()
    if cleaned.isdigit():
        return int(cleaned)
    position, total = 0, 0
    for match in _PART.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            break
        total += int(match.group(1)) * _UNIT_SECONDS[match.group(2)[0].lower()]
        position = match.end()
    else:
        if position and not cleaned[position:].strip():
            return total
    raise ValueError(f"{text!r} is not a duration: write e.g. 90 (seconds), 15 min or 1 h 30 min")
