from ocpi.versioning import ocpi_path
from tokens.views import TokenReceiverApi

BASE = r"ocpi/cpo/2\.2\.1/tokens"
# CiString(2), CiString(3), CiString(36): anything longer matches no URL (the 404 envelope).
OBJECT = r"(?P<country_code>[^/]{1,2})/(?P<party_id>[^/]{1,3})/(?P<token_uid>[^/]{1,36})"

urlpatterns = [
    ocpi_path(rf"{BASE}/{OBJECT}", TokenReceiverApi.as_view(), name="tokens-receiver"),
]
