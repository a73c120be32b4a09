"""The project's URLconf with the test views in front of the /ocpi/ catch-all."""

from config.urls import urlpatterns as project_urlpatterns
from ocpi.versioning import ocpi_path
from tests.ocpi.testapp import views

urlpatterns = [
    ocpi_path(r"ocpi/cpo/2\.2\.1/testitems", views.ItemListApi.as_view(), name="test-items"),
    ocpi_path(r"ocpi/cpo/2\.2\.1/testrows", views.ItemRowsApi.as_view(), name="test-rows"),
    ocpi_path(
        r"ocpi/cpo/2\.2\.1/testchosen", views.ChosenItemRowsApi.as_view(), name="test-chosen"
    ),
    ocpi_path(r"ocpi/cpo/2\.2\.1/testecho", views.EchoApi.as_view(), name="test-echo"),
    ocpi_path(r"ocpi/test/crash", views.CrashApi.as_view(), name="test-crash"),
    ocpi_path(r"ocpi/test/thread", views.ThreadApi.as_view(), name="test-thread"),
    ocpi_path(r"ocpi/test/stream", views.streamed_file, name="test-stream"),
    ocpi_path(r"ocpi/test/raise/(?P<name>\w+)", views.RaiseApi.as_view(), name="test-raise"),
    *project_urlpatterns,
]
