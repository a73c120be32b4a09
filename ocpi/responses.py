"""The OCPI response envelope (transport_and_format.asciidoc, Response format)."""

from typing import Any

from rest_framework.response import Response

from ocpi.status import OcpiStatus
from ocpi.time import format_datetime, now

_ABSENT: Any = object()


def envelope(
    status_code: int, *, data: Any = _ABSENT, message: str | None = None
) -> dict[str, Any]:
    """Build the envelope; `data` stays absent when the spec says nothing about it (d2 advice)."""
    body: dict[str, Any] = {}
    if data is not _ABSENT:
        body["data"] = data
    body["status_code"] = int(status_code)
    if message:
        body["status_message"] = message
    body["timestamp"] = format_datetime(now())
    return body


def ocpi_response(
    data: Any = _ABSENT,
    *,
    status_code: int = OcpiStatus.SUCCESS,
    message: str | None = None,
    http_status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        envelope(status_code, data=data, message=message), status=http_status, headers=headers
    )
