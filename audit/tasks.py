from datetime import timedelta

from auditlog.models import LogEntry
from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task(name="audit.prune")
def prune() -> int:
    """Delete audit entries older than AUDIT_LOG_DAYS (0: keep them all); return how many."""
    if settings.AUDIT_LOG_DAYS <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=settings.AUDIT_LOG_DAYS)
    deleted: int
    deleted, _ = LogEntry.objects.filter(timestamp__lt=cutoff).delete()
    return deleted
