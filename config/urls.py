from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz
from ocpi.urls import catch_all

urlpatterns = [
    path("", include("ocpi.urls")),
    path("", include("credentials.urls")),
    path("", include("locations.urls")),
    path("", include("tariffs.urls")),
    path("", include("tokens.urls")),
    path("", include("sessions.urls")),
    path("", include("cdrs.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    *catch_all,
]
