from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    verbose_name = "Tokens"

    def ready(self) -> None:
        from ocpi import endpoints
        from ocpi.enums import InterfaceRole, ModuleID

        endpoints.register(
            endpoints.ModuleEndpoint(
                ModuleID.TOKENS.value, InterfaceRole.RECEIVER, "/ocpi/cpo/2.2.1/tokens"
            )
        )
