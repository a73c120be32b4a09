"""Operator screens for locations, EVSEs and connectors.

Saving goes through locations.services (never form.save()), so every change gets its
last_updated and its push: the location page saves the location and its EVSE statuses in
one location_upsert (one PUT, or a PATCH per EVSE when only statuses changed); the EVSE page
saves the EVSE with its connectors in one evse_upsert. Django's admin cannot nest inlines,
so connectors are edited on the EVSE's own page, linked from the location page.
Nothing here deletes: EVSEs are removed by status REMOVED (mod_locations, Flow).
"""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.forms import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from audit.history import AuditHistoryMixin
from credentials.admin_filters import CpoFilter
from locations import map as location_map
from locations import services
from locations.admin_lists import (
    EvseStatusFilter,
    LocationInUseFilter,
    connector_updated,
    evse_updated,
    location_updated,
)
from locations.estate_admin import EvseCsvMixin, LocationCsvMixin
from locations.forms import ConnectorForm, EvseForm, EvseStatusForm, LocationForm, SetStatusForm
from locations.models import EVSE, Connector, Location
from locations.selectors import evses_of
from locations.serializers import EVSESerializer
from ocpi.admin import admin_page
from ocpi.routing import PartyRef
from ocpi.tariff_links import connectors_naming, tariff_key


class _NoDelete:
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EvseInline(_NoDelete, admin.TabularInline[EVSE, Location]):
    model = EVSE
    form = EvseStatusForm
    extra = 0
    fields = ["uid", "evse_id", "status", "connectors_summary", "updated"]
    readonly_fields = ["uid", "evse_id", "connectors_summary", "updated"]
    updated = evse_updated  # in the location's zone, as the lists show it (ocpi.display)
    show_change_link = True
    verbose_name_plural = "EVSEs (connectors on each EVSE's page)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # added on the EVSE page, together with its connectors (at least one)

    def get_queryset(self, request: HttpRequest) -> QuerySet[EVSE]:
        return super().get_queryset(request).prefetch_related("connectors").order_by("pk")

    @admin.display(description="connectors")
    def connectors_summary(self, evse: EVSE) -> str:
        return ", ".join(f"{c.ocpi_id}: {c.standard} {c.power_type}" for c in evse.connectors.all())


