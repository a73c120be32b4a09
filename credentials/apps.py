from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = "Partners and credentials"

    def ready(self) -> None:
        from credentials import openapi  # noqa: F401  (registers the schema extension)
        from ocpi import endpoints
        from ocpi.enums import InterfaceRole, ModuleID

        # credentials has no roles; the spec advises publishing it as SENDER.
        endpoints.register(
            endpoints.ModuleEndpoint(
                ModuleID.CREDENTIALS.value, InterfaceRole.SENDER, "/ocpi/2.2.1/credentials"
            )
        )
