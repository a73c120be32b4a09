"""A functional-module view for testing routing, mounted only in these tests."""

from rest_framework.request import Request
from rest_framework.response import Response

from credentials.routing import FunctionalModuleApi
from ocpi.responses import ocpi_response
from ocpi.versioning import ocpi_path


class EchoRouteApi(FunctionalModuleApi):
    def get(self, request: Request) -> Response:
        route = self.route
        return ocpi_response(
            {
                "sender": str(route.sender) if route.sender else None,
                "receiver": route.receiver.party_id if route.receiver else None,
            }
        )


urlpatterns = [ocpi_path(r"ocpi/cpo/2\.2\.1/echo", EchoRouteApi.as_view(), name="echo")]
