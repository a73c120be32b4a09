"""Moments as operators read them: one format everywhere, "2026-12-07 14:06 CET", in the
zone of the object's location, or the operator's (settings.TIME_ZONE) when it has none, and
always labelled. The admin's own date-time cells use the same format (config/formats), so a
list never shows "3:06 p.m." beside an ISO string.
"""

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

# Django's date format of the same thing (config/formats/en/formats.py): "T" is the label.
DATETIME_FORMAT = "Y-m-d H:i T"
EMPTY = "–"


def known_zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone `name` (a location's time_zone), None for none or an unknown name.
    (ZoneInfo keeps the zones it loaded.)"""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return None


def zone_named(name: str | None) -> tzinfo:
    """The IANA zone `name`; the operator's for none or an unknown name: a wrong zone on one
    location must not break a whole list. (The operator's is read each time, as a test may
    change it.)"""
    return known_zone(name) or timezone.get_default_timezone()


def zone_label(local: datetime) -> str:
    """The zone's abbreviation at that moment ("CET", "CEST", "UTC"); its UTC offset
    ("UTC+03:00") where the zone has only a numeric one ("+03")."""
    abbreviation = local.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def local_time(value: datetime | None, zone: str | None = None) -> str:
    """`value` in `zone` (an IANA name; None: the operator's), "YYYY-MM-DD hh:mm LABEL"."""
    if value is None:
        return EMPTY
    local = value.astimezone(zone_named(zone))
    return f"{local:%Y-%m-%d %H:%M} {zone_label(local)}"


def local_time_html(value: datetime | None, zone: str | None = None) -> SafeString:
    """local_time() with the UTC instant to the second in its tooltip."""
    if value is None:
        return format_html("{}", EMPTY)
    utc = value.astimezone(ZoneInfo("UTC"))
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time>',
        utc.isoformat(),
        f"{utc:%Y-%m-%d %H:%M:%S}",
        local_time(value, zone),
    )


class LocalTimeColumn:
    """An admin column (or read-only field) of the model's date-time `field` in the zone that
    `zone(obj)` names, sortable by the field. Put it in list_display as it is, or assign it
    in a ModelAdmin's body and name it: an instance is never bound, so the admin calls it
    with the object alone either way."""

    def __init__(self, field: str, description: str, zone: Callable[[Any], str | None]) -> None:
        self.field = field
        self.zone = zone
        self.short_description = description  # what the admin reads for the header
        self.admin_order_field = field
        self.__name__ = field  # admin checks and messages name callables by it

    def __call__(self, obj: Any) -> SafeString:
        return local_time_html(getattr(obj, self.field), self.zone(obj))


def truncated(text: str, length: int) -> SafeString:
    """`text` cut to `length` characters in a list cell, the whole of it in the tooltip."""
    if len(text) <= length:
        return format_html("{}", text)
    return format_html('<span title="{}">{}…</span>', text, text[: length - 1])
