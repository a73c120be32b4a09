"""The CDRs Sender interface (mod_cdrs.asciidoc, Sender Interface): GET list only.

POST, PUT, PATCH and DELETE are n/a on the Sender interface; APIView answers them with 405,
in the envelope like every other error. The list holds only CDRs of the calling eMSP's own
tokens: of the party named in `OCPI-from-*`, else of every party of the calling platform.
With `OCPI-to-*` it holds the CDRs of that CPO party of ours only.
"""

from collections.abc import Sequence
from typing import Any

from django.db.models import Model
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from cdrs.openapi import CDR
from cdrs.selectors import cdr_list
from cdrs.serializers import CdrSerializer
from credentials.routing import FunctionalModuleApi
from credentials.selectors import local_parties
from ocpi.openapi import ocpi_schema
from ocpi.pagination import paginated_response
from ocpi.routing import PartyRef

PAGE_PARAMETERS = [
    OpenApiParameter("date_from", str, description="last_updated ≥ this DateTime (UTC)."),
    OpenApiParameter("date_to", str, description="last_updated < this DateTime (UTC)."),
    OpenApiParameter("offset", int, description="Index of the first object. Default 0."),
    OpenApiParameter("limit", int, description="Page size, capped at X-Limit."),
]


def render_cdrs(cdrs: Sequence[Model]) -> list[Any]:
    return list(CdrSerializer(cdrs, many=True).data)


class CdrSenderListApi(FunctionalModuleApi):
    @ocpi_schema(
        operation_id="cdrs_sender_list",
        summary="CDRs of the caller's tokens, paginated, optionally created in "
        "[date_from, date_to)",
        data=CDR,
        many=True,
        functional=True,
        extra_parameters=PAGE_PARAMETERS,
    )
    def get(self, request: Request) -> Response:
        route = self.route
        owners = [route.receiver] if route.receiver is not None else local_parties()
        callers = [route.sender] if route.sender is not None else list(route.partner.roles.all())
        return paginated_response(
            request,
            cdr_list(
                owners=[PartyRef.of(p.country_code, p.party_id) for p in owners],
                token_parties=[PartyRef.of(p.country_code, p.party_id) for p in callers],
            ),
            render_cdrs,
        )
