"""Operator screens: grid limits (editable; saving one plans its site again), the current plan
of each, and the eMSPs' profile requests and sessions' profiles (read-only: written by the
services, with their calls and results)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from audit.history import AuditHistoryMixin
from chargingprofiles.loadmanagement import parse_windows, release
from chargingprofiles.models import GridLimit, ProfileRequest, SessionProfile
from chargingprofiles.tasks import schedule_replan
from ocpi.admin import ReadOnlyAdminMixin, pretty_json


class GridLimitForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = GridLimit
        fields = ["name", "location", "evses", "max_kw", "max_phase_a", "windows", "active"]

    def clean_windows(self) -> Any:
        windows = self.cleaned_data["windows"]
        try:
            parse_windows(windows)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return windows

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        location, evses = cleaned.get("location"), cleaned.get("evses")
        if location is not None and evses:
            elsewhere = [evse.uid for evse in evses if evse.location_id != location.pk]
            if elsewhere:
                raise forms.ValidationError(f"Not at this location: {', '.join(elsewhere)}")
            taken = sorted(
                GridLimit.evses.through.objects.filter(gridlimit__active=True, evse__in=evses)
                .exclude(gridlimit_id=self.instance.pk)
                .values_list("evse__uid", flat=True)
            )
            if taken:
                raise forms.ValidationError(
                    f"Behind another limit already (limits do not nest): {', '.join(taken)}"
                )
        return cleaned


@admin.register(GridLimit)
class GridLimitAdmin(AuditHistoryMixin, admin.ModelAdmin[GridLimit]):
    form = GridLimitForm
    list_display = ["name", "location", "max_kw", "max_phase_a", "active", "planned_at"]
    list_filter = ["active"]
    search_fields = ["name", "location__name", "location__ocpi_id"]
    filter_horizontal = ["evses"]
    readonly_fields = ["planned_at", "limit_w", "next_change_at", "current_plan"]
    fieldsets = [
        (None, {"fields": ["name", "location", "evses", "active"]}),
        ("Limit", {"fields": ["max_kw", "max_phase_a", "windows"]}),
        ("Current plan", {"fields": ["planned_at", "limit_w", "next_change_at", "current_plan"]}),
    ]

    @admin.display(description="shares (W) and sessions left at 0 W")
    def current_plan(self, obj: GridLimit) -> SafeString:
        return pretty_json({"shares_w": obj.plan, "starved": obj.starved})

    def delete_model(self, request: HttpRequest, obj: GridLimit) -> None:
        with transaction.atomic():
            release(obj, keep=())
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[GridLimit]) -> None:
        with transaction.atomic():
            for grid in queryset:
                release(grid, keep=())
            super().delete_queryset(request, queryset)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        with transaction.atomic():
            schedule_replan(form.instance.pk)


@admin.register(ProfileRequest)
class ProfileRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ProfileRequest]):
    list_display = [
        "received_at",
        "kind",
        "session_ocpi_id",
        "emsp_country_code",
        "emsp_party_id",
        "response",
        "result",
        "finished_at",
    ]
    list_filter = ["kind", "response", "result"]
    search_fields = ["session_ocpi_id", "response_url"]
    list_select_related = ["partner"]


@admin.register(SessionProfile)
class SessionProfileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[SessionProfile]):
    list_display = ["session", "grid_limit", "planned_w", "starved", "sent_at"]
    list_filter = ["starved"]
    search_fields = ["session__ocpi_id"]
    list_select_related = ["session", "grid_limit"]
