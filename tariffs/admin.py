"""Operator screens for tariffs; every save and delete goes through tariffs.services.

The tariff's page edits its fields and its elements (restrictions, plus a component to add);
each element's own page edits its price components, since Django cannot nest inlines.
Forms validate through the OCPI serializers (tariffs/forms.py). Django saves nothing itself:
save_related() assembles the whole Tariff once the inlines are valid and hands it to
tariff_upsert(), so one save is one PUT to the partners (none when nothing changed).
"""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from audit.history import AuditHistoryMixin
from ocpi.time import format_datetime, now
from tariffs import engine, services
from tariffs.catalogue import engine_tariff, summary_of, tariff_uses
from tariffs.durations import readable_duration
from tariffs.estate_admin import TariffCsvMixin
from tariffs.forms import (
    PriceComponentForm,
    PriceComponentFormSet,
    TariffElementForm,
    TariffElementInlineForm,
    TariffElementInlineFormSet,
    TariffForm,
    restrictions_data,
)
from tariffs.models import PriceComponent, Tariff, TariffElement, TariffQuerySet
from tariffs.preview import PreviewForm, price_example, shown
from tariffs.selectors import tariff_get, with_elements
from tariffs.serializers import TariffSerializer

RESTRICTIONS_FIELDSET: Any = (
    "Restrictions (all must match; empty means none)",
    {
        "fields": (
            ("start_time", "end_time"),
            ("start_date", "end_date"),
            ("min_kwh", "max_kwh"),
            ("min_current", "max_current"),
            ("min_power", "max_power"),
            ("min_duration", "max_duration"),
            "day_of_week",
            "reservation",
        )
    },
)


def _upsert(data: dict[str, Any]) -> Tariff:
    """Validate the assembled Tariff (its parts were checked by the forms) and save it."""
    serializer = TariffSerializer(data={**data, "last_updated": format_datetime(now())})
    serializer.is_valid(raise_exception=True)
    return services.tariff_upsert(data=serializer.validated_data)


def _change_message(form: Any, add: bool) -> list[dict[str, dict[str, list[str]]]]:
    """History entry; Django's own reads formset results that saving through a service skips."""
    if add:
        return [{"added": {}}]
    return [{"changed": {"fields": sorted(form.changed_data)}}]


class TariffElementInline(admin.StackedInline):  # type: ignore[type-arg]
    model = TariffElement
    form = TariffElementInlineForm
    formset = TariffElementInlineFormSet
    readonly_fields = ("components",)
    fieldsets = (
        (None, {"fields": ("order", "components")}),
        RESTRICTIONS_FIELDSET,
        (
            "Add a price component",
            {
                "fields": (
                    (
                        "new_component_type",
                        "new_component_price",
                        "new_component_vat",
                        "new_component_step_size",
                    ),
                )
            },
        ),
    )

    def get_extra(self, request: HttpRequest, obj: Tariff | None = None, **kwargs: Any) -> int:
        return 0 if obj else 1

    def get_queryset(self, request: HttpRequest) -> QuerySet[TariffElement]:
        return super().get_queryset(request).prefetch_related("price_components")

    @admin.display(description="price components")
    def components(self, element: TariffElement) -> str:
        if element.pk is None:
            return "-"
        rows = format_html_join(
            "",
            "<li>{} {} (VAT {}, step {})</li>",
            (
                (c.type, c.price, "none" if c.vat is None else f"{c.vat} %", step_text(c))
                for c in element.price_components.all()
            ),
        )
        url = reverse("admin:tariffs_tariffelement_change", args=[element.pk])
        return format_html('<ul>{}</ul><a href="{}">Edit price components</a>', rows, url)


def step_text(component: PriceComponent) -> str:
    """The step size in its unit: Wh for ENERGY, a readable duration for TIME/PARKING_TIME."""
    if component.type == "FLAT":
        return "none"
    if component.type == "ENERGY":
        return f"{component.step_size} Wh"
    return readable_duration(component.step_size)


def _used_by_link(tariff: Tariff, count: int) -> str:
    """The EVSE list filtered by the tariff (locations.admin's `tariff` filter), if present."""
    text = f"{count} connector{'' if count == 1 else 's'}"
    try:
        url = reverse("admin:locations_evse_changelist")
    except NoReverseMatch:
        return text
    query = urlencode({"tariff": f"{tariff.country_code}*{tariff.party_id}*{tariff.ocpi_id}"})
    return format_html('<a href="{}?{}">{}</a>', url, query, text)


