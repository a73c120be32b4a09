"""The operator's screen of reservations (chargers.admin registers it by importing this
module): written by chargers.reservations only, so read-only, with one action, "Cancel
reservation", which sends CancelReservation (or, the charge point offline, ends it here).
A reservation the operator cancels is reported to its eMSP (chargers.reservations
.reservation_ended) and its session is INVALID: the driver never got what was reserved."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from chargers import calls, reservations
from chargers.models import Reservation, ReservationEnd
from ocpi.admin import ReadOnlyAdminMixin, pretty_json


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Reservation]):
    list_display = [
        "created_at",
        "party",
        "reservation_id",
        "ocpp_id",
        "charge_point",
        "evse",
        "state",
        "expiry_date",
        "answer",
        "ended_by",
    ]
    list_filter = ["state", "ended_by", "party_country_code", "party_party_id"]
    list_select_related = ["charge_point", "evse"]
    search_fields = ["reservation_id", "id_token", "charge_point__identity", "evse__uid"]
    date_hierarchy = "created_at"
    actions = ["cancel_reservations"]
    fields = [
        ("party", "reservation_id", "ocpp_id"),
        ("charge_point", "ocpp_evse_id", "evse"),
        ("state", "answer"),
        ("expiry_date", "ended_at", "ended_by"),
        ("id_token", "id_token_type", "authorization_reference"),
        "token_data",
        ("reserve_call", "cancel_call_link", "session_link"),
        ("requested_by", "created_at", "updated_at"),
    ]
    readonly_fields = [
        "party",
        "reservation_id",
        "ocpp_id",
        "charge_point",
        "ocpp_evse_id",
        "evse",
        "state",
        "answer",
        "expiry_date",
        "ended_at",
        "ended_by",
        "id_token",
        "id_token_type",
        "authorization_reference",
        "token_data",
        "reserve_call",
        "cancel_call_link",
        "session_link",
        "requested_by",
        "created_at",
        "updated_at",
    ]

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("chargers.change_reservation")

    @admin.display(description="eMSP", ordering="party_country_code")
    def party(self, reservation: Reservation) -> str:
        return f"{reservation.party_country_code}*{reservation.party_party_id}"

    @admin.display(description="token")
    def token_data(self, reservation: Reservation) -> SafeString:
        return pretty_json(reservation.token)

    @admin.display(description="ReserveNow")
    def reserve_call(self, reservation: Reservation) -> SafeString | str:
        return _call_link(reservation.call_id)

    @admin.display(description="CancelReservation")
    def cancel_call_link(self, reservation: Reservation) -> SafeString | str:
        return _call_link(reservation.cancel_call_id)

    @admin.display(description="session")
    def session_link(self, reservation: Reservation) -> SafeString | str:
        if reservation.session_id is None:
            return "–"
        url = reverse("admin:charging_sessions_session_change", args=[reservation.session_id])
        return format_html('<a href="{}">{}</a>', url, reservation.session)

    @admin.action(description="Cancel reservation", permissions=["cancel"])
    def cancel_reservations(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        sent, here, not_held = [], [], []
        who = f"admin:{request.user.get_username()}"
        for reservation in queryset.select_related("charge_point"):
            name = f"{reservation.reservation_id} ({reservation.charge_point})"
            try:
                reservations.cancel(reservation, by=ReservationEnd.OPERATOR, requested_by=who)
            except reservations.ReservationRefused:
                not_held.append(name)
            except calls.ChargePointOffline:
                reservations.cancel_here(reservation, by=ReservationEnd.OPERATOR)
                here.append(name)
            else:
                sent.append(name)
        if sent:
            self.message_user(
                request,
                f"CancelReservation sent for {', '.join(sent)}: cancelled once the charge "
                "point accepts.",
                messages.SUCCESS,
            )
        if here:
            self.message_user(
                request,
                f"Cancelled here, the charge point offline and not told: {', '.join(here)}.",
                messages.WARNING,
            )
        if not_held:
            self.message_user(
                request, f"Not held, nothing to cancel: {', '.join(not_held)}.", messages.ERROR
            )


def _call_link(call_id: object) -> SafeString | str:
    if call_id is None:
        return "–"
    url = reverse("admin:chargers_chargepointcall_change", args=[call_id])
    return format_html('<a href="{}">{}</a>', url, call_id)
