"""The operator's remote control of a charge point (issue 13, part 4): remote start, remote
stop, unlock, from a page of its own linked from the charge point's page.

Each goes through the services the OCPI commands use (chargers.remote): a remote start is a
RemoteStart like an eMSP's (its transaction tied to it, the session COMMAND for the token's
eMSP, a late start stopped), for a token of the tokens cache. Nothing blocks on the charge
point: the page lists the calls it made with their state and answer, to reload.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from chargers import calls, remote
from chargers.models import ChargePoint, ChargePointCall, ChargePointEvse, ChargerTransaction
from ocpi.admin import admin_page
from tokens.models import Token, TokenType
from tokens.selectors import tokens_with_uid

RECENT = 10
ACTIONS = (*remote.START.values(), *remote.STOP.values(), remote.UNLOCK)


def _evse_choices(charge_point: ChargePoint) -> list[tuple[int, str]]:
    links = ChargePointEvse.objects.filter(charge_point=charge_point).select_related("evse")
    return [(link.ocpp_evse_id, f"{link.ocpp_evse_id}: {link.evse.uid}") for link in links]


def _open_transactions(charge_point: ChargePoint) -> Any:
    return ChargerTransaction.objects.filter(
        charge_point=charge_point, ended_at__isnull=True
    ).select_related("session")


class ChargePointForm(forms.Form):
    """A form about one charge point: its choices are that charge point's."""

    def __init__(self, charge_point: ChargePoint, data: Any = None, prefix: str = "") -> None:
        super().__init__(data, prefix=prefix)
        self.charge_point = charge_point


class RemoteStartForm(ChargePointForm):
    evse = forms.TypedChoiceField(label="EVSE", coerce=int)
    uid = forms.CharField(label="Token uid", max_length=36)
    type = forms.ChoiceField(label="Token type", choices=TokenType.choices)

    def __init__(self, charge_point: ChargePoint, data: Any = None, prefix: str = "") -> None:
        super().__init__(charge_point, data, prefix)
        self.fields["evse"].choices = _evse_choices(charge_point)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "uid" in cleaned and "type" in cleaned:
            found = tokens_with_uid(uid=cleaned["uid"], token_type=cleaned["type"])
            if len(found) != 1:
                raise forms.ValidationError(
                    "No token of the tokens cache has this uid and type"
                    if not found
                    else "Several eMSPs have a token of this uid and type"
                )
            cleaned["token"] = found[0]
        return cleaned


class RemoteStopForm(ChargePointForm):
    transaction = forms.TypedChoiceField(label="Transaction", coerce=int)

    def __init__(self, charge_point: ChargePoint, data: Any = None, prefix: str = "") -> None:
        super().__init__(charge_point, data, prefix)
        self.fields["transaction"].choices = [  # type: ignore[attr-defined]
            (
                tx.pk,
                f"{tx.transaction_id} at {tx.ocpp_evse_id} ({tx.id_token})"
                + (f", session {tx.session.ocpi_id}" if tx.session else ""),
            )
            for tx in _open_transactions(charge_point)
        ]


class UnlockForm(ChargePointForm):
    evse = forms.TypedChoiceField(label="EVSE", coerce=int)
    connector = forms.IntegerField(
        min_value=1, initial=1, help_text="2.0.1: the EVSE's connector (1.6: ignored)."
    )

    def __init__(self, charge_point: ChargePoint, data: Any = None, prefix: str = "") -> None:
        super().__init__(charge_point, data, prefix)
        self.fields["evse"].choices = _evse_choices(charge_point)  # type: ignore[attr-defined]


FORMS: dict[str, type[ChargePointForm]] = {
    "start": RemoteStartForm,
    "stop": RemoteStopForm,
    "unlock": UnlockForm,
}


class RemoteControlMixin:
    """Mixed into the charge point admin: the remote control page, and its link."""

    admin_site: admin.AdminSite

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/remote/",
                self.admin_site.admin_view(self.remote_view),
                name="chargers_chargepoint_remote",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return [*fields, "remote_control"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fieldsets = list(super().get_fieldsets(request, obj))  # type: ignore[misc]
        if obj is None:
            return fieldsets
        return [*fieldsets, ("Remote control", {"fields": ["remote_control"]})]

    @admin.display(description="remote start, stop, unlock")
    def remote_control(self, charge_point: ChargePoint) -> SafeString:
        url = reverse("admin:chargers_chargepoint_remote", args=[charge_point.pk])
        return format_html('<a href="{}">Remote control of {}</a>', url, charge_point.identity)

    def remote_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        charge_point = get_object_or_404(ChargePoint, pk=object_id)
        if not self.has_change_permission(request, charge_point):  # type: ignore[attr-defined]
            raise PermissionDenied
        which = request.POST.get("do") if request.method == "POST" else None
        forms_shown = {
            name: form(charge_point, request.POST if name == which else None, prefix=name)
            for name, form in FORMS.items()
        }
        if which in FORMS and forms_shown[which].is_valid():
            self._remote(request, charge_point, which, forms_shown[which].cleaned_data)
            return HttpResponseRedirect(request.path)
        recent = ChargePointCall.objects.filter(
            charge_point=charge_point, action__in=ACTIONS
        ).order_by("-created_at")[:RECENT]
        return admin_page(
            self,  # type: ignore[arg-type]
            request,
            "admin/chargers/chargepoint/remote.html",
            title=f"Remote control of {charge_point.identity}",
            charge_point=charge_point,
            forms=forms_shown,
            recent=[(call, remote.answer_status(call) or call.error_code) for call in recent],
            change_url=reverse("admin:chargers_chargepoint_change", args=[charge_point.pk]),
        )

    def _remote(
        self, request: HttpRequest, charge_point: ChargePoint, which: str, data: dict[str, Any]
    ) -> None:
        by = f"admin: {request.user}"
        timeout = settings.OCPP_CALL_TIMEOUT_SECONDS
        try:
            if which == "start":
                call = _start(charge_point, data["evse"], data["token"], by, timeout)
            elif which == "stop":
                tx = ChargerTransaction.objects.select_related("charge_point").get(
                    pk=data["transaction"], charge_point=charge_point
                )
                call = remote.stop(tx, timeout=timeout, requested_by=by)
            else:
                call = remote.unlock(
                    charge_point, data["evse"], data["connector"], timeout=timeout, requested_by=by
                )
        except (calls.ChargePointOffline, calls.InvalidCall) as exc:
            messages.error(request, str(exc))
            return
        messages.success(request, f"{call.action} sent: reload for the answer.")


def _start(
    charge_point: ChargePoint, ocpp_evse_id: int, token: Token, by: str, timeout: float
) -> ChargePointCall:
    link = ChargePointEvse.objects.select_related("evse__location").get(
        charge_point=charge_point, ocpp_evse_id=ocpp_evse_id
    )
    started = remote.start(
        remote.StartRequest(
            charge_point=charge_point,
            ocpp_evse_id=ocpp_evse_id,
            token={
                "country_code": token.country_code,
                "party_id": token.party_id,
                "uid": token.uid,
                "type": token.type,
                "contract_id": token.contract_id,
            },
            location_id=link.evse.location.ocpi_id,
            evse_uid=link.evse.uid,
            requested_by=by,
        ),
        timeout=timeout,
    )
    assert started.call is not None
    return started.call
