"""`{{ moment|local_time }}` or `{{ moment|local_time:location.time_zone }}` (ocpi.display)."""

from datetime import datetime

from django import template

from ocpi import display

register = template.Library()


@register.filter
def local_time(value: datetime | None, zone: str | None = None) -> str:
    return display.local_time(value, zone)
