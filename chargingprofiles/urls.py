"""OCPI routes of the chargingprofiles module: the Receiver interface of our CPO parties."""

from chargingprofiles.views import ChargingProfileReceiverApi
from ocpi.versioning import ocpi_path

BASE = r"ocpi/cpo/2\.2\.1/chargingprofiles"
ID = r"[^/]{1,36}"  # string(36); longer ids match no URL and answer the 404 envelope

urlpatterns = [
    ocpi_path(
        rf"{BASE}/(?P<session_id>{ID})",
        ChargingProfileReceiverApi.as_view(),
        name="chargingprofiles-receiver",
    ),
]
