from django.apps import AppConfig


class TariffsConfig(AppConfig):
    name = "tariffs"
    verbose_name = "Tariffs"

    def ready(self) -> None:
        from ocpi import endpoints
        from ocpi.enums import InterfaceRole, ModuleID

        endpoints.register(
            endpoints.ModuleEndpoint(
                ModuleID.TARIFFS.value, InterfaceRole.SENDER, "/ocpi/cpo/2.2.1/tariffs"
            )
        )
