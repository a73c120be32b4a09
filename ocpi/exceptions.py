"""Errors that become OCPI envelopes, and the one place that turns exceptions into them.

HTTP error statuses are for what never reached the OCPI layer (status_codes.asciidoc):
invalid JSON (400), authentication (401), a resource or URL that does not exist (404), a
method the URL does not have (405). Everything else is HTTP 200 with an OCPI 2xxx/3xxx code.
"""

import logging
from typing import Any

from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from ocpi.responses import ocpi_response
from ocpi.status import OcpiStatus

logger = logging.getLogger(__name__)


class OcpiError(Exception):
    """An answer other than success, with its OCPI status code and HTTP status."""

    status_code: int = OcpiStatus.CLIENT_ERROR
    http_status: int = 200
    default_message = "Client error"

    def __init__(self, message: str | None = None, *, data: Any = None) -> None:
        self.message = message or self.default_message
        self.data = data
        super().__init__(self.message)


class InvalidParameters(OcpiError):
    status_code = OcpiStatus.INVALID_PARAMETERS
    default_message = "Invalid or missing parameters"


class JsonTooDeep(OcpiError):
    """Valid JSON nested deeper than any OCPI object: refused before the parser recurses.

    HTTP 400 like invalid JSON (status_codes.asciidoc: it never became a JSON structure for
    the OCPI layer), with 2001 to say which limit it broke.
    """

    status_code = OcpiStatus.INVALID_PARAMETERS
    http_status = 400
    default_message = "Request body is nested too deep"


class BodyTooLarge(OcpiError):
    """A body over OCPI_MAX_BODY_BYTES: HTTP 413 Content Too Large (RFC 9110 §15.5.14)."""

    http_status = 413
    default_message = "Request body is too large"


class NotEnoughInformation(OcpiError):
    status_code = OcpiStatus.NOT_ENOUGH_INFORMATION
    default_message = "Not enough information"


class UnknownLocation(OcpiError):
    status_code = OcpiStatus.UNKNOWN_LOCATION
    default_message = "Unknown Location"


class UnknownToken(OcpiError):
    status_code = OcpiStatus.UNKNOWN_TOKEN
    default_message = "Unknown Token"


class ServerError(OcpiError):
    status_code = OcpiStatus.SERVER_ERROR
    default_message = "Server error"


class ClientApiUnusable(OcpiError):
    status_code = OcpiStatus.CLIENT_API_UNUSABLE
    default_message = "Unable to use the client's API"


class UnsupportedVersion(OcpiError):
    status_code = OcpiStatus.UNSUPPORTED_VERSION
    default_message = "Unsupported version"


class NoMatchingEndpoints(OcpiError):
    status_code = OcpiStatus.NO_MATCHING_ENDPOINTS
    default_message = "No matching endpoints or expected endpoints missing"


class NotFound(OcpiError):
    """A GET of an object that does not exist: HTTP 404 (status_codes.asciidoc)."""

    http_status = 404
    default_message = "Not found"


class MethodNotAllowed(OcpiError):
    """Credentials misuse (POST when registered, PUT/DELETE when not): HTTP 405."""

    http_status = 405
    default_message = "Method not allowed"


def _validation_message(detail: Any, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        return [
            line
            for key, value in detail.items()
            for line in _validation_message(
                value, f"{prefix}{key}." if key != "non_field_errors" else prefix
            )
        ]
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [f"{prefix.rstrip('.') or 'body'}: {item}" for item in detail]
        return [
            line
            for index, item in enumerate(detail)
            for line in _validation_message(item, f"{prefix}{index}.")
            if item
        ]
    return [f"{prefix.rstrip('.') or 'body'}: {detail}"]


def validation_message(detail: Any) -> str:
    """Flatten DRF validation errors into one line a partner's developer can act on."""
    return "; ".join(_validation_message(detail))


def ocpi_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: no `{"detail": …}` body ever leaves an OCPI endpoint."""
    if isinstance(exc, OcpiError):
        if exc.data is None:
            return ocpi_response(
                status_code=exc.status_code, message=exc.message, http_status=exc.http_status
            )
        return ocpi_response(
            exc.data, status_code=exc.status_code, message=exc.message, http_status=exc.http_status
        )
    if isinstance(exc, drf_exceptions.ValidationError):
        return ocpi_response(
            status_code=OcpiStatus.INVALID_PARAMETERS, message=validation_message(exc.detail)
        )
    if isinstance(exc, drf_exceptions.ParseError):
        return ocpi_response(
            status_code=OcpiStatus.CLIENT_ERROR, message=str(exc.detail), http_status=400
        )
    if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        return ocpi_response(
            status_code=OcpiStatus.CLIENT_ERROR,
            message=str(exc.detail),
            http_status=401,
            headers={"WWW-Authenticate": "Token"},
        )
    if isinstance(exc, drf_exceptions.PermissionDenied):
        # An authenticated caller without the right (token A on a module): the spec's 401.
        return ocpi_response(
            status_code=OcpiStatus.CLIENT_ERROR,
            message=str(exc.detail),
            http_status=401,
            headers={"WWW-Authenticate": "Token"},
        )
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return ocpi_response(
            status_code=OcpiStatus.CLIENT_ERROR, message=str(exc.detail), http_status=405
        )
    if isinstance(exc, Http404 | drf_exceptions.NotFound):
        return ocpi_response(
            status_code=OcpiStatus.CLIENT_ERROR, message="Not found", http_status=404
        )
    if isinstance(exc, drf_exceptions.UnsupportedMediaType | drf_exceptions.NotAcceptable):
        return ocpi_response(
            status_code=OcpiStatus.CLIENT_ERROR,
            message=str(exc.detail),
            http_status=exc.status_code,
        )
    if isinstance(exc, drf_exceptions.Throttled):
        return ocpi_response(
            status_code=OcpiStatus.CLIENT_ERROR, message=str(exc.detail), http_status=429
        )
    if isinstance(exc, drf_exceptions.APIException):
        return ocpi_response(
            status_code=OcpiStatus.SERVER_ERROR,
            message=str(exc.detail),
            http_status=exc.status_code,
        )
    return None  # Unexpected: the middleware answers with a 3000 envelope and logs it.
