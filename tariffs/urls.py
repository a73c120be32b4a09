from ocpi.versioning import ocpi_path
from tariffs.views import TariffSenderListApi

urlpatterns = [
    ocpi_path(r"ocpi/cpo/2\.2\.1/tariffs", TariffSenderListApi.as_view(), name="tariffs-sender"),
]
