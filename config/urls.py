from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.health import healthz
from config.landing import landing
from ocpi.urls import catch_all

urlpatterns = [
    path("", landing, name="landing"),
    path("", include("ocpi.urls")),
    path("", include("credentials.urls")),
    path("", include("locations.urls")),
    path("", include("tariffs.urls")),
    path("", include("tokens.urls")),
    path("", include("sessions.urls")),
    path("", include("cdrs.urls")),
    path("", include("commands.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start script as a file of its own, not inline: the CSP runs no inline script.
    # Its page carries one inline <style> block, which the policy lets through there only.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    path("healthz", healthz, name="healthz"),
    path("", include("monitoring.urls")),
    *catch_all,
]
