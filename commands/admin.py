"""Commands received from eMSPs, for operators: what was asked, answered, sent and reported."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from commands.models import Command


@admin.register(Command)
class CommandAdmin(admin.ModelAdmin[Command]):
    list_display = [
        "received_at",
        "type",
        "emsp",
        "state",
        "response_result",
        "result",
        "call_state",
        "session",
    ]
    list_filter = ["type", "state", "result", "partner"]
    search_fields = ["response_url", "party_party_id", "session__ocpi_id"]
    list_select_related = ["call", "session", "partner"]
    date_hierarchy = "received_at"
    readonly_fields = (
        "partner",
        "party_country_code",
        "party_party_id",
        "owner_country_code",
        "owner_party_id",
        "type",
        "response_url",
        "request",
        "response_status_code",
        "response",
        "state",
        "result",
        "result_message",
        "result_at",
        "call",
        "call_answer",
        "session",
        "received_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # a record of what happened

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="eMSP")
    def emsp(self, command: Command) -> str:
        return f"{command.party_country_code}*{command.party_party_id}"

    @admin.display(description="response")
    def response_result(self, command: Command) -> Any:
        return command.response.get("result", "")

    @admin.display(description="call")
    def call_state(self, command: Command) -> str:
        return command.call.get_state_display() if command.call else "—"

    @admin.display(description="charge point answer")
    def call_answer(self, command: Command) -> Any:
        call = command.call
        if call is None:
            return "—"
        return call.response or f"{call.error_code} {call.error_description}".strip() or "—"
