"""The changes an operator can make to CDRs, as admin actions (mod_cdrs, Credit CDRs).

A CDR is a sealed invoice: the spec's only way to change one is a credit CDR, and a corrected
CDR after it. "Issue credit CDR" (cdrs.services.cdr_credit) POSTs the credit to the eMSP;
"Credit and issue a corrected CDR" (cdrs.services.cdr_correct) POSTs both. Each asks on its
own page (a form) before it changes anything.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from cdrs import selectors, services
from cdrs.admin_text import price_text
from cdrs.models import Cdr
from ocpi.admin import admin_page
from tariffs.models import Tariff


class CreditForm(forms.Form):
    remark = forms.CharField(
        max_length=255,
        required=False,
        help_text="Sent in the credit CDR's remark, e.g. why the CDR is taken back.",
        widget=forms.TextInput(attrs={"size": 80}),
    )


FREE_OF_CHARGE = "free"


class CorrectionForm(forms.Form):
    tariff = forms.ChoiceField(
        help_text="The corrected CDR is repriced from the session's charging periods under "
        "this tariff. Only our tariffs in the CDRs' currency are offered, and only when the "
        "chosen CDRs share one party and currency."
    )
    remark = forms.CharField(
        max_length=255,
        required=False,
        help_text="Sent in the corrected CDR's remark (and the credit's, if it is issued now).",
        widget=forms.TextInput(attrs={"size": 80}),
    )

    def __init__(self, *args: Any, tariffs: list[Tariff], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tariffs = {str(tariff.pk): tariff for tariff in tariffs}
        field = self.fields["tariff"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", "---------"),
            (FREE_OF_CHARGE, "free of charge (total 0, no tariff)"),
            *((pk, f"{t.ocpi_id} ({t.currency})") for pk, t in self.tariffs.items()),
        ]

    def chosen_tariff(self) -> dict[str, Any] | None:
        """The chosen Tariff object; None: free of charge."""
        choice = self.cleaned_data["tariff"]
        if choice == FREE_OF_CHARGE:
            return None
        return selectors.tariff_object(self.tariffs[choice])


@admin.action(description="Issue credit CDR…")
def issue_credit(
    model_admin: admin.ModelAdmin[Cdr], request: HttpRequest, queryset: QuerySet[Cdr]
) -> HttpResponse | None:
    form = CreditForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        issued = 0
        for cdr in queryset.order_by("pk"):
            try:
                credit = services.cdr_credit(cdr=cdr, remark=form.cleaned_data["remark"])
            except services.CreditRefused as exc:
                model_admin.message_user(request, f"{cdr}: {exc}", messages.ERROR)
                continue
            issued += 1
            model_admin.message_user(request, f"Credit CDR {credit.ocpi_id} issued for {cdr}.")
        if issued:
            model_admin.message_user(request, f"{issued} credit CDR(s) queued to their eMSPs.")
        return None
    return admin_page(
        model_admin,
        request,
        "admin/cdrs/cdr/credit.html",
        title="Issue credit CDRs",
        cdrs=queryset.order_by("pk"),
        form=form,
    )


@admin.action(description="Credit and issue a corrected CDR…")
def issue_correction(
    model_admin: admin.ModelAdmin[Cdr], request: HttpRequest, queryset: QuerySet[Cdr]
) -> HttpResponse | None:
    cdrs = list(queryset.order_by("pk"))
    kinds = {(cdr.party, cdr.currency) for cdr in cdrs}
    tariffs: list[Tariff] = []
    if len(kinds) == 1:
        party, currency = kinds.pop()
        tariffs = list(selectors.correction_tariffs(party=party, currency=currency))
    form = CorrectionForm(request.POST if "apply" in request.POST else None, tariffs=tariffs)
    if form.is_valid():
        tariff, remark = form.chosen_tariff(), form.cleaned_data["remark"]
        issued = 0
        for cdr in cdrs:
            try:
                credit, corrected = services.cdr_correct(cdr=cdr, tariff=tariff, remark=remark)
            except services.CorrectionRefused as exc:
                model_admin.message_user(request, f"{cdr}: {exc}", messages.ERROR)
                continue
            issued += 1
            total = price_text(
                corrected.total_cost_excl_vat, corrected.total_cost_incl_vat, cdr.currency
            )
            model_admin.message_user(
                request,
                f"{cdr} credited by {credit.ocpi_id} and corrected by {corrected.ocpi_id}: "
                f"{total}.",
            )
        if issued:
            model_admin.message_user(request, f"{issued} corrected CDR(s) queued to their eMSPs.")
        return None
    return admin_page(
        model_admin,
        request,
        "admin/cdrs/cdr/correct.html",
        title="Credit and issue corrected CDRs",
        cdrs=cdrs,
        form=form,
    )
