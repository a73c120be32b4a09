"""Read-only screens of what the gateway writes (chargers.admin registers them by importing
this module): transactions, calls to charge points, the message log."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from chargers.models import (
    ChargePointCall,
    ChargePointMessage,
    ChargerTransaction,
    TransactionEvent,
)
from ocpi.admin import ReadOnlyAdminMixin, pretty_json
from ocpi.display import LocalTimeColumn

MESSAGE_LIST = "admin:chargers_chargepointmessage_changelist"
FRAME_START = 160  # characters of a frame shown in a list


def frame_start(message: ChargePointMessage) -> str:
    frame = message.frame
    return frame if len(frame) <= FRAME_START else frame[:FRAME_START] + "…"


class OpenFilter(admin.SimpleListFilter):
    title = "open"
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "open"), ("no", "ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(ended_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(ended_at__isnull=False)
        return queryset


class TransactionEventInline(ReadOnlyAdminMixin, admin.TabularInline[TransactionEvent, Any]):
    model = TransactionEvent
    fields = ["seq_no", "kind", "timestamp", "received_at", "applied", "payload"]
    readonly_fields = ["seq_no", "kind", "timestamp", "received_at", "applied", "payload"]
    extra = 0
    verbose_name_plural = "messages of the transaction, in the charge point's time order"


def _transaction_zone(transaction: ChargerTransaction) -> str | None:
    """The zone of its session's location (kept on the session: select_related, no query);
    the operator's before a session exists."""
    return transaction.session.time_zone if transaction.session is not None else None


@admin.register(ChargerTransaction)
class ChargerTransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ChargerTransaction]):
    list_display = [
        "transaction_id",
        "charge_point",
        "ocpp_evse_id",
        "id_token",
        "started",
        "ended",
        "kwh",
        "session_link",
        "stop_reason",
    ]
    list_filter = [OpenFilter, "charge_point__ocpp_version", "stop_reason"]
    list_select_related = ["charge_point", "session"]
    search_fields = ["transaction_id", "id_token", "charge_point__identity", "session__ocpi_id"]
    date_hierarchy = "created_at"
    inlines = [TransactionEventInline]
    fields = [
        ("charge_point", "transaction_id", "fingerprint"),
        ("ocpp_evse_id", "connector_id"),
        ("id_token", "id_token_type"),
        "session_link",
        ("started", "ended", "stop_reason"),
        ("meter_start_wh", "meter_last_wh", "meter_last_at", "kwh"),
        "last_seq_no",
        "open_period",
        "created_at",
    ]
    readonly_fields = [
        "charge_point",
        "transaction_id",
        "fingerprint",
        "ocpp_evse_id",
        "connector_id",
        "id_token",
        "id_token_type",
        "session_link",
        "started",
        "ended",
        "stop_reason",
        "meter_start_wh",
        "meter_last_wh",
        "meter_last_at",
        "kwh",
        "last_seq_no",
        "open_period",
        "created_at",
    ]

    started = LocalTimeColumn("started_at", "started", _transaction_zone)
    ended = LocalTimeColumn("ended_at", "ended", _transaction_zone)

    @admin.display(description="kWh")
    def kwh(self, transaction: ChargerTransaction) -> str:
        if transaction.meter_start_wh is None or transaction.meter_last_wh is None:
            return "–"
        return f"{(transaction.meter_last_wh - transaction.meter_start_wh) / 1000:.3f}"

    @admin.display(description="session", ordering="session__ocpi_id")
    def session_link(self, transaction: ChargerTransaction) -> str:
        if transaction.session is None:
            return "–"
        url = reverse("admin:charging_sessions_session_change", args=[transaction.session.pk])
        return format_html('<a href="{}">{}</a>', url, transaction.session.ocpi_id)

    @admin.display(description="open charging period")
    def open_period(self, transaction: ChargerTransaction) -> SafeString:
        return pretty_json(transaction.state)


@admin.register(ChargePointCall)
class ChargePointCallAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ChargePointCall]):
    list_display = [
        "created_at",
        "charge_point",
        "action",
        "state",
        "requested_by",
        "finished_at",
        "error_code",
    ]
    list_filter = ["state", "action"]
    list_select_related = ["charge_point"]
    search_fields = ["charge_point__identity", "action", "requested_by"]
    date_hierarchy = "created_at"
    fields = [
        ("charge_point", "action", "state"),
        "requested_by",
        ("created_at", "sent_at", "finished_at", "deadline"),
        "sent",
        "answer",
        ("error_code", "error_description"),
    ]
    readonly_fields = [
        "charge_point",
        "action",
        "state",
        "requested_by",
        "created_at",
        "sent_at",
        "finished_at",
        "deadline",
        "sent",
        "answer",
        "error_code",
        "error_description",
    ]

    @admin.display(description="payload")
    def sent(self, call: ChargePointCall) -> SafeString:
        return pretty_json(call.payload)

    @admin.display(description="answer")
    def answer(self, call: ChargePointCall) -> SafeString:
        return pretty_json(call.response)


@admin.register(ChargePointMessage)
class ChargePointMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ChargePointMessage]):
    list_display = [
        "at",
        "charge_point",
        "direction",
        "message_type",
        "action",
        "unique_id",
        "frame_shown",
    ]
    list_filter = ["direction", "message_type"]
    list_select_related = ["charge_point"]
    search_fields = ["charge_point__identity", "action", "unique_id"]
    date_hierarchy = "at"
    fields = [("charge_point", "at"), ("direction", "message_type", "action", "unique_id"), "frame"]
    readonly_fields = [
        "charge_point",
        "at",
        "direction",
        "message_type",
        "action",
        "unique_id",
        "frame",
    ]

    @admin.display(description="frame")
    def frame_shown(self, message: ChargePointMessage) -> str:
        return frame_start(message)
