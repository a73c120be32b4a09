"""Views a module app would write, built only from the core's parts."""

import io
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ocpi import exceptions
from ocpi.context import current_correlation_id, current_request_id
from ocpi.fields import CiStringField, DateTimeField, NumberField, StringField, UrlField
from ocpi.pagination import paginated_response, paginated_rows
from ocpi.responses import ocpi_response
from ocpi.routing import parse_routing_headers
from tests.ocpi.testapp.models import Item


def render_items(items: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"id": item.ocpi_id, "last_updated": item.last_updated} for item in items]


class ItemListApi(APIView):
    """A Sender list GET: the default permission (registered partners only) and paging."""

    def get(self, request: Request) -> Response:
        return paginated_response(request, Item.objects.all(), render_items)


class ItemRow(NamedTuple):
    pk: int
    ocpi_id: str
    last_updated: datetime


# How often ItemRowsApi built its QuerySet (tests/ocpi/test_pagination_rows.py).
built: list[int] = []


def item_rows() -> QuerySet[Any]:
    built.append(1)
    return Item.objects.values_list("pk", "ocpi_id", "last_updated", named=True)


class ItemRowsApi(APIView):
    """The same list as ItemListApi, compiled once per process (paginated_rows)."""

    def get(self, request: Request) -> Response:
        return paginated_rows(request, item_rows, {}, ItemRow, render_items, count_cache="items")


def chosen_item_rows(*, ids: list[str]) -> QuerySet[Any]:
    return item_rows().filter(ocpi_id__in=ids)


class ChosenItemRowsApi(APIView):
    """A list scoped per request (the items named by `?only=`), as a partner's list is."""

    def get(self, request: Request) -> Response:
        ids = request.query_params["only"].split(",")
        return paginated_rows(
            request, chosen_item_rows, {"ids": ids}, ItemRow, render_items, count_cache="items"
        )


class EchoSerializer(serializers.Serializer[Any]):
    id = CiStringField(max_length=36)
    name = StringField(max_length=20, required=False)
    website = UrlField(required=False)
    kwh = NumberField()
    last_updated = DateTimeField()


class EchoApi(APIView):
    """A functional module: routing headers read, body validated, values echoed back."""

    def get(self, request: Request) -> Response:
        ids = {
            "request_id": current_request_id.get(),
            "correlation_id": current_correlation_id.get(),
        }
        routing = parse_routing_headers(request)
        if routing is None:
            return ocpi_response({"routing": None, **ids})
        return ocpi_response(
            {"routing": routing.as_headers(), **ids}, headers=routing.reply().as_headers()
        )

    def post(self, request: Request) -> Response:
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return ocpi_response(serializer.validated_data)


class CrashApi(APIView):
    """A bug in a view: nothing but the middleware can answer."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise RuntimeError("a bug")


OCPI_ERRORS: dict[str, type[exceptions.OcpiError]] = {
    error.__name__: error
    for error in (
        exceptions.OcpiError,
        exceptions.InvalidParameters,
        exceptions.NotEnoughInformation,
        exceptions.UnknownLocation,
        exceptions.UnknownToken,
        exceptions.ServerError,
        exceptions.ClientApiUnusable,
        exceptions.UnsupportedVersion,
        exceptions.NoMatchingEndpoints,
        exceptions.NotFound,
        exceptions.MethodNotAllowed,
    )
}


class RaiseApi(APIView):
    """Raise the OcpiError named in the URL; `?data=1` attaches debug data."""

    permission_classes = [AllowAny]

    def get(self, request: Request, name: str) -> Response:
        data = {"hint": "debug"} if request.query_params.get("data") else None
        raise OCPI_ERRORS[name](data=data)


class ThreadApi(APIView):
    """Which thread ran the view (tests/ocpi/test_asgi.py)."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return ocpi_response({"thread": threading.get_ident()})


def streamed_file(request: HttpRequest) -> FileResponse:
    """A streaming response, as whitenoise answers for a static file."""
    return FileResponse(io.BytesIO(b'{"streamed": true}'), content_type="application/json")
