from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class DashboardConfig(AppConfig):
    """The operator's overview: the admin's first page (dashboard.sites)."""

    default = True
    name = "dashboard"
    verbose_name = "Operator dashboard"


class OperatorAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on a site whose index is the operator's overview. Listed in
    INSTALLED_APPS instead of django.contrib.admin (Django's way of replacing the default
    site), so every `admin.register` lands on it."""

    default = False
    default_site = "dashboard.sites.OperatorAdminSite"
