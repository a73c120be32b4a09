from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "sessions"
    # "sessions" is django.contrib.sessions' label (the admin's login sessions).
    label = "charging_sessions"
    verbose_name = "Charging sessions"

    def ready(self) -> None:
        from ocpi import endpoints
        from ocpi.enums import InterfaceRole, ModuleID

        endpoints.register(
            endpoints.ModuleEndpoint(
                ModuleID.SESSIONS.value, InterfaceRole.SENDER, "/ocpi/cpo/2.2.1/sessions"
            )
        )
