"""Cross-cutting handling of every request under /ocpi/.

- X-Request-ID and X-Correlation-ID: echoed when sent, generated when not.
- A URL under /ocpi/ that matches nothing, or any crash, still answers with the envelope.
- A request the ASGI handler refused before reading it (ocpi.limits) is answered here, with
  the envelope under /ocpi/, without reaching a view.
"""

import logging
import re
from collections.abc import Callable

from csp.middleware import CSPMiddleware
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from ocpi.context import current_correlation_id, current_request_id, new_id
from ocpi.json import dumps
from ocpi.limits import REFUSAL_ATTRIBUTE, Refusal
from ocpi.responses import envelope
from ocpi.status import OcpiStatus

logger = logging.getLogger(__name__)

OCPI_PREFIX = "/ocpi/"
REQUEST_ID = "X-Request-ID"
CORRELATION_ID = "X-Correlation-ID"
# Ids are echoed into our response headers and logs: keep them short and printable.
_SAFE_ID = re.compile(r"^[\x21-\x7e]{1,255}$")


def is_ocpi_path(path: str) -> bool:
    return path.startswith(OCPI_PREFIX) or path == OCPI_PREFIX.rstrip("/")


def envelope_response(status_code: int, message: str, http_status: int) -> HttpResponse:
    return HttpResponse(
        dumps(envelope(status_code, message=message)),
        status=http_status,
        content_type="application/json",
    )


def _incoming_id(request: HttpRequest, header: str) -> str | None:
    value = request.headers.get(header, "").strip()
    return value if _SAFE_ID.match(value) else None


class OcpiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal: Refusal | None = getattr(request, REFUSAL_ATTRIBUTE, None)
        if not is_ocpi_path(request.path):
            if refusal is not None:
                return HttpResponse(
                    refusal.message, status=refusal.http_status, content_type="text/plain"
                )
            return self.get_response(request)
        request_id = _incoming_id(request, REQUEST_ID) or new_id()
        correlation_id = _incoming_id(request, CORRELATION_ID) or new_id()
        request_token = current_request_id.set(request_id)
        correlation_token = current_correlation_id.set(correlation_id)
        try:
            if refusal is not None:
                response = envelope_response(
                    refusal.status_code, refusal.message, refusal.http_status
                )
            else:
                response = self.get_response(request)
        finally:
            current_request_id.reset(request_token)
            current_correlation_id.reset(correlation_token)
        if not response.get("Content-Type", "").startswith("application/json"):
            # A safety net: something outside DRF answered (one of Django's own error pages).
            response = envelope_response(
                OcpiStatus.SERVER_ERROR if response.status_code >= 500 else OcpiStatus.CLIENT_ERROR,
                _reason(response.status_code),
                response.status_code,
            )
        response[REQUEST_ID] = request_id
        response[CORRELATION_ID] = correlation_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_ocpi_path(request.path):
            return None
        logger.error(
            "Unhandled error on %s %s",
            request.method,
            request.path,
            extra={"request_id": current_request_id.get()},
            exc_info=exception,
        )
        # A crash never reached an OCPI answer: HTTP 500 tells partners' retry logic so.
        return envelope_response(OcpiStatus.SERVER_ERROR, "Internal server error", 500)


def _reason(http_status: int) -> str:
    return {
        400: "Bad request",
        401: "Unauthorized",
        404: "Not found",
        405: "Method not allowed",
    }.get(http_status, "Server error" if http_status >= 500 else "Client error")


class BrowserPagesCSPMiddleware(CSPMiddleware):
    """django-csp's middleware for the pages a browser shows, skipped under /ocpi/.

    OCPI answers are JSON for partners' platforms, which no policy protects (settings:
    CONTENT_SECURITY_POLICY excludes /ocpi/). django-csp builds both of its policies for
    every response before it looks at that exclusion, a cost on every OCPI request
    (bench/RESULTS.md, "Issue 11: before / after"); this answers those without building any.
    Overrides process_response, the middleware's public hook, nothing internal.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if is_ocpi_path(request.path_info):
            return response
        return super().process_response(request, response)
