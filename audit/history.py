"""The audit trail of an object on its admin page."""

from typing import Any
from urllib.parse import unquote

from auditlog.mixins import AuditlogHistoryAdminMixin
from django.http import HttpRequest, HttpResponse


class AuditHistoryMixin(AuditlogHistoryAdminMixin):  # type: ignore[misc]
    """The change form's "History" button shows the audit trail: who changed which field
    from what to what, and when (Django's own history names the fields only)."""

    auditlog_history_template = "audit/object_history.html"
    auditlog_history_per_page = 25

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if self.get_object(request, unquote(object_id)) is None:
            # Django's answer to a missing object (auditlog's view would fail on None).
            missing: HttpResponse = self._get_obj_does_not_exist_redirect(
                request, self.model._meta, object_id
            )
            return missing
        response: HttpResponse = self.auditlog_history_view(request, object_id, extra_context)
        return response
