"""The operator's maintenance and remote control of one charge point (issue 13, part 4).

Its page (<charge point>/maintenance/) holds one form per operation its OCPP version knows:
reset, availability (a whole charge point or one EVSE: the EVSE then reports Unavailable and is
INOPERATIVE in OCPI, through chargers.status, until it reports otherwise), trigger message,
configuration (1.6) or variables (2.0.1), firmware update, diagnostics / log upload, clear
cache, data transfer, local authorization list. Each form sends its call (chargers.calls.send,
never a wait: the operator's request returns at once) and the page lists the calls with their
state and answer, reloading itself while one is awaited; what the answers leave behind (the
last known configuration, the firmware and upload statuses, the local list held) is shown
without asking the charge point again. A charge point no gateway holds is refused at once,
nothing queued; so is a payload its version refuses.

The charge point's own page gets the link, the connection history, the status history and the
last known settings (read-only tables: READONLY_FIELDS, FIELDSETS), and the changelist the
action "Send local list".
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from chargers import calls, local_list, maintenance
from chargers.admin_maintenance_forms import (
    AvailabilityForm,
    ChangeConfigurationForm,
    ChargePointForm,
    DataTransferForm,
    GetConfigurationForm,
    GetVariablesForm,
    LocalListForm,
    NoInputForm,
    ResetForm,
    SetVariableForm,
    TriggerForm,
    UpdateFirmwareForm,
    UploadForm,
)
from chargers.models import CallState, ChargePoint, ChargePointCall, OcppVersion
from chargers.models_maintenance import (
    ChargePointSetting,
    ConnectionEvent,
    LocalAuthList,
    MaintenanceEvent,
)
from ocpi.admin import admin_page, pretty_json

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldOpts

V16, V201 = OcppVersion.V16.value, OcppVersion.V201.value
BOTH = (V16, V201)
PAGE_CALLS = 15  # the calls listed on the maintenance page
REFRESH_SECONDS = 3  # the page reloads this often while a call of it awaits its answer

Send = Callable[[Any, ChargePoint, str], ChargePointCall | None]


@dataclass(frozen=True)
class Operation:
    title: str
    form: type[ChargePointForm]
    versions: tuple[str, ...]
    send: Send  # (the valid form, the charge point, requested_by) → its call, or None
    button: str = "Send"


def _availability(form: AvailabilityForm, cp: ChargePoint, by: str) -> ChargePointCall:
    data = form.cleaned_data
    return calls.change_availability(cp, data["operative"], data["evse"], requested_by=by)


def _trigger(form: TriggerForm, cp: ChargePoint, by: str) -> ChargePointCall:
    data = form.cleaned_data
    return calls.trigger_message(cp, data["message"], data["evse"], requested_by=by)


def _set_variable(form: SetVariableForm, cp: ChargePoint, by: str) -> ChargePointCall:
    return maintenance.set_variables(
        cp, [(form.ref(), form.cleaned_data["value"])], requested_by=by
    )


def _firmware(form: UpdateFirmwareForm, cp: ChargePoint, by: str) -> ChargePointCall:
    data = form.cleaned_data
    return maintenance.update_firmware(
        cp,
        data["location"],
        data["retrieve_at"],
        retries=data["retries"],
        retry_interval=data["retry_interval"],
        requested_by=by,
    )


def _diagnostics(form: UploadForm, cp: ChargePoint, by: str) -> ChargePointCall:
    data = form.cleaned_data
    return maintenance.get_diagnostics(
        cp,
        data["location"],
        retries=data["retries"],
        retry_interval=data["retry_interval"],
        requested_by=by,
    )


def _log(form: UploadForm, cp: ChargePoint, by: str) -> ChargePointCall:
    data = form.cleaned_data
    return maintenance.get_log(
        cp,
        data["location"],
        security=data["security"],
        retries=data["retries"],
        retry_interval=data["retry_interval"],
        requested_by=by,
    )


def _data_transfer(form: DataTransferForm, cp: ChargePoint, by: str) -> ChargePointCall:
    data = form.cleaned_data
    return maintenance.data_transfer(
        cp, data["vendor_id"], data["message_id"], data["content"], requested_by=by
    )


OPERATIONS: dict[str, Operation] = {
    "reset": Operation(
        "Reset",
        ResetForm,
        BOTH,
        lambda form, cp, by: calls.reset(cp, form.cleaned_data["kind"] == "hard", requested_by=by),
    ),
    "availability": Operation("Change availability", AvailabilityForm, BOTH, _availability),
    "trigger": Operation("Trigger a message", TriggerForm, BOTH, _trigger),
    "get_configuration": Operation(
        "Get configuration",
        GetConfigurationForm,
        (V16,),
        lambda form, cp, by: maintenance.get_configuration(
            cp, form.cleaned_data["keys"], requested_by=by
        ),
    ),
    "change_configuration": Operation(
        "Change configuration",
        ChangeConfigurationForm,
        (V16,),
        lambda form, cp, by: maintenance.change_configuration(
            cp, form.cleaned_data["key"], form.cleaned_data["value"], requested_by=by
        ),
    ),
    "get_variables": Operation(
        "Get variables",
        GetVariablesForm,
        (V201,),
        lambda form, cp, by: maintenance.get_variables(
            cp, form.cleaned_data["variables"], requested_by=by
        ),
    ),
    "set_variable": Operation("Set a variable", SetVariableForm, (V201,), _set_variable),
    "update_firmware": Operation("Update firmware", UpdateFirmwareForm, BOTH, _firmware),
    "get_diagnostics": Operation("Get diagnostics", UploadForm, (V16,), _diagnostics),
    "get_log": Operation("Get log", UploadForm, (V201,), _log),
    "clear_cache": Operation(
        "Clear the authorization cache",
        NoInputForm,
        BOTH,
        lambda form, cp, by: maintenance.clear_cache(cp, requested_by=by),
        button="Clear cache",
    ),
    "data_transfer": Operation("Data transfer", DataTransferForm, BOTH, _data_transfer),
    "send_local_list": Operation(
        "Send the local authorization list",
        LocalListForm,
        BOTH,
        lambda form, cp, by: local_list.sync(cp, full=form.cleaned_data["full"], requested_by=by),
    ),
    "get_local_list_version": Operation(
        "Get the local list version",
        NoInputForm,
        BOTH,
        lambda form, cp, by: local_list.get_version(cp, requested_by=by),
        button="Ask",
    ),
}


def operations_of(version: str) -> dict[str, Operation]:
    return {name: op for name, op in OPERATIONS.items() if version in op.versions}


# --- the charge point's page: its histories, read-only ------------------------------------------

PAGE_HISTORY = 20  # rows of each history on the charge point's page
# What chargers.admin adds to the charge point's page.
READONLY_FIELDS = [
    "maintenance_link",
    "connection_history",
    "maintenance_history",
    "known_settings",
]
FIELDSETS: "list[tuple[str | None, _FieldOpts]]" = [
    ("Firmware, diagnostics and log statuses", {"fields": ["maintenance_history"]}),
    ("Connection history", {"fields": ["connection_history"], "classes": ["collapse"]}),
    (
        "Configuration / variables, as last known",
        {"fields": ["known_settings"], "classes": ["collapse"]},
    ),
]


def _table(headers: list[str], rows: Any) -> SafeString:
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    cells = "".join("<td>{}</td>" for _ in headers)
    body = format_html_join("", "<tr>" + cells + "</tr>", rows) or format_html(
        '<tr><td colspan="{}">none</td></tr>', len(headers)
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


# --- what the maintenance page shows ----------------------------------------------------------


def calls_table(charge_point: ChargePoint, count: int) -> SafeString:
    """The charge point's most recent calls: when, what, by whom, the state and the answer."""
    rows = ChargePointCall.objects.filter(charge_point=charge_point)[:count]
    body = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:chargers_chargepointcall_change", args=[row.pk]),
                row.created_at,
                row.action,
                row.get_state_display(),
                row.requested_by,
                answer_of(row),
            )
            for row in rows
        ),
    )
    return format_html(
        "<table><thead><tr><th>created</th><th>action</th><th>state</th><th>by</th>"
        "<th>answer</th></tr></thead><tbody>{}</tbody></table>",
        body,
    )


