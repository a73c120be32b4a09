from django.urls import URLPattern, re_path

from ocpi.versioning import ocpi_path
from ocpi.views import UnknownOcpiPathApi, VersionDetailApi, VersionListApi

urlpatterns = [
    ocpi_path(r"ocpi/versions", VersionListApi.as_view(), name="ocpi-versions"),
    ocpi_path(r"ocpi/2\.2\.1", VersionDetailApi.as_view(), name="ocpi-version-details"),
]

# Must come last in the root URLconf: answers every other /ocpi/ URL with a 404 envelope.
catch_all: list[URLPattern] = [
    re_path(r"^ocpi(/.*)?$", UnknownOcpiPathApi.as_view(), name="ocpi-unknown"),
]
