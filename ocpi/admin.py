"""Building blocks of the operators' screens that several apps share (ocpi registers no model).

Objects that arrive from partners or are sealed (tokens, sessions, CDRs) are shown read-only;
their OCPI JSON is shown as stored, exact decimals included.
"""

from typing import Any

import simplejson
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString


class ReadOnlyAdminMixin:
    """No add, change or delete in the admin: the object is written elsewhere (by a service,
    a partner's push, a charge point), and an edit here would bypass its pushes."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def pretty_json(value: Any) -> SafeString:
    """JSON indented for reading, numbers with their exact digits (Decimal, as stored)."""
    indented = simplejson.dumps(value, use_decimal=True, indent=2, ensure_ascii=False)
    return format_html("<pre>{}</pre>", indented)


def admin_page(
    model_admin: "admin.ModelAdmin[Any]",
    request: HttpRequest,
    template: str,
    *,
    title: str,
    **context: Any,
) -> TemplateResponse:
    """A page of the model's admin of our own (an action's form, a custom view), with the
    admin's context around it; for an action, the checkbox name that carries the chosen
    objects through the form's POST."""
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "opts": model_admin.model._meta,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            **context,
        },
    )
