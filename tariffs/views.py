"""The Tariffs Sender interface (mod_tariffs.asciidoc, Sender Interface): GET list only.

POST, PUT, PATCH and DELETE are n/a on the Sender interface; APIView answers them with
405, in the envelope like every other error.
"""

from collections.abc import Sequence
from typing import Any

from django.db.models import Model
from rest_framework.request import Request
from rest_framework.response import Response

from credentials.routing import FunctionalModuleApi
from ocpi.openapi import ocpi_schema, page_parameters
from ocpi.pagination import paginated_response
from tariffs.selectors import tariff_list
from tariffs.serializers import TariffSerializer

TARIFF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Tariff (mod_tariffs.asciidoc, Tariff object).",
    "required": ["country_code", "party_id", "id", "currency", "elements", "last_updated"],
    "properties": {
        "country_code": {"type": "string", "maxLength": 2},
        "party_id": {"type": "string", "maxLength": 3},
        "id": {"type": "string", "maxLength": 36},
        "currency": {"type": "string", "maxLength": 3},
        "type": {"type": "string"},
        "tariff_alt_text": {"type": "array", "items": {"type": "object"}},
        "tariff_alt_url": {"type": "string", "maxLength": 255},
        "min_price": {"type": "object"},
        "max_price": {"type": "object"},
        "elements": {"type": "array", "items": {"type": "object"}, "minItems": 1},
        "start_date_time": {"type": "string", "format": "date-time"},
        "end_date_time": {"type": "string", "format": "date-time"},
        "energy_mix": {"type": "object"},
        "last_updated": {"type": "string", "format": "date-time"},
    },
}


def render_tariffs(tariffs: Sequence[Model]) -> list[Any]:
    return list(TariffSerializer(tariffs, many=True).data)


class TariffSenderListApi(FunctionalModuleApi):
    @ocpi_schema(
        operation_id="tariffs_sender_list",
        summary="Our tariffs, paginated, optionally last updated in [date_from, date_to)",
        data=TARIFF_SCHEMA,
        many=True,
        functional=True,
        extra_parameters=page_parameters(),
    )
    def get(self, request: Request) -> Response:
        tariffs = tariff_list(parties=self.route.receiver_parties())
        return paginated_response(request, tariffs, render_tariffs)
