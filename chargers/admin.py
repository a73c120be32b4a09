"""Operator screens for charge points (issue 12).

Adding one provisions it through chargers.provisioning (identity, OCPP version, security
profile, its EVSEs in OCPP id order) and shows its URL and password once: only the hash is
kept, so "Set a new password" is the way to hand out another. The page of a charge point
shows what the gateway records (connection, boot, clock), its EVSE mapping (editable), its
recent messages and calls. The actions send calls through chargers.calls, to whichever gateway
holds the charge point; one that no gateway holds is reported, nothing is queued for it.
Transactions, calls and messages are written by the gateway: read-only (chargers.admin_logs).
Maintenance and remote control (configuration, firmware, uploads, local lists, …), with the
histories shown here: chargers.admin_maintenance.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from audit.history import AuditHistoryMixin
from chargers import (
    admin_maintenance,
    admin_reservations,  # noqa: F401 (registers the reservations screen)
    calls,
    provisioning,
)
from chargers.admin_forms import ChargePointEvseForm, PasswordForm, ProvisionForm
from chargers.admin_logs import MESSAGE_LIST, frame_start
from chargers.admin_maintenance import MaintenanceAdminMixin, calls_table
from chargers.admin_remote import RemoteControlMixin
from chargers.models import ChargePoint, ChargePointCall, ChargePointEvse
from ocpi.admin import admin_page
from ocpi.display import LocalTimeColumn

RECENT_MESSAGES = 50
RECENT_CALLS = 10
# What an operator may change on a charge point's page; the rest is written by provisioning
# and by the gateway, and a save here must not overwrite it with what the page was read with.
EDITABLE = [
    "ocpp_version",
    "security_profile",
    "registration_status",
    "heartbeat_interval",
    "relaxed_validation",
]


class OnlineFilter(admin.SimpleListFilter):
    title = "online"
    parameter_name = "online"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "online"), ("no", "offline")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.exclude(gateway="")
        if self.value() == "no":
            return queryset.filter(gateway="")
        return queryset


class ChargePointEvseInline(admin.TabularInline[ChargePointEvse, ChargePoint]):
    model = ChargePointEvse
    form = ChargePointEvseForm
    extra = 0
    raw_id_fields = ["evse"]  # the lookup popup: no inline script, CSP-safe
    fields = ["ocpp_evse_id", "evse", "location", "evse_status"]
    readonly_fields = ["location", "evse_status"]
    verbose_name = "EVSE"
    verbose_name_plural = "EVSEs (1.6 connector id / 2.0.1 EVSE id → our EVSE)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChargePointEvse]:
        return super().get_queryset(request).select_related("evse__location")

    @admin.display(description="location")
    def location(self, link: ChargePointEvse) -> str:
        return str(link.evse.location) if link.pk else "–"

    @admin.display(description="EVSE status")
    def evse_status(self, link: ChargePointEvse) -> str:
        return link.evse.status if link.pk else "–"


@admin.register(ChargePoint)
class ChargePointAdmin(
    AuditHistoryMixin, RemoteControlMixin, MaintenanceAdminMixin, admin.ModelAdmin[ChargePoint]
):
    list_display = [
        "identity",
        "ocpp_version",
        "security_profile",
        "online",
        "last_message",
        "registration_status",
        "vendor_model",
        "firmware_version",
        "clock",
    ]
    list_filter = [
        OnlineFilter,
        "ocpp_version",
        "connected_version",
        "security_profile",
        "registration_status",
    ]
    search_fields = ["identity", "serial_number"]
    ordering = ["identity"]
    inlines = [ChargePointEvseInline]
    actions = [
        "reset_soft",
        "trigger_status",
        "make_available",
        "make_unavailable",
        "send_local_list",
    ]
    readonly_fields = [
        *admin_maintenance.READONLY_FIELDS,
        "identity",
        "password",
        "url",
        "online",
        "gateway",
        "connected_version",
        "connected_at",
        "disconnected_at",
        "last_message_at",
        "remote_address",
        "clock",
        "offline_marked",
        "vendor",
        "model",
        "serial_number",
        "firmware_version",
        "booted_at",
        "recent_calls",
        "recent_messages",
        "created_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "identity",
                    "maintenance_link",
                    "url",
                    "password",
                    *EDITABLE,
                    "created_at",
                ]
            },
        ),
        (
            "Connection (the gateway's)",
            {
                "fields": [
                    ("online", "gateway", "connected_version"),
                    ("connected_at", "disconnected_at", "last_message_at"),
                    ("remote_address", "clock", "offline_marked"),
                ]
            },
        ),
        (
            "What it said at boot",
            {"fields": [("vendor", "model"), ("serial_number", "firmware_version"), "booted_at"]},
        ),
        ("Recent calls to it", {"fields": ["recent_calls"]}),
        *admin_maintenance.FIELDSETS,
        ("Recent messages", {"fields": ["recent_messages"]}),
    ]

    # --- the list -------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChargePoint]:
        # The zone of the site its first mapped EVSE is at: one subquery, not a query per row.
        site_zone = ChargePointEvse.objects.filter(charge_point=OuterRef("pk")).order_by(
            "ocpp_evse_id"
        )
        return (
            super()
            .get_queryset(request)
            .annotate(site_time_zone=Subquery(site_zone.values("evse__location__time_zone")[:1]))
        )

    last_message = LocalTimeColumn(
        "last_message_at", "last message", lambda cp: getattr(cp, "site_time_zone", None)
    )

    @admin.display(description="online", boolean=True, ordering="gateway")
    def online(self, charge_point: ChargePoint) -> bool:
        return charge_point.online

    @admin.display(description="vendor / model", ordering="vendor")
    def vendor_model(self, charge_point: ChargePoint) -> str:
        return f"{charge_point.vendor} {charge_point.model}".strip() or "–"

    @admin.display(description="clock offset", ordering="clock_offset")
    def clock(self, charge_point: ChargePoint) -> str:
        if charge_point.clock_offset is None:
            return "–"
        return f"{charge_point.clock_offset:+.0f} s"

    # --- one charge point ----------------------------------------------------------------

    @admin.display(description="URL")
    def url(self, charge_point: ChargePoint) -> str:
        return provisioning.charge_point_url(charge_point.identity)

    @admin.display(description="password")
    def password(self, charge_point: ChargePoint) -> SafeString:
        state = "set (only its hash is kept)" if charge_point.password_hash else "none"
        link = reverse("admin:chargers_chargepoint_password", args=[charge_point.pk])
        return format_html('{} — <a href="{}">Set a new password</a>', state, link)

    @admin.display(description="calls")
    def recent_calls(self, charge_point: ChargePoint) -> SafeString:
        every = reverse("admin:chargers_chargepointcall_changelist")
        return format_html(
            '{}<p><a href="{}?{}">Every call to it</a></p>',
            calls_table(charge_point, RECENT_CALLS),
            every,
            f"charge_point__id__exact={charge_point.pk}",
        )

    @admin.display(description="messages")
    def recent_messages(self, charge_point: ChargePoint) -> SafeString:
        rows = charge_point.messages.order_by("-at", "-pk")[:RECENT_MESSAGES]
        table = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            (
                (row.at, row.direction, row.message_type, row.action, frame_start(row))
                for row in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>at</th><th>way</th><th>type</th><th>action</th>"
            '<th>frame</th></tr></thead><tbody>{}</tbody></table><p><a href="{}?{}">'
            "Every message kept</a> (the last {} shown here)</p>",
            table,
            reverse(MESSAGE_LIST),
            f"charge_point__id__exact={charge_point.pk}",
            RECENT_MESSAGES,
        )

    def save_model(self, request: HttpRequest, obj: ChargePoint, form: Any, change: bool) -> None:
        """Only what the operator changed: the gateway writes the connection meanwhile."""
        changed = [field for field in form.changed_data if field in EDITABLE]
        if changed:
            obj.save(update_fields=changed)

    # --- provisioning and passwords -------------------------------------------------------

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Provision a charge point (chargers.provisioning), then show its password once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ProvisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                provisioned = provisioning.charge_point_provision(
                    identity=data["identity"],
                    evse_refs=data["evses"],
                    ocpp_version=data["ocpp_version"],
                    security_profile=data["security_profile"],
                    password=data["password"] or None,
                )
            except ValidationError as exc:
                for problem in exc.messages:
                    form.add_error(None, problem)
            else:
                self.log_addition(request, provisioned.charge_point, [{"added": {}}])
                return self._credentials(
                    request, provisioned.charge_point, provisioned.password, provisioned.evses
                )
        return admin_page(
            self,
            request,
            "admin/chargers/chargepoint/provision.html",
            title="Add charge point",
            form=form,
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/password/",
                self.admin_site.admin_view(self.password_view),
                name="chargers_chargepoint_password",
            ),
            *super().get_urls(),
        ]

    def password_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Give the charge point a new password and show it once."""
        charge_point = get_object_or_404(ChargePoint, pk=object_id)
        if not self.has_change_permission(request, charge_point):
            raise PermissionDenied
        form = PasswordForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                raw = provisioning.charge_point_set_password(
                    charge_point=charge_point, password=form.cleaned_data["password"] or None
                )
            except ValidationError as exc:
                form.add_error("password", exc.messages[0])
            else:
                self.log_change(request, charge_point, "Set a new password.")
                return self._credentials(request, charge_point, raw, None)
        return admin_page(
            self,
            request,
            "admin/chargers/chargepoint/password.html",
            title=f"Set a new password for {charge_point.identity}",
            charge_point=charge_point,
            form=form,
        )

    def _credentials(
        self,
        request: HttpRequest,
        charge_point: ChargePoint,
        password: str | None,
        evses: list[Any] | None,
    ) -> TemplateResponse:
        """The page that shows the password, once: rendered in answer to the POST, never
        stored for a later page (a message would keep it in the session)."""
        return admin_page(
            self,
            request,
            "admin/chargers/chargepoint/credentials.html",
            title=f"Charge point {charge_point.identity}",
            charge_point=charge_point,
            url=provisioning.charge_point_url(charge_point.identity),
            password=password,
            evses=[(n, provisioning.evse_ref(evse)) for n, evse in enumerate(evses or [], 1)],
            change_url=reverse("admin:chargers_chargepoint_change", args=[charge_point.pk]),
        )

    # --- calls to charge points -------------------------------------------------------------

    @admin.action(description="Reset (soft: transactions end first)", permissions=["change"])
    def reset_soft(self, request: HttpRequest, queryset: QuerySet[ChargePoint]) -> None:
        self._call_each(
            request, queryset, "Reset", lambda cp, by: calls.reset(cp, False, requested_by=by)
        )

    @admin.action(description="Trigger StatusNotification", permissions=["change"])
    def trigger_status(self, request: HttpRequest, queryset: QuerySet[ChargePoint]) -> None:
        self._call_each(
            request,
            queryset,
            "TriggerMessage StatusNotification",
            lambda cp, by: calls.trigger_message(cp, "StatusNotification", requested_by=by),
        )

    @admin.action(description="Make available (Operative)", permissions=["change"])
    def make_available(self, request: HttpRequest, queryset: QuerySet[ChargePoint]) -> None:
        self._call_each(
            request,
            queryset,
            "ChangeAvailability Operative",
            lambda cp, by: calls.change_availability(cp, True, requested_by=by),
        )

    @admin.action(description="Make unavailable (Inoperative)", permissions=["change"])
    def make_unavailable(self, request: HttpRequest, queryset: QuerySet[ChargePoint]) -> None:
        self._call_each(
            request,
            queryset,
            "ChangeAvailability Inoperative",
            lambda cp, by: calls.change_availability(cp, False, requested_by=by),
        )

    def _call_each(
        self,
        request: HttpRequest,
        queryset: QuerySet[ChargePoint],
        what: str,
        send: Callable[[ChargePoint, str], ChargePointCall],
    ) -> None:
        by = f"admin:{request.user.get_username()}"
        sent, offline = [], []
        for charge_point in queryset.order_by("identity"):
            try:
                send(charge_point, by)
            except calls.ChargePointOffline:
                offline.append(charge_point.identity)
            else:
                sent.append(charge_point.identity)
        if sent:
            self.message_user(
                request,
                format_html(
                    '{} sent to {}: their answers are in <a href="{}">the calls</a>.',
                    what,
                    ", ".join(sent),
                    reverse("admin:chargers_chargepointcall_changelist"),
                ),
                messages.SUCCESS,
            )
        if offline:
            self.message_user(
                request,
                f"{what} not sent to {', '.join(offline)}: no gateway holds its connection "
                "(offline). Nothing was queued for it.",
                messages.ERROR,
            )
