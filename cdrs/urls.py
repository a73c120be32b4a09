from cdrs.views import CdrSenderListApi
from ocpi.versioning import ocpi_path

urlpatterns = [
    ocpi_path(r"ocpi/cpo/2\.2\.1/cdrs", CdrSenderListApi.as_view(), name="cdrs-sender"),
]
