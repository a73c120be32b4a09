"""The admin's requests are operators' changes, their user the actor; no other request is."""

from collections.abc import Callable

from auditlog.middleware import AuditlogMiddleware
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse

from audit.tracking import operator_scope


class AdminAuditMiddleware(AuditlogMiddleware):  # type: ignore[misc]
    """auditlog's middleware, for the admin's signed-in users only. OCPI, OCPP and API
    requests are protocol traffic: audit.tracking keeps none of their changes, and their hot
    paths skip the signal (dis)connection auditlog makes around each request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)
        try:
            self.admin_prefix: str | None = reverse("admin:index")
        except NoReverseMatch:  # URLs without the admin (a test's, an API-only deploy's)
            self.admin_prefix = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The path first: request.user is loaded lazily, from the session.
        if (
            self.admin_prefix is None
            or not request.path.startswith(self.admin_prefix)
            or self._get_actor(request) is None
        ):
            passed: HttpResponse = self.get_response(request)
            return passed
        with operator_scope():
            response: HttpResponse = super().__call__(request)
        return response