def answer_of(call: ChargePointCall) -> SafeString:
    if call.state == CallState.ANSWERED:
        return pretty_json(call.response)
    if call.state == CallState.FAILED:
        return format_html("{}: {}", call.error_code, call.error_description)
    if call.state == CallState.TIMED_OUT:
        return format_html("{}", call.error_description or "no answer in time")
    return format_html("{}", "awaiting")


# --- the admin's additions ----------------------------------------------------------------


class MaintenanceAdminMixin:
    """Mixed into chargers.admin.ChargePointAdmin: its URLs, action and the page's link."""

    admin_site: admin.AdminSite
    has_change_permission: Callable[..., bool]
    message_user: Callable[..., None]
    log_change: Callable[..., Any]

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/maintenance/",
                self.admin_site.admin_view(self.maintenance_view),
                name="chargers_chargepoint_maintenance",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    @admin.display(description="connections")
    def connection_history(self, charge_point: ChargePoint) -> SafeString:
        rows = ConnectionEvent.objects.filter(charge_point=charge_point)[:PAGE_HISTORY]
        return _table(
            ["at", "event", "connection", "gateway", "version", "from", "why"],
            (
                (e.at, e.kind, e.connection, e.gateway, e.version, e.remote_address, e.reason)
                for e in rows
            ),
        )

    @admin.display(description="statuses")
    def maintenance_history(self, charge_point: ChargePoint) -> SafeString:
        rows = MaintenanceEvent.objects.filter(charge_point=charge_point)[:PAGE_HISTORY]
        return _table(
            ["at", "of", "request", "status", "detail"],
            (
                (
                    e.at,
                    f"{e.get_kind_display()}{' (our request)' if e.requested else ''}",
                    "" if e.request_id is None else e.request_id,
                    e.status,
                    e.detail,
                )
                for e in rows
            ),
        )

    @admin.display(description="settings")
    def known_settings(self, charge_point: ChargePoint) -> SafeString:
        rows = ChargePointSetting.objects.filter(charge_point=charge_point)
        return _table(
            ["key / variable", "value", "read-only", "last answer", "at"],
            (
                (
                    s.name,
                    s.value,
                    {True: "yes", False: "no"}.get(s.readonly, "?"),  # type: ignore[arg-type]
                    s.status,
                    s.updated_at,
                )
                for s in rows
            ),
        )

    @admin.display(description="maintenance")
    def maintenance_link(self, charge_point: ChargePoint) -> SafeString:
        url = reverse("admin:chargers_chargepoint_maintenance", args=[charge_point.pk])
        return format_html(
            '<a href="{}">Maintenance and remote control</a> (reset, availability, '
            "configuration, firmware, diagnostics, local list, …)",
            url,
        )

    @admin.action(
        description="Send local list (what changed since its version)", permissions=["change"]
    )
    def send_local_list(self, request: HttpRequest, queryset: QuerySet[ChargePoint]) -> None:
        by = f"admin:{request.user.get_username()}"
        for charge_point in queryset.order_by("identity"):
            text, level = _local_list_sent(charge_point, by)
            self.message_user(request, text, level)

    def maintenance_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        charge_point = get_object_or_404(ChargePoint, pk=object_id)
        if not self.has_change_permission(request, charge_point):
            raise PermissionDenied
        version = calls.version_of(charge_point)
        operations = operations_of(version)
        bound_name = request.POST.get("operation") if request.method == "POST" else None
        forms = {}
        for name, operation in operations.items():
            data = request.POST if name == bound_name else None
            forms[name] = operation.form(
                data, charge_point=charge_point, version=version, prefix=name
            )
        if bound_name is not None:
            if bound_name not in operations:
                messages.error(request, f"No operation {bound_name!r} for OCPP {version}.")
            elif forms[bound_name].is_valid() and self._sent(
                request, charge_point, bound_name, forms[bound_name]
            ):
                return HttpResponseRedirect(request.path)
        recent = ChargePointCall.objects.filter(charge_point=charge_point)[:PAGE_CALLS]
        awaiting = any(call.state in (CallState.PENDING, CallState.SENT) for call in recent)
        return admin_page(
            self,  # type: ignore[arg-type]
            request,
            "admin/chargers/chargepoint/maintenance.html",
            title=f"Maintenance of {charge_point.identity} (OCPP {version})",
            charge_point=charge_point,
            change_url=reverse("admin:chargers_chargepoint_change", args=[charge_point.pk]),
            operations=[(name, op, forms[name]) for name, op in operations.items()],
            calls=calls_table(charge_point, PAGE_CALLS),
            refresh=REFRESH_SECONDS if awaiting else None,
            local_list=LocalAuthList.objects.filter(charge_point=charge_point).first(),
            settings=ChargePointSetting.objects.filter(charge_point=charge_point),
            events=MaintenanceEvent.objects.filter(charge_point=charge_point)[:20],
        )

    def _sent(
        self, request: HttpRequest, charge_point: ChargePoint, name: str, form: ChargePointForm
    ) -> bool:
        """Send the operation; True when sent (or nothing was to be sent), else the reason is
        a form error."""
        by = f"admin:{request.user.get_username()}"
        operation = OPERATIONS[name]
        try:
            call = operation.send(form, charge_point, by)
        except calls.ChargePointOffline:
            form.add_error(
                None, "Not sent: no gateway holds its connection (offline). Nothing was queued."
            )
            return False
        except (calls.InvalidCall, maintenance.InvalidLocation) as exc:
            form.add_error(None, f"Not sent: {exc}")
            return False
        except local_list.UpdateInFlight as exc:
            form.add_error(None, f"Not sent: {exc}")
            return False
        if call is None:
            messages.info(
                request, f"{operation.title}: nothing to send, it holds the list already."
            )
            return True
        self.log_change(request, charge_point, f"{operation.title}: {call.action} sent.")
        messages.success(
            request,
            f"{operation.title}: {call.action} sent; its answer appears in the calls below.",
        )
        return True


def _local_list_sent(charge_point: ChargePoint, by: str) -> tuple[str, int]:
    try:
        call = local_list.sync(charge_point, requested_by=by)
    except calls.ChargePointOffline:
        return (
            f"Local list not sent to {charge_point.identity}: offline, nothing was queued.",
            messages.ERROR,
        )
    except local_list.UpdateInFlight as exc:
        return f"Local list not sent to {charge_point.identity}: {exc}.", messages.WARNING
    if call is None:
        return f"{charge_point.identity} holds the current local list already.", messages.INFO
    update = call.local_list_update
    kind = "FULL" if update.full else "DIFFERENTIAL"
    return (
        f"Local list {kind} version {update.version} ({update.changes} entries) sent to "
        f"{charge_point.identity}: its answer is on its maintenance page.",
        messages.SUCCESS,
    )
