"""The audit trail of an object on its admin page."""

from typing import Any
from urllib.parse import unquote

from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import capfirst

from audit.tracking import entries_of


class AuditHistoryMixin:
    """The change form's "History" button shows the audit trail: who changed which field
    from what to what, and when (Django's own history names the fields only), the rows edited
    inline on the page included. auditlog's history page, its styles in a file (CSP)."""

    history_per_page = 25

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        model_admin: Any = self
        obj = model_admin.get_object(request, unquote(object_id))
        if obj is None:
            # Django's answer to a missing object.
            missing: HttpResponse = model_admin._get_obj_does_not_exist_redirect(
                request, model_admin.model._meta, object_id
            )
            return missing
        if not model_admin.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        paginator = model_admin.get_paginator(request, entries_of(obj), self.history_per_page)
        page = paginator.get_page(request.GET.get(PAGE_VAR, 1))
        context = {
            **model_admin.admin_site.each_context(request),
            "title": f"History: {obj}",
            "module_name": str(capfirst(model_admin.model._meta.verbose_name_plural)),
            "page_range": paginator.get_elided_page_range(page.number),
            "page_var": PAGE_VAR,
            "pagination_required": paginator.count > self.history_per_page,
            "object": obj,
            "opts": model_admin.model._meta,
            "log_entries": page,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "audit/object_history.html", context)
