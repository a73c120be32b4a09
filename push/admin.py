"""The push queue for operators: what is waiting, what failed and why, and resend."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from push import services
from push.models import Attempt, Delivery


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
    list_filter = ["status", "change__module", "change__method", "partner"]
    search_fields = ["queue_key", "last_error"]
    list_select_related = ["change", "partner"]
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
    date_hierarchy = "created_at"

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
