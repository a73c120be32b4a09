"""Who may call what (transport_and_format.asciidoc, Authorization header).

The authentication class (in credentials/) sets `request.auth` to an `OcpiCaller`. Token A
of an invitation opens only the versions and credentials modules; every other module needs a
registered partner, or the answer is HTTP 401.
"""

from typing import Any, Protocol

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class OcpiCaller(Protocol):
    """The platform behind a request's credentials token."""

    @property
    def is_registered(self) -> bool: ...

    @property
    def name(self) -> str: ...


class IsRegisteredPartner(BasePermission):
    message = "A registered partner's credentials token is required here."

    def has_permission(self, request: Request, view: Any) -> bool:
        caller = request.auth
        return caller is not None and bool(getattr(caller, "is_registered", False))


class IsKnownCaller(BasePermission):
    """Any known token, token A included: versions and credentials only."""

    message = "A known credentials token is required."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.auth is not None
