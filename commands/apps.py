from django.apps import AppConfig


class CommandsConfig(AppConfig):
    name = "commands"
    verbose_name = "Commands (OCPI)"

    def ready(self) -> None:
        # Registers the follow-ups that send the results.
        from commands import results  # noqa: F401
        from ocpi import endpoints
        from ocpi.enums import InterfaceRole, ModuleID

        endpoints.register(
            endpoints.ModuleEndpoint(
                ModuleID.COMMANDS.value, InterfaceRole.RECEIVER, "/ocpi/cpo/2.2.1/commands"
            )
        )
