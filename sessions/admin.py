"""Operator screens for charging sessions: a live, read-only view with two actions.

Sessions are written by the charge points' events through sessions.services, never typed in:
the screens show them (list with filters and search, detail with the periods and the data
frozen at the start, both refreshing themselves while sessions run) and offer the two things
an operator may decide, stopping a session and declaring it invalid, through the services so
that the eMSP gets its PATCH (and a completed session its CDR).
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from credentials.admin_filters import CpoFilter, EmspFilter
from ocpi.admin import ReadOnlyAdminMixin, pretty_json
from ocpi.display import LocalTimeColumn, truncated
from ocpi.time import now
from sessions import services
from sessions.errors import SessionError
from sessions.models import Session, SessionChargingPeriod
from sessions.serializers import plain
from tariffs.engine import CdrDimension

# Seconds between refreshes of a page that shows running sessions.
REFRESH_SECONDS = 15
# The unit of each CdrDimension's volume (mod_cdrs, CdrDimensionType).
DIMENSION_UNITS = {
    CdrDimension.CURRENT: "A",
    CdrDimension.ENERGY: "kWh",
    CdrDimension.ENERGY_EXPORT: "kWh",
    CdrDimension.ENERGY_IMPORT: "kWh",
    CdrDimension.MAX_CURRENT: "A",
    CdrDimension.MIN_CURRENT: "A",
    CdrDimension.MAX_POWER: "kW",
    CdrDimension.MIN_POWER: "kW",
    CdrDimension.PARKING_TIME: "h",
    CdrDimension.POWER: "kW",
    CdrDimension.RESERVATION_TIME: "h",
    CdrDimension.STATE_OF_CHARGE: "%",
    CdrDimension.TIME: "h",
}


def dimensions_text(dimensions: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{d['type']} {plain(Decimal(d['volume']))} {DIMENSION_UNITS.get(d['type'], '')}".rstrip()
        for d in dimensions
    )


def duration_text(session: Session) -> str:
    end = session.end_date_time or (None if session.is_final else now())
    if end is None:
        return "—"
    seconds = int(max(end - session.start_date_time, timedelta(0)).total_seconds())
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _session_zone(session: Session) -> str:
    return session.time_zone


class PeriodInline(ReadOnlyAdminMixin, admin.TabularInline[SessionChargingPeriod, Session]):
    model = SessionChargingPeriod
    fields = readonly_fields = ("position", "start_date_time", "measured", "tariff_id")
    extra = 0
    verbose_name_plural = "charging periods (each lasts until the next one starts)"

    @admin.display(description="dimensions")
    def measured(self, period: SessionChargingPeriod) -> str:
        return dimensions_text(period.dimensions)


@admin.register(Session)
class SessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Session]):
    inlines = [PeriodInline]
    list_display = [
        "ocpi_id",
        "status",
        "where",
        "token",
        "started",
        "duration",
        "kwh_charged",
        "total_cost",
        "updated",
    ]
    list_filter = ["status", EmspFilter, CpoFilter, "auth_method"]
    list_select_related = ["location", "evse", "connector"]
    # The paginator counts already: a second count of the whole table costs as much.
    show_full_result_count = False
    search_fields = [
        "ocpi_id",
        "token_uid",
        "contract_id",
        "authorization_reference",
        "location__ocpi_id",
        "location__name",
        "evse__uid",
        "evse__evse_id",
    ]
    ordering = ["-pk"]
    actions = ["stop_sessions", "invalidate_sessions"]
    change_list_template = "admin/charging_sessions/session/change_list.html"
    change_form_template = "admin/charging_sessions/session/change_form.html"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("country_code", "party_id", "ocpi_id"),
                    "status",
                    ("started", "ended", "duration"),
                    ("kwh_charged", "total_cost", "currency"),
                    "updated",
                ]
            },
        ),
        (
            "Driver and eMSP",
            {
                "fields": [
                    "token",
                    "contract_id",
                    ("auth_method", "authorization_reference"),
                    "charging_preferences",
                ]
            },
        ),
        (
            "Where",
            {"fields": ["where", "meter_id", "frozen_location", "time_zone"]},
        ),
        (
            "Price",
            {"fields": ["pricing_tariff", "frozen_tariffs", "reserved_from", "reserved_until"]},
        ),
    ]
    readonly_fields = [
        "country_code",
        "party_id",
        "ocpi_id",
        "status",
        "started",
        "ended",
        "duration",
        "kwh_charged",
        "total_cost",
        "currency",
        "updated",
        "token",
        "contract_id",
        "auth_method",
        "authorization_reference",
        "charging_preferences",
        "where",
        "meter_id",
        "frozen_location",
        "time_zone",
        "pricing_tariff",
        "frozen_tariffs",
        "reserved_from",
        "reserved_until",
    ]

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """Who may stop or invalidate sessions: whoever holds the model's change permission
        (the screens themselves never edit a session, so has_change_permission is False)."""
        return request.user.has_perm("charging_sessions.change_session")

    # In the location's zone, which the session keeps from its start: no query per row.
    started = LocalTimeColumn("start_date_time", "started", _session_zone)
    ended = LocalTimeColumn("end_date_time", "ended", _session_zone)
    updated = LocalTimeColumn("last_updated", "last updated", _session_zone)

    @admin.display(description="location / EVSE / connector", ordering="location__ocpi_id")
    def where(self, session: Session) -> SafeString:
        evse = session.evse.evse_id or session.evse.uid if session.evse is not None else "#NA"
        connector = session.connector.ocpi_id if session.connector is not None else "#NA"
        return truncated(f"{session.location.ocpi_id} / {evse} / {connector}", 40)

    @admin.display(description="token (eMSP)", ordering="token_uid")
    def token(self, session: Session) -> SafeString:
        return truncated(f"{session.token_type} {session.token_uid} ({session.token_party})", 36)

    @admin.display(description="duration")
    def duration(self, session: Session) -> str:
        return duration_text(session)

    @admin.display(description="kWh", ordering="kwh")
    def kwh_charged(self, session: Session) -> str:
        return str(plain(session.kwh))

    @admin.display(description="total cost")
    def total_cost(self, session: Session) -> str:
        if session.total_cost_excl_vat is None or session.total_cost_incl_vat is None:
            return "unknown"
        excl, incl = plain(session.total_cost_excl_vat), plain(session.total_cost_incl_vat)
        return f"{excl} {session.currency} ({incl} incl. VAT)"

    @admin.display(description="CdrLocation at the start")
    def frozen_location(self, session: Session) -> SafeString:
        return pretty_json(session.cdr_location)

    @admin.display(description="tariff that prices it")
    def pricing_tariff(self, session: Session) -> str:
        return session.tariff_id or "none (total cost unknown)"

    @admin.display(description="tariffs valid at the start")
    def frozen_tariffs(self, session: Session) -> SafeString:
        if not session.tariffs:
            return format_html("{}", "none")
        return format_html_join(
            "",
            "<p><strong>{}</strong> {} {}</p>{}",
            (
                (
                    tariff["id"],
                    tariff.get("type", "(any session)"),
                    tariff["currency"],
                    pretty_json(tariff["elements"]),
                )
                for tariff in session.tariffs
            ),
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        running = Session.objects.running().exists()
        context = {**(extra_context or {}), "refresh_seconds": REFRESH_SECONDS if running else 0}
        return super().changelist_view(request, extra_context=context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        session = Session.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        running = session is not None and not session.is_final
        context = {**(extra_context or {}), "refresh_seconds": REFRESH_SECONDS if running else 0}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def _apply(
        self, request: HttpRequest, queryset: QuerySet[Session], verb: str, change: Any
    ) -> None:
        done, refused = [], []
        for session in queryset.order_by("pk"):
            try:
                change(session)
            except SessionError as exc:
                refused.append(str(exc))
            else:
                done.append(session.ocpi_id)
        if done:
            self.message_user(request, f"{verb}: {', '.join(done)}.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)

    @admin.action(
        description="Stop the selected sessions now (the eMSP gets the final PATCH)",
        permissions=["operate"],
    )
    def stop_sessions(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        moment = now()
        self._apply(
            request,
            queryset,
            "Stopped",
            lambda session: services.session_stop(session=session, at=moment),
        )

    @admin.action(
        description="Mark the selected sessions invalid (never billed)", permissions=["operate"]
    )
    def invalidate_sessions(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        self._apply(
            request,
            queryset,
            "Marked invalid",
            lambda session: services.session_invalidate(session=session),
        )
