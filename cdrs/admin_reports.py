"""Reports for the operator and finance: sessions, kWh and revenue per month, site and eMSP
party, on a page with filters and as a streamed CSV file. The figures are
CdrQuerySet.report()'s; this module only reads the filters and renders."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from cdrs.models import REPORT_DIMENSIONS, Cdr, CdrQuerySet
from credentials.models import PartnerRole
from ocpi.admin import admin_page
from ocpi.csv_cells import csv_lines
from ocpi.enums import Role
from ocpi.routing import PartyRef
from sessions.models import MONEY_PLACES

# Rows shown on the page; the CSV file has them all.
PAGE_ROWS = 500
# Rows the database hands over at a time while the CSV streams.
CSV_CHUNK = 2000

DIMENSION_LABELS = {"month": "Month", "site": "Site", "partner": "eMSP party"}
# Each dimension's columns as (row key, CSV header).
DIMENSION_COLUMNS = {
    "month": [("month", "month")],
    "site": [
        ("site_country_code", "site_country_code"),
        ("site_party_id", "site_party_id"),
        ("site_id", "site_id"),
        ("site_name", "site_name"),
    ],
    "partner": [("emsp_country_code", "emsp_country_code"), ("emsp_party_id", "emsp_party_id")],
}
FIGURES = ["currency_code", "sessions", "energy_kwh", "revenue_excl_vat", "revenue_incl_vat"]
AMOUNT_PLACES = Decimal(1).scaleb(-MONEY_PLACES)


class ReportForm(forms.Form):
    date_from = forms.DateField(required=False, help_text="First day (UTC), by session end.")
    date_to = forms.DateField(required=False, help_text="Last day (UTC), included.")
    site = forms.CharField(required=False, max_length=36, help_text="A location's OCPI id.")
    partner = forms.ChoiceField(required=False, label="eMSP party")
    group_by = forms.MultipleChoiceField(
        choices=list(DIMENSION_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=["month"],
    )

    def __init__(self, data: Any, *, partners: list[tuple[str, str]]) -> None:
        super().__init__(data)
        field = self.fields["partner"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "all"), *partners]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError("The last day is before the first.")
        return cleaned

    def cdrs(self) -> CdrQuerySet:
        """The CDRs the filters select (the form must be valid)."""
        data = self.cleaned_data
        selected = Cdr.objects.ended_in(_midnight(data["date_from"]), _midnight(data["date_to"], 1))
        if data["site"]:
            selected = selected.at_site(data["site"])
        if data["partner"]:
            country_code, _, party_id = data["partner"].partition("*")
            selected = selected.for_token_parties([PartyRef.of(country_code, party_id)])
        return selected

    def dimensions(self) -> list[str]:
        """The chosen groupings in a fixed order (month, site, partner)."""
        chosen = set(self.cleaned_data["group_by"])
        return [name for name in REPORT_DIMENSIONS if name in chosen]


def _midnight(day: date | None, days_after: int = 0) -> datetime | None:
    return None if day is None else datetime.combine(day + timedelta(days_after), time(), UTC)


def _emsp_parties() -> list[tuple[str, str]]:
    roles = PartnerRole.objects.filter(role=Role.EMSP).order_by("country_code", "party_id")
    return [
        (f"{cc.upper()}*{pid.upper()}", f"{cc.upper()}*{pid.upper()} ({name})")
        for cc, pid, name in roles.values_list("country_code", "party_id", "partner__name")
    ]


def columns(dimensions: list[str]) -> list[str]:
    return [key for name in dimensions for key, _ in DIMENSION_COLUMNS[name]] + FIGURES


def cell(value: Any) -> str:
    """A cell of the page and the file: months as YYYY-MM, amounts with their exact digits
    (the file's writer keeps text from being read as a formula)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%Y-%m")
    if isinstance(value, Decimal):
        # The stored places: SQLite sums decimals in floating point (10.3000000000000).
        return str(value.quantize(AMOUNT_PLACES))
    if isinstance(value, int):
        return str(value)
    return str(value)


def report_lines(rows: Iterator[dict[str, Any]], keys: list[str]) -> Iterator[str]:
    return csv_lines(keys, ([cell(row[key]) for key in keys] for row in rows))


def report_view(model_admin: admin.ModelAdmin[Cdr], request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    # The first visit shows every CDR per month.
    form = ReportForm(request.GET or {"group_by": ["month"]}, partners=_emsp_parties())
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        dimensions = form.dimensions()
        selected = form.cdrs()
        rows = list(selected.report(by=dimensions)[: PAGE_ROWS + 1])
        context |= {
            "headers": columns(dimensions),
            "rows": [[cell(row[key]) for key in columns(dimensions)] for row in rows[:PAGE_ROWS]],
            "more": len(rows) > PAGE_ROWS,
            "page_rows": PAGE_ROWS,
            "totals": [[cell(row[key]) for key in FIGURES] for row in selected.report(by=[])],
            "figures": FIGURES,
            "query": request.GET.urlencode(),
        }
    return admin_page(
        model_admin,
        request,
        "admin/cdrs/cdr/report.html",
        title="Reports: sessions, energy and revenue",
        **context,
    )


def report_csv_view(model_admin: admin.ModelAdmin[Cdr], request: HttpRequest) -> HttpResponseBase:
    """The report as CSV, streamed: rows go out as the database hands them over, so memory
    stays flat however many there are."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    form = ReportForm(request.GET, partners=_emsp_parties())
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    dimensions = form.dimensions()
    rows = form.cdrs().report(by=dimensions).iterator(chunk_size=CSV_CHUNK)
    response = StreamingHttpResponse(
        report_lines(rows, columns(dimensions)), content_type="text/csv; charset=utf-8"
    )
    name = "-".join(["report", *dimensions]) + ".csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
