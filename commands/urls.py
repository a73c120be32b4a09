"""OCPI routes of the commands module: the Receiver interface of our CPO parties."""

from commands.models import CommandType
from commands.views import CommandApi
from ocpi.versioning import ocpi_path

BASE = r"ocpi/cpo/2\.2\.1/commands"
# Only the CommandType values: any other name answers the 404 envelope (ocpi.urls).
COMMAND = "|".join(CommandType.values)

urlpatterns = [
    ocpi_path(rf"{BASE}/(?P<command>{COMMAND})", CommandApi.as_view(), name="commands"),
]
