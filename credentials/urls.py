from credentials.views import CredentialsApi
from ocpi.versioning import ocpi_path

urlpatterns = [
    ocpi_path(r"ocpi/2\.2\.1/credentials", CredentialsApi.as_view(), name="ocpi-credentials"),
]
