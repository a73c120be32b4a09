from django.apps import AppConfig


class TariffsConfig(AppConfig):
    name = "tariffs"
    verbose_name = "Tariffs"

    def ready(self) -> None:
        from ocpi import endpoints, tariff_links
        from ocpi.enums import InterfaceRole, ModuleID
        from tariffs.catalogue import party_tariff_choices

        endpoints.register(
            endpoints.ModuleEndpoint(
                ModuleID.TARIFFS.value, InterfaceRole.SENDER, "/ocpi/cpo/2.2.1/tariffs"
            )
        )
        # The connector form's tariff picker (locations may not import tariffs).
        tariff_links.provide_tariff_choices(party_tariff_choices)
