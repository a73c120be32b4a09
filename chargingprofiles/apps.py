from django.apps import AppConfig


class ChargingProfilesConfig(AppConfig):
    name = "chargingprofiles"
    verbose_name = "Charging profiles and load management"

    def ready(self) -> None:
        from chargingprofiles import follow_ups, receivers  # noqa: F401 (registered on import)
        from ocpi import endpoints
        from ocpi.enums import InterfaceRole, ModuleID

        endpoints.register(
            endpoints.ModuleEndpoint(
                ModuleID.CHARGING_PROFILES.value,
                InterfaceRole.RECEIVER,
                "/ocpi/cpo/2.2.1/chargingprofiles",
            )
        )
