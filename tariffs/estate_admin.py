"""The tariffs' CSV pages (ocpi.estate_admin), mixed into TariffAdmin and linked from its
change list's tools."""

from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import URLPattern, path, reverse

from ocpi.estate_admin import export_view, import_view
from tariffs.estate_csv import TARIFF_COLUMNS, TARIFFS, plan_tariff_import, tariff_rows

IMPORT_PERMISSIONS = ["tariffs.add_tariff", "tariffs.change_tariff"]


class TariffCsvMixin:
    """`export/` (the shown tariffs) and `import/`."""

    def get_urls(self) -> list[URLPattern]:
        site: Any = self.admin_site  # type: ignore[attr-defined]
        return [
            path("import/", site.admin_view(self.import_tariffs), name="tariffs_tariff_import"),
            path("export/", site.admin_view(self.export_tariffs), name="tariffs_tariff_export"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def export_tariffs(self, request: HttpRequest) -> StreamingHttpResponse:
        return export_view(
            self,  # type: ignore[arg-type]
            request,
            filename="tariffs.csv",
            columns=TARIFF_COLUMNS,
            rows=tariff_rows,
        )

    def import_tariffs(self, request: HttpRequest) -> HttpResponse:
        return import_view(
            self,  # type: ignore[arg-type]
            request,
            title="Import tariffs (CSV)",
            files=[(TARIFFS, "Tariffs")],
            plan=plan_tariff_import,
            permissions=IMPORT_PERMISSIONS,
            done_url=reverse("admin:tariffs_tariff_changelist"),
        )
