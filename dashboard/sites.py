"""The admin site: Django's, with the overview (dashboard.overview) above the model list."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import AnonymousUser, PermissionsMixin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from dashboard.overview import overview


class OperatorAdminSite(admin.AdminSite):
    index_template = "admin/dashboard.html"

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        user = request.user
        # auth.User (the project's user model), staff: admin_view let the request in.
        assert isinstance(user, PermissionsMixin | AnonymousUser)
        figures = overview(user)
        return super().index(request, {"overview": figures, **(extra_context or {})})
