"""The push queue for operators: what is waiting, what failed and why, and resend; each
partner's queue on its partner platform page."""

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timesince import timesince

from credentials.models import PartnerPlatform
from ocpi.display import local_time
from ocpi.enums import ModuleID
from ocpi.time import now
from push import services
from push.backlog import with_delivery_health
from push.breaker import with_breaker_state
from push.models import OPEN_STATUSES, Attempt, Delivery, DeliveryStatus


class AttemptInline(admin.TabularInline[Attempt, Delivery]):
    model = Attempt
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "started_at",
        "duration_ms",
        "http_status",
        "ocpi_status",
        "error",
        "response_excerpt",
    )

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ModuleFilter(admin.SimpleListFilter):
    """By OCPI module. The choices are the modules, not a DISTINCT over the deliveries'
    changes (Django's field filter), which reads the whole outbox on every page."""

    title = "module"
    parameter_name = "module"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(ModuleID.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(change__module=value) if value else queryset


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = [
        "pk",
        "created_at",
        "module",
        "method",
        "path",
        # Before the wide columns: on a laptop's screen the table scrolls sideways after these.
        "status",
        "partner",
        "to_party",
        "attempts",
        "next_attempt_at",
        "last_http_status",
        "last_ocpi_status",
        "last_error",
    ]
    list_filter = [
        "status",
        ModuleFilter,
        "change__method",
        "partner",
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["queue_key", "last_error"]
    list_select_related = ["change", "partner"]
    # The paginator counts already: a second count of the whole outbox costs as much.
    show_full_result_count = False
    readonly_fields = [
        "change",
        "partner",
        "to_country_code",
        "to_party_id",
        "queue_key",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "delivered_at",
        "last_http_status",
        "last_ocpi_status",
        "last_error",
        "response_location",
        "created_at",
        "payload",
    ]
    inlines = [AttemptInline]
    actions = ["resend"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # State changes only through the workers and the resend action.

    @admin.display(description="module", ordering="change__module")
    def module(self, delivery: Delivery) -> str:
        return delivery.change.module

    @admin.display(description="method")
    def method(self, delivery: Delivery) -> str:
        return delivery.change.method

    @admin.display(description="path or URL")
    def path(self, delivery: Delivery) -> str:
        return delivery.change.url or "/".join(delivery.change.path)

    @admin.display(description="to")
    def to_party(self, delivery: Delivery) -> str:
        return f"{delivery.to_country_code}*{delivery.to_party_id}"

    @admin.display(description="payload")
    def payload(self, delivery: Delivery) -> object:
        return delivery.change.payload

    @admin.action(description="Send again now")
    def resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = services.resend(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} deliveries queued to be sent again.")


# Each partner's queue on the partner platform's list and page (credentials cannot import
# this app: it sits below it), on the class credentials registered, as tokens.admin does.
def _deliveries_url(partner: PartnerPlatform, **filters: str) -> str:
    query = urlencode({"partner__id__exact": partner.pk, **filters})
    return f"{reverse('admin:push_delivery_changelist')}?{query}"


@admin.display(description="push backlog", ordering="delivery_backlog")
def delivery_backlog(admin_: object, partner: PartnerPlatform) -> str:
    count: int = getattr(partner, "delivery_backlog", 0)
    url = _deliveries_url(partner, status__in=",".join(OPEN_STATUSES))
    return format_html('<a href="{}">{}</a>', url, count)


@admin.display(description="failed pushes", ordering="deliveries_failed")
def deliveries_failed(admin_: object, partner: PartnerPlatform) -> str:
    count: int = getattr(partner, "deliveries_failed", 0)
    url = _deliveries_url(partner, status__exact=DeliveryStatus.FAILED.value)
    return format_html('<a href="{}">{}</a>', url, count)


@admin.display(description="oldest waiting push", ordering="oldest_open_delivery_at")
def oldest_open_delivery(admin_: object, partner: PartnerPlatform) -> str:
    queued: datetime | None = getattr(partner, "oldest_open_delivery_at", None)
    if queued is None:
        return "–"
    return f"{local_time(queued)} ({timesince(queued, now())} ago)"


@admin.display(description="push breaker", ordering="breaker_open_since")
def push_breaker(admin_: object, partner: PartnerPlatform) -> str:
    """Open: its pushes pause, the partner stopped answering (push.breaker)."""
    since: datetime | None = getattr(partner, "breaker_open_since", None)
    return "closed" if since is None else f"open since {local_time(since)}"


_PartnerAdmin = type(admin.site.get_model_admin(PartnerPlatform))
_partner_queryset = _PartnerAdmin.get_queryset


def _partners_with_delivery_health(
    self: admin.ModelAdmin[PartnerPlatform], request: HttpRequest
) -> QuerySet[PartnerPlatform]:
    return with_breaker_state(with_delivery_health(_partner_queryset(self, request)))


_HEALTH = [delivery_backlog, deliveries_failed, oldest_open_delivery, push_breaker]
setattr(_PartnerAdmin, "get_queryset", _partners_with_delivery_health)  # noqa: B010
for _display in _HEALTH:
    setattr(_PartnerAdmin, _display.__name__, _display)
_HEALTH_FIELDS = [display.__name__ for display in _HEALTH]
_PartnerAdmin.list_display = [*_PartnerAdmin.list_display, *_HEALTH_FIELDS]
_PartnerAdmin.readonly_fields = [*_PartnerAdmin.readonly_fields, *_HEALTH_FIELDS]
_PartnerAdmin.fields = [*(_PartnerAdmin.fields or []), *_HEALTH_FIELDS]
