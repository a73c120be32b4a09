"""Alerts for operators: what is firing now and what fired before. Read-only: the beat task
(monitoring.services) alone opens and clears them."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from monitoring.models import Alert


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [("open", "Firing"), ("cleared", "Cleared")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Alert]) -> QuerySet[Alert]:
        if self.value() == "open":
            return queryset.filter(cleared_at__isnull=True)
        if self.value() == "cleared":
            return queryset.filter(cleared_at__isnull=False)
        return queryset


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin[Alert]):
    list_display = ["rule", "partner", "firing", "started_at", "cleared_at", "message"]
    list_filter = [OpenFilter, "rule", "partner"]
    list_select_related = ["partner"]
    readonly_fields = ["rule", "partner", "message", "started_at", "cleared_at"]

    @admin.display(boolean=True, description="firing")
    def firing(self, alert: Alert) -> bool:
        return alert.is_open

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # A deleted open alert would fire again at the next check: the rows are the memory.
        return False
