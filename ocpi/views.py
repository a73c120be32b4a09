"""Versions module (version_information_endpoint.asciidoc): the versions list and details.

Both are open to every known token, token A included: a partner needs them to register.
"""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ocpi import endpoints
from ocpi.enums import SUPPORTED_VERSION
from ocpi.exceptions import NotFound
from ocpi.openapi import ocpi_schema
from ocpi.permissions import IsKnownCaller
from ocpi.responses import ocpi_response
from ocpi.routing import refuse_routing_headers
from ocpi.versioning import version_details_url


class ConfigurationModuleApi(APIView):
    """Base for configuration modules: any known token, and no routing headers."""

    permission_classes = [IsKnownCaller]
    module_name = "versions"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        refuse_routing_headers(request, self.module_name)


class VersionListApi(ConfigurationModuleApi):
    @ocpi_schema(
        operation_id="versions_list",
        summary="Versions this platform supports",
        many=True,
        data={
            "type": "object",
            "properties": {"version": {"type": "string"}, "url": {"type": "string"}},
        },
    )
    def get(self, request: Request) -> Response:
        return ocpi_response([{"version": SUPPORTED_VERSION.value, "url": version_details_url()}])


class VersionDetailApi(ConfigurationModuleApi):
    @ocpi_schema(
        operation_id="version_details",
        summary="Endpoints of OCPI 2.2.1 on this platform",
        data={
            "type": "object",
            "properties": {
                "version": {"type": "string"},
                "endpoints": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "identifier": {"type": "string"},
                            "role": {"type": "string", "enum": ["SENDER", "RECEIVER"]},
                            "url": {"type": "string"},
                        },
                    },
                },
            },
        },
    )
    def get(self, request: Request) -> Response:
        return ocpi_response(
            {
                "version": SUPPORTED_VERSION.value,
                "endpoints": [
                    {"identifier": e.identifier, "role": e.role.value, "url": e.url}
                    for e in endpoints.registered()
                ],
            }
        )


class UnknownOcpiPathApi(APIView):
    """Any other URL under /ocpi/: 404 in the envelope, after authentication like the rest."""

    permission_classes = [IsKnownCaller]
    schema = None

    def _not_found(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise NotFound("No OCPI endpoint at this URL")

    get = post = put = patch = delete = options = _not_found
