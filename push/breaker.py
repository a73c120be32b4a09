"""Whether a partner's breaker is open, from what the database holds.

The Breaker itself (push.sending) lives in one window of one worker and is gone when the
window ends; what it leaves are the attempts. The same rule read back from them: the
partner's last PUSH_BREAKER_FAILURES attempts all got no answer (no HTTP status) → its
pushes pause, "open since" the first of them. One answer, even an error, closes it, as it
resets the Breaker's count.
"""

from typing import TypeVar

from django.conf import settings
from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from credentials.models import PartnerPlatform
from push.models import Attempt

PartnerQuerySet = TypeVar("PartnerQuerySet", bound=QuerySet[PartnerPlatform])


def with_breaker_state(partners: PartnerQuerySet) -> PartnerQuerySet:
    """`partners` annotated with `breaker_open_since`: when the run of unanswered attempts
    that opens its breaker began; None while the breaker is closed. In the same query."""
    limit = settings.PUSH_BREAKER_FAILURES
    latest = Attempt.objects.filter(delivery__partner=OuterRef("pk")).order_by("-pk")
    answered = Attempt.objects.filter(
        delivery__partner=OuterRef("pk"),
        pk__gte=OuterRef("breaker_first_attempt"),
        http_status__isnull=False,
    )
    first = Attempt.objects.filter(pk=OuterRef("breaker_first_attempt")).values("started_at")
    return partners.annotate(
        # The oldest of the last `limit` attempts (None: fewer than that, ever).
        breaker_first_attempt=Subquery(latest.values("pk")[limit - 1 : limit]),
    ).annotate(
        breaker_open_since=Case(
            When(
                Q(breaker_first_attempt__isnull=False) & ~Exists(answered),
                then=Subquery(first),
            ),
            default=Value(None),
            output_field=DateTimeField(),
        )
    )
