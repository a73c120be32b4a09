"""OCPI routes of the sessions module: the Sender interface of our CPO parties."""

from ocpi.versioning import ocpi_path
from sessions.views import ChargingPreferencesApi, SessionSenderListApi

BASE = r"ocpi/cpo/2\.2\.1/sessions"
ID = r"[^/]{1,36}"  # CiString(36); longer ids match no URL and answer the 404 envelope

urlpatterns = [
    ocpi_path(BASE, SessionSenderListApi.as_view(), name="sessions-sender-list"),
    ocpi_path(
        rf"{BASE}/(?P<session_id>{ID})/charging_preferences",
        ChargingPreferencesApi.as_view(),
        name="sessions-charging-preferences",
    ),
]
