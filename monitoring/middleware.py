"""Counts OCPI requests by module and HTTP status for /metrics (monitoring.metrics)."""

from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from monitoring.metrics import count_request
from ocpi.middleware import is_ocpi_path


class OcpiRequestMetricsMiddleware:
    """Outside ocpi.middleware.OcpiMiddleware, so it counts the status partners received,
    refusals and crashes turned into envelopes included. A path test and a counter
    increment per request: nothing for pages outside /ocpi/."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if is_ocpi_path(request.path):
            count_request(request.path, response.status_code)
        return response
