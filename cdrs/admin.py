"""Operator screens for CDRs: read-only, as CDRs are sealed invoices (mod_cdrs, Credit CDRs).

The list shows what was billed and whether it reached the eMSP; a CDR's page shows how its
total came about (each price component's quantity, unit price and VAT), the tariff and the
location it was sealed with, its charging periods and its deliveries with the Location the
eMSP answered. The only changes an operator can make are the ones the spec allows, the
actions of cdrs.admin_actions: issue a credit CDR, or credit and issue a corrected CDR.
"""

from typing import Any

from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from cdrs.admin_actions import issue_correction, issue_credit
from cdrs.admin_reports import report_csv_view, report_view
from cdrs.admin_text import number_text, price_text
from cdrs.models import Cdr
from credentials.admin_filters import CpoFilter, EmspFilter, with_chosen
from ocpi.admin import ReadOnlyAdminMixin, pretty_json
from ocpi.display import LocalTimeColumn, local_time, truncated
from ocpi.time import parse_datetime
from push.models import Delivery
from sessions.admin import DIMENSION_UNITS
from tariffs.selectors import tariff_currencies

# The unit a cost line's quantity is counted in (tariffs.engine.CostLine).
_UNITS = {"ENERGY": "kWh", "TIME": "h", "PARKING_TIME": "h", "FLAT": "×"}


def _cdr_zone(cdr: Cdr) -> str | None:
    """The location's zone, as its session kept it (a CdrLocation has none); the
    operator's for a CDR without a session of ours. select_related: no query per row."""
    session = cdr.charging_session
    return session.time_zone if session is not None else None


def _deliveries(cdr: Cdr) -> list[Delivery]:
    if cdr.push_change is None:
        return []
    return list(cdr.push_change.deliveries.all())


def _cost_display(name: str) -> Any:
    """The admin column of the Price `name` (its `<name>_excl_vat`/`_incl_vat` pair)."""

    @admin.display(description=name)
    def show(model_admin: Any, cdr: Cdr) -> str:
        return price_text(
            getattr(cdr, f"{name}_excl_vat"), getattr(cdr, f"{name}_incl_vat"), cdr.currency
        )

    return show


def _cdr_link(cdr: Cdr | None) -> str:
    """A link to the CDR's admin page, or a dash when there is none."""
    if cdr is None:
        return "–"
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:cdrs_cdr_change", args=[cdr.pk]), cdr.ocpi_id
    )


class CurrencyFilter(admin.SimpleListFilter):
    """By currency, among our tariffs' (a CDR is priced in its tariff's currency)."""

    title = "currency"
    parameter_name = "currency"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return with_chosen(self, tariff_currencies())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Cdr]) -> QuerySet[Cdr]:
        value = self.value()
        return queryset.filter(currency__ci=value) if value else queryset


