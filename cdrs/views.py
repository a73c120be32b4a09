"""The CDRs Sender interface (mod_cdrs.asciidoc, Sender Interface): GET list only.

POST, PUT, PATCH and DELETE are n/a on the Sender interface; APIView answers them with 405,
in the envelope like every other error. The list holds only CDRs of the calling eMSP's own
tokens (credentials.access): of the eMSP named in `OCPI-from-*`, else of every eMSP party of
the calling platform; other roles of that party see none.
With `OCPI-to-*` it holds the CDRs of that CPO party of ours only.
"""

from collections.abc import Sequence
from typing import Any

from django.db.models import Model
from rest_framework.request import Request
from rest_framework.response import Response

from cdrs.openapi import CDR
from cdrs.selectors import cdr_list
from cdrs.serializers import CdrSerializer
from credentials.routing import FunctionalModuleApi
from ocpi.openapi import ocpi_schema, page_parameters
from ocpi.pagination import paginated_response


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
        extra_parameters=page_parameters(),
    )
    def get(self, request: Request) -> Response:
        route = self.route
        cdrs = cdr_list(owners=route.receiver_parties(), token_parties=route.emsp_parties())
        return paginated_response(request, cdrs, render_cdrs)
