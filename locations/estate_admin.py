"""The estate's CSV pages on the location and EVSE change lists (ocpi.estate_admin):
mixed into LocationAdmin and EvseAdmin, linked from their change lists' tools."""

from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import URLPattern, path, reverse

from locations.estate_csv import (
    CONNECTOR_COLUMNS,
    CONNECTORS,
    EVSE_COLUMNS,
    EVSES,
    LOCATION_COLUMNS,
    LOCATIONS,
    connector_rows,
    evse_rows,
    location_rows,
)
from locations.estate_import import plan_estate_import
from ocpi.estate_admin import export_view, import_view

IMPORT_PERMISSIONS = [
    f"locations.{action}_{model}"
    for model in ("location", "evse", "connector")
    for action in ("add", "change")
]


class LocationCsvMixin:
    """`export/` (the shown locations) and `import/` (locations, EVSEs, connectors)."""

    def get_urls(self) -> list[URLPattern]:
        site: Any = self.admin_site  # type: ignore[attr-defined]
        return [
            path("import/", site.admin_view(self.import_estate), name="locations_estate_import"),
            path(
                "export/",
                site.admin_view(self.export_locations),
                name="locations_location_export",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def export_locations(self, request: HttpRequest) -> StreamingHttpResponse:
        return export_view(
            self,  # type: ignore[arg-type]
            request,
            filename="locations.csv",
            columns=LOCATION_COLUMNS,
            rows=location_rows,
        )

    def import_estate(self, request: HttpRequest) -> HttpResponse:
        return import_view(
            self,  # type: ignore[arg-type]
            request,
            title="Import locations, EVSEs and connectors (CSV)",
            files=[(LOCATIONS, "Locations"), (EVSES, "EVSEs"), (CONNECTORS, "Connectors")],
            plan=plan_estate_import,
            permissions=IMPORT_PERMISSIONS,
            done_url=reverse("admin:locations_location_changelist"),
        )


class EvseCsvMixin:
    """`export/` (the shown EVSEs) and `export/connectors/` (their connectors)."""

    def get_urls(self) -> list[URLPattern]:
        site: Any = self.admin_site  # type: ignore[attr-defined]
        return [
            path("export/", site.admin_view(self.export_evses), name="locations_evse_export"),
            path(
                "export/connectors/",
                site.admin_view(self.export_connectors),
                name="locations_connector_export",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def export_evses(self, request: HttpRequest) -> StreamingHttpResponse:
        return export_view(
            self,  # type: ignore[arg-type]
            request,
            filename="evses.csv",
            columns=EVSE_COLUMNS,
            rows=evse_rows,
        )

    def export_connectors(self, request: HttpRequest) -> StreamingHttpResponse:
        return export_view(
            self,  # type: ignore[arg-type]
            request,
            filename="connectors.csv",
            columns=CONNECTOR_COLUMNS,
            rows=connector_rows,
        )