@admin.register(Cdr)
class CdrAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Cdr]):
    """Read-only: a CDR is sealed, and a correction is a credit CDR (the action)."""

    list_display = [
        "ocpi_id",
        "charging_session",
        "emsp",
        "location",
        "started",
        "ended",
        "kwh",
        "total_cost",
        "credit",
        "delivery_state",
    ]
    # Every choice without a look at the CDRs (a DISTINCT over them scans the table on every
    # page): the parties and currencies from their own small tables, dates from the calendar
    # (end_date_time is indexed).
    list_filter = [
        "credit",
        CurrencyFilter,
        CpoFilter,
        EmspFilter,
        ("end_date_time", admin.DateFieldListFilter),
    ]
    search_fields = ["ocpi_id", "session_id", "token_uid", "contract_id", "cdr_location__id"]
    # The paginator counts already: a second count of the whole table costs as much.
    show_full_result_count = False
    ordering = ["-pk"]
    actions = [issue_credit, issue_correction]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("country_code", "party_id", "ocpi_id"),
                    ("started", "ended"),
                    ("charging_session", "session_id"),
                    "cdr_token",
                    ("auth_method", "authorization_reference"),
                    ("meter_id", "currency"),
                    ("credit", "credit_reference_id", "original", "credit_cdr_link"),
                    ("corrects", "corrected_by_link"),
                    ("remark", "invoice_reference_id", "home_charging_compensation"),
                    "updated",
                ]
            },
        ),
        (
            "Totals",
            {
                "fields": [
                    "total_cost",
                    ("total_energy", "total_energy_cost"),
                    ("total_time", "total_time_cost"),
                    ("total_parking_time", "total_parking_cost"),
                    ("total_fixed_cost", "total_reservation_cost"),
                ]
            },
        ),
        ("How the total came about", {"fields": ["cost_breakdown"]}),
        ("Charging periods", {"fields": ["periods"]}),
        ("Sealed at the start of the session", {"fields": ["location_as_sealed", "tariff"]}),
        ("Sent to the eMSP", {"fields": ["deliveries"]}),
    ]
    readonly_fields = [
        "country_code",
        "party_id",
        "ocpi_id",
        "started",
        "ended",
        "charging_session",
        "session_id",
        "cdr_token",
        "auth_method",
        "authorization_reference",
        "meter_id",
        "currency",
        "credit",
        "credit_reference_id",
        "original",
        "credit_cdr_link",
        "corrects",
        "corrected_by_link",
        "remark",
        "invoice_reference_id",
        "home_charging_compensation",
        "updated",
        "total_cost",
        "total_energy",
        "total_energy_cost",
        "total_time",
        "total_time_cost",
        "total_parking_time",
        "total_parking_cost",
        "total_fixed_cost",
        "total_reservation_cost",
        "cost_breakdown",
        "periods",
        "location_as_sealed",
        "tariff",
        "deliveries",
    ]

    def get_urls(self) -> list[URLPattern]:
        return [
            path("report/", self.admin_site.admin_view(self.report_view), name="cdrs_cdr_report"),
            path(
                "report/csv/",
                self.admin_site.admin_view(self.report_csv_view),
                name="cdrs_cdr_report_csv",
            ),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        return report_view(self, request)

    def report_csv_view(self, request: HttpRequest) -> HttpResponseBase:
        return report_csv_view(self, request)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cdr]:
        return (
            super()
            .get_queryset(request)
            .select_related("charging_session", "push_change", "original", "corrects")
            .prefetch_related(
                Prefetch(
                    "push_change__deliveries",
                    queryset=Delivery.objects.select_related("partner").order_by("pk"),
                )
            )
        )

    # --- the list -------------------------------------------------------------------------

    started = LocalTimeColumn("start_date_time", "started", _cdr_zone)
    ended = LocalTimeColumn("end_date_time", "ended", _cdr_zone)
    updated = LocalTimeColumn("last_updated", "last updated", _cdr_zone)

    @admin.display(description="eMSP", ordering="token_party_id")
    def emsp(self, cdr: Cdr) -> str:
        return str(cdr.token_party)

    @admin.display(description="location")
    def location(self, cdr: Cdr) -> SafeString:
        sealed = cdr.cdr_location
        return truncated(f"{sealed.get('id')} {sealed.get('name', '')}".strip(), 32)

    @admin.display(description="kWh", ordering="total_energy")
    def kwh(self, cdr: Cdr) -> str:
        return number_text(cdr.total_energy)

    @admin.display(description="total cost (excl. / incl. VAT)", ordering="total_cost_excl_vat")
    def total_cost(self, cdr: Cdr) -> str:
        return price_text(cdr.total_cost_excl_vat, cdr.total_cost_incl_vat, cdr.currency)

    @admin.display(description="sent")
    def delivery_state(self, cdr: Cdr) -> str:
        deliveries = _deliveries(cdr)
        if not deliveries:
            return "not sent: no eMSP receives it (it can pull it)"
        return ", ".join(f"{d.get_status_display()} to {d.partner}" for d in deliveries)

    # --- one CDR ---------------------------------------------------------------------------

    @admin.display(description="cdr_token")
    def cdr_token(self, cdr: Cdr) -> str:
        return f"{cdr.token_party} {cdr.token_type} {cdr.token_uid} (contract {cdr.contract_id})"

    @admin.display(description="credited by")
    def credit_cdr_link(self, cdr: Cdr) -> str:
        return _cdr_link(Cdr.objects.filter(original=cdr).first())

    @admin.display(description="corrected by")
    def corrected_by_link(self, cdr: Cdr) -> str:
        return _cdr_link(Cdr.objects.filter(corrects=cdr).first())

    total_fixed_cost = _cost_display("total_fixed_cost")
    total_energy_cost = _cost_display("total_energy_cost")
    total_time_cost = _cost_display("total_time_cost")
    total_parking_cost = _cost_display("total_parking_cost")
    total_reservation_cost = _cost_display("total_reservation_cost")

    @admin.display(description="cost per price component")
    def cost_breakdown(self, cdr: Cdr) -> SafeString:
        if not cdr.cost_lines:
            return format_html("<p>{}</p>", "No tariff applied: nothing was billed.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    line["category"],
                    line["type"],
                    f"element {line['element'] + 1}, component {line['component'] + 1}",
                    number_text(line["quantity"]),
                    _UNITS.get(line["type"], ""),
                    number_text(line["unit_price"]),
                    "no VAT" if line["vat"] is None else f"{number_text(line['vat'])} %",
                    number_text(line["excl_vat"]),
                    number_text(line["incl_vat"]),
                )
                for line in cdr.cost_lines
            ),
        )
        return format_html(
            '<table class="cost-breakdown"><thead><tr><th>cost</th><th>type</th>'
            "<th>tariff</th><th>quantity</th><th>unit price</th><th>VAT</th>"
            "<th>excl. VAT</th><th>incl. VAT</th></tr></thead><tbody>{}</tbody>"
            "<tfoot><tr><th colspan=6>total_cost (after min/max price, rounded to 4 "
            "decimals)</th><th>{}</th><th>{}</th></tr></tfoot></table>",
            rows,
            number_text(cdr.total_cost_excl_vat),
            number_text(cdr.total_cost_incl_vat),
        )

    @admin.display(description="charging periods")
    def periods(self, cdr: Cdr) -> SafeString:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    local_time(parse_datetime(period["start_date_time"]), _cdr_zone(cdr)),
                    ", ".join(
                        f"{d['type']} {number_text(d['volume'])} {DIMENSION_UNITS[d['type']]}"
                        for d in period["dimensions"]
                    ),
                    period.get("tariff_id", "–"),
                )
                for period in cdr.charging_periods
            ),
        )
        return format_html(
            "<table><thead><tr><th>start</th><th>dimensions</th><th>tariff</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="cdr_location")
    def location_as_sealed(self, cdr: Cdr) -> SafeString:
        return pretty_json(cdr.cdr_location)

    @admin.display(description="tariffs")
    def tariff(self, cdr: Cdr) -> SafeString:
        if not cdr.tariffs:
            return format_html("<p>{}</p>", "None: no tariff applied to the session.")
        return pretty_json(cdr.tariffs)

    @admin.display(description="deliveries")
    def deliveries(self, cdr: Cdr) -> SafeString:
        deliveries = _deliveries(cdr)
        if not deliveries:
            return format_html(
                "<p>{}</p>",
                "Not sent: the token's eMSP has no registered cdrs Receiver endpoint. It can "
                "pull the CDR from our Sender interface.",
            )
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}*{}</td><td>{}</td><td>{}</td>'
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    reverse("admin:push_delivery_change", args=[d.pk]),
                    d.pk,
                    d.partner,
                    d.to_country_code,
                    d.to_party_id,
                    d.get_status_display(),
                    d.attempts,
                    d.last_error or (d.delivered_at and local_time(d.delivered_at)) or "",
                    d.response_location or "–",
                )
                for d in deliveries
            ),
        )
        return format_html(
            "<table><thead><tr><th>delivery</th><th>partner</th><th>to</th><th>status</th>"
            "<th>attempts</th><th>result</th><th>Location (the CDR at the eMSP)</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            rows,
        )
