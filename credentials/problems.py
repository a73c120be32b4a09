"""A partner's last error: what we were doing with it ("PUT credentials", "pull tokens"),
what went wrong, and when. The one place that writes PartnerPlatform.last_error, so that
every operation reports the same way (the admin's partner list and page show it).
"""

from django.db import transaction

from credentials.generation import credentials_changed
from credentials.models import PartnerPlatform
from ocpi.time import now

# What an operator reads in a list cell; the full story is in the logs.
MAX_LENGTH = 2000


def partner_error_record(partner_id: int, operation: str, problem: str) -> str:
    """Record that `operation` with the partner failed with `problem`; return the text."""
    text = f"{operation}: {problem}"[:MAX_LENGTH]
    with transaction.atomic():
        PartnerPlatform.objects.filter(pk=partner_id).update(last_error=text, last_error_at=now())
        credentials_changed()
    return text


def partner_error_clear(partner_id: int, operation: str | None = None) -> None:
    """Clear the partner's last error after a success: any (None), or only one that
    `operation` recorded (a token pull that works again says nothing of a failed rotation)."""
    errors = PartnerPlatform.objects.filter(pk=partner_id).exclude(last_error="")
    if operation is not None:
        errors = errors.filter(last_error__startswith=f"{operation}: ")
    with transaction.atomic():
        if errors.update(last_error="", last_error_at=None):
            credentials_changed()
