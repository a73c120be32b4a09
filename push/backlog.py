"""How each partner's push queue stands: what waits, what failed, and since when.

Annotations on a PartnerPlatform queryset, so a list of partners with their figures is one
query whatever the size of the outbox: correlated subqueries, the open ones on the partial
index `delivery_open` (push.models).
"""

from typing import Any, TypeVar

from django.db.models import Count, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from credentials.models import PartnerPlatform
from push.models import OPEN_STATUSES, Delivery, DeliveryStatus

PartnerQuerySet = TypeVar("PartnerQuerySet", bound=QuerySet[PartnerPlatform])


def _per_partner(condition: Q, aggregate: Any) -> Subquery:
    return Subquery(
        Delivery.objects.filter(condition, partner=OuterRef("pk"))
        .order_by()
        .values("partner")
        .annotate(value=aggregate)
        .values("value")
    )


def with_delivery_health(partners: PartnerQuerySet) -> PartnerQuerySet:
    """`partners` annotated with `delivery_backlog` (deliveries pending or being sent),
    `deliveries_failed` (failed for good, until resent) and `oldest_open_delivery_at` (when the
    oldest open one was queued; None: nothing waits)."""
    is_open = Q(status__in=OPEN_STATUSES)
    return partners.annotate(
        delivery_backlog=Coalesce(
            _per_partner(is_open, Count("pk")), Value(0), output_field=IntegerField()
        ),
        deliveries_failed=Coalesce(
            _per_partner(Q(status=DeliveryStatus.FAILED), Count("pk")),
            Value(0),
            output_field=IntegerField(),
        ),
        oldest_open_delivery_at=_per_partner(is_open, Min("created_at")),
    )


def recent_failed_deliveries(limit: int) -> QuerySet[Delivery]:
    """The `limit` deliveries that failed last (newest first), with their change and partner."""
    return (
        Delivery.objects.filter(status=DeliveryStatus.FAILED)
        .select_related("change", "partner")
        .order_by("-pk")[:limit]
    )
