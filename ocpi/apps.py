from django.apps import AppConfig


class OcpiConfig(AppConfig):
    name = "ocpi"
    verbose_name = "OCPI core"

    def ready(self) -> None:
        from ocpi import lookups  # noqa: F401 (registers `__ci` on CharField)
