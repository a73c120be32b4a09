from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for a fresh platform: `manage.py seed_demo` (see demo/services.py)."""

    name = "demo"
    verbose_name = "Demo estate"