@admin.register(Tariff)
class TariffAdmin(TariffCsvMixin, AuditHistoryMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = TariffForm
    inlines = [TariffElementInline]
    list_display = [
        "ocpi_id",
        "country_code",
        "party_id",
        "currency",
        "type",
        "price_summary",
        "used_by",
        "last_updated",
    ]
    list_filter = ["type", "currency"]
    search_fields = ["ocpi_id"]
    fieldsets = (
        (None, {"fields": ("country_code", "party_id", "ocpi_id", "currency", "type")}),
        (
            "Minimum and maximum session price",
            {
                "fields": (
                    ("min_price_excl_vat", "min_price_incl_vat"),
                    ("max_price_excl_vat", "max_price_incl_vat"),
                )
            },
        ),
        ("Validity (UTC)", {"fields": ("start_date_time", "end_date_time")}),
        ("Information", {"fields": ("tariff_alt_text", "tariff_alt_url", "energy_mix")}),
        ("Protocol", {"fields": ("last_updated",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tariff]:
        # The summary reads every element and component: two queries per page, not per row.
        queryset = super().get_queryset(request)
        assert isinstance(queryset, TariffQuerySet)
        return with_elements(queryset)

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        """Count the connectors of the page's tariffs at once (ocpi.tariff_links: one query)."""
        changelist = super().get_changelist_instance(request)
        tariffs = list(changelist.result_list)  # evaluated once; the page shows these rows
        uses = tariff_uses(tariffs)
        for tariff in tariffs:
            tariff.connector_count = len(uses[tariff.pk])  # type: ignore[attr-defined]
        return changelist

    @admin.display(description="prices (excl. VAT)")
    def price_summary(self, tariff: Tariff) -> str:
        return summary_of(tariff)

    @admin.display(description="used by")
    def used_by(self, tariff: Tariff) -> str:
        count = getattr(tariff, "connector_count", None)
        if count is None:  # a row outside the changelist's page (never in practice)
            count = len(tariff_uses([tariff])[tariff.pk])
        return _used_by_link(tariff, count)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The tariff's page, with the price preview below its form (GET `preview-*`)."""
        context = {**(extra_context or {}), **self._preview(request, object_id)}
        return super().change_view(request, object_id, form_url, context)

    def _preview(self, request: HttpRequest, object_id: str) -> dict[str, Any]:
        tariff = self.get_object(request, object_id)
        if tariff is None:
            return {}
        asked = any(key.startswith("preview-") for key in request.GET)
        form = PreviewForm(
            request.GET if asked else None,
            prefix="preview",
            initial={
                "time_zone": _zone_of(tariff),
                "charging": 3600,
                "energy": "20",
            },
        )
        context: dict[str, Any] = {"preview_form": form}
        if not form.is_valid():
            return context
        example = form.example()
        try:
            cost = price_example(engine_tariff(tariff), example)
        except (engine.TariffError, engine.TimelineError) as exc:
            form.add_error(None, f"The engine cannot price this: {exc}")
            return context
        context["preview"] = shown(cost, example)
        return context

    def get_readonly_fields(self, request: HttpRequest, obj: Tariff | None = None) -> Any:
        # OCPI ids are immutable: the owner and id are fixed once the tariff exists.
        return ("last_updated", *(("country_code", "party_id", "ocpi_id") if obj else ()))

    def save_model(self, request: HttpRequest, obj: Tariff, form: Any, change: bool) -> None:
        """Save nothing yet: the tariff is written with its elements in save_related()."""

    def save_related(
        self, request: HttpRequest, form: Any, formsets: list[Any], change: bool
    ) -> None:
        (elements,) = formsets
        tariff = _upsert(
            {**form.ocpi_data, "elements": [f.ocpi_data for f in elements.kept_forms()]}
        )
        # The admin goes on with form.instance (redirect, history): make it the saved row.
        form.instance.pk = tariff.pk
        form.instance._state.adding = False
        form.instance.last_updated = tariff.last_updated

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict[str, dict[str, list[str]]]]:
        return _change_message(form, add)

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        """List connectors that still use a tariff as protected: Django then refuses."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Elements go with their tariff; their own page merely hides its delete button.
        perms_needed.discard(str(TariffElement._meta.verbose_name))
        for tariff in objs:
            protected.extend(
                f"Connector {connector} lists tariff {tariff.ocpi_id} in its tariff_ids"
                for connector in services.tariff_references(tariff=tariff)
            )
        return deleted, counts, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Tariff) -> None:
        services.tariff_delete(tariff=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Tariff]) -> None:
        for tariff in queryset:
            services.tariff_delete(tariff=tariff)


def _zone_of(tariff: Tariff) -> str:
    """The preview's default zone: that of a location using the tariff, else the admin's."""
    uses = tariff_uses([tariff])[tariff.pk]
    return uses[0].time_zone if uses else settings.TIME_ZONE


class PriceComponentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PriceComponent
    form = PriceComponentForm
    formset = PriceComponentFormSet
    fields = ("type", "price", "vat", "step_size")
    extra = 1


@admin.register(TariffElement)
class TariffElementAdmin(AuditHistoryMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = TariffElementForm
    inlines = [PriceComponentInline]
    readonly_fields = ("tariff_link", "position")
    fieldsets = ((None, {"fields": ("tariff_link", "position")}), RESTRICTIONS_FIELDSET)

    def get_model_perms(self, request: HttpRequest) -> dict[str, bool]:
        return {}  # reached from its tariff's page, not listed on the index

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # elements are added on the tariff's page

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # and removed there, so the tariff is pushed once, whole

    @admin.display(description="tariff")
    def tariff_link(self, element: TariffElement) -> str:
        url = reverse("admin:tariffs_tariff_change", args=[element.tariff_id])
        return format_html('<a href="{}">{}</a>', url, element.tariff)

    def save_model(self, request: HttpRequest, obj: TariffElement, form: Any, change: bool) -> None:
        """Save nothing yet: the whole tariff is written in save_related()."""

    def save_related(
        self, request: HttpRequest, form: Any, formsets: list[Any], change: bool
    ) -> None:
        (components,) = formsets
        element: TariffElement = form.instance
        tariff = tariff_get(party=element.tariff.party, tariff_id=element.tariff.ocpi_id)
        assert tariff is not None
        data = services.render_tariff(tariff)
        replacement: dict[str, Any] = {"price_components": components.kept_data()}
        if restrictions := restrictions_data(form.cleaned_data):
            replacement["restrictions"] = restrictions
        data["elements"][element.position] = replacement
        _upsert(data)

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict[str, dict[str, list[str]]]]:
        return _change_message(form, add)

    def response_change(self, request: HttpRequest, obj: TariffElement) -> HttpResponse:
        if "_continue" in request.POST:
            return super().response_change(request, obj)
        return HttpResponseRedirect(reverse("admin:tariffs_tariff_change", args=[obj.tariff_id]))
