from locations.views import (
    ConnectorSenderApi,
    EvseSenderApi,
    LocationSenderApi,
    LocationSenderListApi,
)
from ocpi.versioning import ocpi_path

BASE = r"ocpi/cpo/2\.2\.1/locations"
ID = r"[^/]{1,36}"  # CiString(36); longer ids match no URL and answer the 404 envelope

urlpatterns = [
    ocpi_path(BASE, LocationSenderListApi.as_view(), name="locations-sender-list"),
    ocpi_path(
        rf"{BASE}/(?P<location_id>{ID})", LocationSenderApi.as_view(), name="locations-sender"
    ),
    ocpi_path(
        rf"{BASE}/(?P<location_id>{ID})/(?P<evse_uid>{ID})",
        EvseSenderApi.as_view(),
        name="locations-sender-evse",
    ),
    ocpi_path(
        rf"{BASE}/(?P<location_id>{ID})/(?P<evse_uid>{ID})/(?P<connector_id>{ID})",
        ConnectorSenderApi.as_view(),
        name="locations-sender-connector",
    ),
]