@admin.register(Location)
class LocationAdmin(LocationCsvMixin, AuditHistoryMixin, _NoDelete, admin.ModelAdmin[Location]):
    form = LocationForm
    inlines = [EvseInline]
    list_display = [
        "ocpi_id",
        "name",
        "city",
        "country_code",
        "party_id",
        "publish",
        "roaming",
        "evse_count",
        location_updated,
    ]
    list_filter = [
        LocationInUseFilter,
        "roaming",
        "publish",
        CpoFilter,
        "parking_type",
    ]
    search_fields = ["ocpi_id", "name", "address", "city", "postal_code"]
    readonly_fields = ["add_evse", "updated"]
    updated = location_updated  # in the location's zone, as the list shows it
    actions = ["start_roaming", "stop_roaming"]
    ordering = ["pk"]

    class Media:
        # The form's map picker (latitude/longitude by click or drag); its config comes
        # with the page (change_form.html, json_script): the CSP runs no inline script.
        css = {"all": ["locations/leaflet/leaflet.css", "locations/map.css"]}
        js = ["locations/leaflet/leaflet.js", "locations/location_picker.js"]

    def get_urls(self) -> list[URLPattern]:
        def view(page: Any) -> Any:
            return self.admin_site.admin_view(lambda request: page(self, request))

        return [
            path("map/", view(location_map.map_page_view), name="locations_location_map"),
            path("map/data/", view(location_map.map_data_view), name="locations_location_map_data"),
            *super().get_urls(),
        ]

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        config = {**location_map.tile_config(), **location_map.marker_icons()}
        context = {**(extra_context or {}), "map_config": config}
        response = super().changeform_view(request, object_id, form_url, context)
        return location_map.allow_tiles(response)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Location]:
        # A count per listed location (a subquery), not a join of every EVSE grouped by
        # location: the page counts its 100 rows, and the list's counts drop it.
        evses = EVSE.objects.filter(location=OuterRef("pk")).order_by().values("location")
        total = Subquery(evses.annotate(total=Count("*")).values("total"))
        return (
            super()
            .get_queryset(request)
            .annotate(evse_total=Coalesce(total, 0, output_field=IntegerField()))
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        immutable = ["country_code", "party_id", "ocpi_id"] if obj is not None else []
        return [*immutable, *self.readonly_fields]

    @admin.display(description="EVSEs", ordering="evse_total")
    def evse_count(self, location: Location) -> int:
        return int(getattr(location, "evse_total", 0))

    @admin.display(description="new EVSE")
    def add_evse(self, location: Location) -> str:
        if location.pk is None:
            return "Save the location first, then add its EVSEs with their connectors."
        url = reverse("admin:locations_evse_add") + f"?location={location.pk}"
        return format_html('<a href="{}">Add an EVSE with its connectors</a>', url)

    def save_model(self, request: HttpRequest, obj: Location, form: Any, change: bool) -> None:
        """Saved in save_related, together with the EVSE rows, through the service."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        data = dict(form.ocpi_data)
        statuses: dict[int, str] = {}
        for formset in formsets:
            formset.save(commit=False)  # fills changed_objects for the change message
            statuses.update(
                {f.instance.pk: f.cleaned_data["status"] for f in formset.forms if f.has_changed()}
            )
        if statuses:
            data["evses"] = _evses_with_statuses(form.instance, statuses)
        location = services.location_upsert(data=data, roaming=form.cleaned_data["roaming"])
        form.instance.pk = location.pk

    @admin.action(description="Offer to roaming partners (PUT)")
    def start_roaming(self, request: HttpRequest, queryset: QuerySet[Location]) -> None:
        for location in queryset:
            services.location_set_roaming(location=location, roaming=True)
        self.message_user(request, f"{queryset.count()} locations offered to roaming.")

    @admin.action(description="Withdraw from roaming partners (last PUT, all EVSEs REMOVED)")
    def stop_roaming(self, request: HttpRequest, queryset: QuerySet[Location]) -> None:
        for location in queryset:
            services.location_set_roaming(location=location, roaming=False)
        self.message_user(request, f"{queryset.count()} locations withdrawn from roaming.")


def _evses_with_statuses(location: Location, statuses: dict[int, str]) -> list[dict[str, Any]]:
    """The location's EVSEs as validated data, with the statuses set on the location page."""
    evses = []
    for evse in evses_of(location):
        rendered = dict(EVSESerializer(evse).data)
        rendered["status"] = statuses.get(evse.pk, evse.status)
        serializer = EVSESerializer(data=rendered)
        serializer.is_valid(raise_exception=True)  # our own stored data: always valid
        evses.append(dict(serializer.validated_data))
    return evses


class ConnectorFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        super().clean()
        ids = [
            form.cleaned_data["ocpi_id"].upper()
            for form in self.forms
            if form.cleaned_data.get("ocpi_id")
        ]
        if len(ids) != len(set(ids)):
            raise ValidationError("Connector ids must be unique within the EVSE.")


def _location_party(request: HttpRequest, evse: EVSE | None) -> PartyRef | None:
    """The owner of the EVSE's location: saved, chosen in the posted form, or in ?location=."""
    location = evse.location if evse is not None and evse.location_id else None
    if location is None:
        chosen = str(request.POST.get("location") or request.GET.get("location") or "")
        location = Location.objects.filter(pk=chosen).first() if chosen.isdigit() else None
    return PartyRef.of(location.country_code, location.party_id) if location else None


class TariffFilter(admin.SimpleListFilter):
    """EVSEs with a connector naming a tariff, `?tariff=DE*ALL*T1` (the tariff list links here).

    Offered only when given (the list of all tariffs belongs to the tariffs admin); the rule is
    ocpi.tariff_links', the same that counts a tariff's connectors.
    """

    title = "tariff"
    parameter_name = "tariff"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        return [(value, value)] if value else []

    def queryset(self, request: HttpRequest, queryset: QuerySet[EVSE]) -> QuerySet[EVSE]:
        value = self.value()
        if not value:
            return queryset
        parts = value.split("*", 2)
        if len(parts) != 3 or not all(parts):
            return queryset.none()
        key = tariff_key(PartyRef.of(parts[0], parts[1]), parts[2])
        uses = connectors_naming([key])[key]
        return queryset.filter(pk__in=sorted({use.evse_pk for use in uses}))


class ConnectorInline(_NoDelete, admin.StackedInline[Connector, EVSE]):
    model = Connector
    form = ConnectorForm
    formset = ConnectorFormSet
    min_num = 1  # an EVSE has at least one connector (EVSE.connectors, cardinality +)
    extra = 0
    readonly_fields = ["updated"]
    updated = connector_updated  # in its location's zone

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # min_num alone only pre-fills rows; a tampered or scripted POST could send none.
        return super().get_formset(request, obj, validate_min=True, **kwargs)


class LocationCpoFilter(CpoFilter):
    """By our CPO party that owns the EVSE's location."""

    country_field, party_field = "location__country_code", "location__party_id"


@admin.register(EVSE)
class EvseAdmin(EvseCsvMixin, AuditHistoryMixin, _NoDelete, admin.ModelAdmin[EVSE]):
    form = EvseForm
    inlines = [ConnectorInline]
    list_display = ["uid", "evse_id", "status", "location", evse_updated]
    list_filter = [EvseStatusFilter, LocationCpoFilter, TariffFilter]
    list_select_related = ["location"]
    search_fields = ["uid", "evse_id", "location__ocpi_id", "location__name"]
    readonly_fields = ["updated"]
    updated = evse_updated  # in its location's zone, as the list shows it
    actions = ["set_status"]
    ordering = ["pk"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        immutable = ["location", "uid"] if obj is not None else []
        return [*immutable, *self.readonly_fields]

    def get_formset_kwargs(
        self, request: HttpRequest, obj: EVSE, inline: Any, prefix: str
    ) -> dict[str, Any]:
        """Connector forms offer the tariffs of the location's party (ConnectorForm)."""
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        kwargs["form_kwargs"] = {"party": _location_party(request, obj)}
        return kwargs

    def save_model(self, request: HttpRequest, obj: EVSE, form: Any, change: bool) -> None:
        """Saved in save_related, together with its connectors, through the service."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:
            formset.save(commit=False)  # fills new/changed_objects for the change message
        data = {**form.ocpi_data, "connectors": _connector_rows(formsets)}
        location = form.instance.location
        evse = services.evse_upsert(location=location, data=data)
        form.instance.pk = evse.pk

    @admin.action(description="Set status…")
    def set_status(self, request: HttpRequest, queryset: QuerySet[EVSE]) -> HttpResponse | None:
        form = SetStatusForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            changed = 0
            for evse in queryset:
                try:
                    services.evse_set_status(evse=evse, status=form.cleaned_data["status"])
                    changed += 1
                except ValidationError as exc:
                    self.message_user(request, f"{evse}: {exc.messages[0]}", messages.ERROR)
            self.message_user(request, f"Status of {changed} EVSEs set.")
            return None
        return admin_page(
            self,
            request,
            "admin/locations/evse/set_status.html",
            title="Set the status of EVSEs",
            evses=queryset,
            form=form,
        )


def _connector_rows(formsets: Any) -> list[dict[str, Any]]:
    """Every connector row's validated data (new, changed and unchanged): a full EVSE PUT."""
    return [
        form.ocpi_data
        for formset in formsets
        for form in formset.forms
        if form.ocpi_data is not None
    ]
