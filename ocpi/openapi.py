"""OpenAPI description of OCPI endpoints: every answer is the envelope around its data."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

# Schemas of the OCPI types (types.asciidoc) that the module apps' object schemas are made of.
DATETIME = {"type": "string", "format": "date-time", "example": "2026-01-01T12:00:00Z"}
PRICE = {
    "type": "object",
    "properties": {"excl_vat": {"type": "number"}, "incl_vat": {"type": "number"}},
    "required": ["excl_vat"],
}


def string_schema(max_length: int, **extra: Any) -> dict[str, Any]:
    """string(n) or CiString(n)."""
    return {"type": "string", "maxLength": max_length, **extra}


ENVELOPE_DESCRIPTION = (
    "OCPI response envelope. status_code 1000 is success; 2xxx client errors (2001 invalid "
    "or missing parameters); 3xxx server errors (3001 client API unusable, 3002 unsupported "
    "version, 3003 no matching endpoints); 4xxx hub errors. timestamp is UTC with Z."
)


def _envelope(data: dict[str, Any] | None, many: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "status_code": {"type": "integer", "example": 1000},
        "status_message": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time", "example": "2026-01-01T12:00:00Z"},
    }
    if data is not None:
        properties = {"data": {"type": "array", "items": data} if many else data, **properties}
    return {"type": "object", "properties": properties, "required": ["status_code", "timestamp"]}


def _header(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, str, OpenApiParameter.HEADER, required=False, description=description
    )


TRACE_HEADERS = [
    _header(
        "X-Request-ID", "Unique id of this request; echoed in the response (made when absent)."
    ),
    _header("X-Correlation-ID", "Id shared by one exchange's requests; echoed in the response."),
]
ROUTING_HEADERS = [
    _header("OCPI-from-country-code", "Country code of the requesting party."),
    _header("OCPI-from-party-id", "Party id of the requesting party."),
    _header("OCPI-to-country-code", "Country code of the receiving party."),
    _header("OCPI-to-party-id", "Party id of the receiving party."),
]


def page_parameters(*, date_from_required: bool = False) -> list[OpenApiParameter]:
    """The query of every paginated Sender list (transport_and_format.asciidoc, Pagination).

    Sessions make date_from required (mod_sessions, its Request Parameters table).
    """
    date_from = "last_updated ≥ date_from (UTC)" + (". Required." if date_from_required else "")
    return [
        OpenApiParameter("date_from", str, required=date_from_required, description=date_from),
        OpenApiParameter("date_to", str, description="last_updated < date_to (UTC)"),
        OpenApiParameter("offset", int, description="Index of the first object (default 0)"),
        OpenApiParameter("limit", int, description="Page size, capped by the server (X-Limit)"),
    ]


def ocpi_schema(
    *,
    operation_id: str,
    summary: str,
    data: dict[str, Any] | None = None,
    many: bool = False,
    request: Any = None,
    functional: bool = False,
    extra_parameters: list[OpenApiParameter] | None = None,
) -> Callable[[Any], Any]:
    """extend_schema for an OCPI endpoint: the envelope, its errors and the OCPI headers.

    `functional` adds the routing headers, which configuration modules must not carry.
    """
    error = _envelope(None, False)
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        request=request,
        parameters=TRACE_HEADERS
        + (ROUTING_HEADERS if functional else [])
        + (extra_parameters or []),
        responses={
            200: OpenApiResponse(response=_envelope(data, many), description=ENVELOPE_DESCRIPTION),
            400: OpenApiResponse(response=error, description="The body is not valid JSON."),
            401: OpenApiResponse(response=error, description="Missing or unknown token."),
            404: OpenApiResponse(response=error, description="No such object or URL."),
            405: OpenApiResponse(response=error, description="Not allowed for this URL or state."),
        },
    )


def strip_optional_slash(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """Preprocessing hook: document `/ocpi/x`, not `/ocpi/x/` (both are served, see ocpi_path)."""
    return [(path.rstrip("/") or "/", *rest) for path, *rest in endpoints]
