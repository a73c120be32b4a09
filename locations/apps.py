from django.apps import AppConfig


class LocationsConfig(AppConfig):
    name = "locations"
    verbose_name = "Locations"

    def ready(self) -> None:
        from ocpi import endpoints
        from ocpi.enums import InterfaceRole, ModuleID

        endpoints.register(
            endpoints.ModuleEndpoint(
                ModuleID.LOCATIONS.value, InterfaceRole.SENDER, "/ocpi/cpo/2.2.1/locations"
            )
        )
