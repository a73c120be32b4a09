"""The alert rules: which (rule, partner) conditions hold now, each with what was found.

Each rule is one grouped query that reads what the outbox and the pull log already record,
walking only open deliveries (their partial index, push.models) and each partner's latest
pull (tokens' index on partner, status, started_at): the cost follows the backlog and the
number of partners, never the history.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, OuterRef, Subquery

from credentials.models import PartnerPlatform
from monitoring.models import AlertRule
from push.models import OPEN_STATUSES, Delivery
from tokens.models import PullStatus, TokenPull

Conditions = dict[tuple[str, int], str]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def queue_stuck(moment: datetime) -> Conditions:
    """Partners whose oldest open delivery was created more than ALERT_QUEUE_STUCK_MINUTES
    ago: nothing of theirs has gone out for that long, whatever the reason (partner down,
    retries backing off, no worker running)."""
    limit = moment - timedelta(minutes=settings.ALERT_QUEUE_STUCK_MINUTES)
    rows = (
        Delivery.objects.filter(status__in=OPEN_STATUSES)
        .values("partner")
        .annotate(oldest=Min("created_at"), open=Count("pk"))
        .filter(oldest__lte=limit)
    )
    return {
        (AlertRule.QUEUE_STUCK.value, row["partner"]): (
            f"{row['open']} deliveries waiting, the oldest since {_when(row['oldest'])}"
        )
        for row in rows
    }


def deliveries_failing(moment: datetime) -> Conditions:
    """Partners with an open delivery that has been failing (tried, answered with an error,
    to be tried again) since its first attempt more than ALERT_FAILING_MINUTES ago. A
    partner whose breaker tripped (push.sending.Breaker) shows here too: its tried
    deliveries wait with their error."""
    limit = moment - timedelta(minutes=settings.ALERT_FAILING_MINUTES)
    rows = (
        Delivery.objects.filter(status__in=OPEN_STATUSES, attempts__gte=1)
        .exclude(last_error="")
        .values("partner")
        .annotate(since=Min("attempt_log__started_at"), failing=Count("pk", distinct=True))
        .filter(since__lte=limit)
    )
    found: Conditions = {}
    for row in rows:
        example = (
            Delivery.objects.filter(
                partner=row["partner"], status__in=OPEN_STATUSES, attempts__gte=1
            )
            .exclude(last_error="")
            .order_by("pk")
            .values_list("last_error", flat=True)
            .first()
        )
        found[(AlertRule.DELIVERIES_FAILING.value, row["partner"])] = (
            f"{row['failing']} deliveries failing since {_when(row['since'])}; "
            f"first one's last error: {example}"
        )
    return found


def pull_failed(moment: datetime) -> Conditions:
    """Registered partners whose latest finished token pull failed; a later successful
    (or held) pull clears it, and so does unregistering (no pull comes any more)."""
    latest = TokenPull.objects.filter(partner=OuterRef("pk")).exclude(status=PullStatus.RUNNING)
    latest = latest.order_by("-started_at", "-pk")
    rows = (
        PartnerPlatform.objects.registered()
        .annotate(
            pull_status=Subquery(latest.values("status")[:1]),
            pull_error=Subquery(latest.values("error")[:1]),
            pull_started=Subquery(latest.values("started_at")[:1]),
        )
        .filter(pull_status=PullStatus.FAILED)
        .values("pk", "pull_error", "pull_started")
    )
    return {
        (AlertRule.PULL_FAILED.value, row["pk"]): (
            f"token pull started {_when(row['pull_started'])} failed: {row['pull_error']}"
        )
        for row in rows
    }


def conditions(moment: datetime) -> Conditions:
    """Every condition that holds at `moment`."""
    return {**queue_stuck(moment), **deliveries_failing(moment), **pull_failed(moment)}
