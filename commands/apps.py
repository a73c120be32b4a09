from django.apps import AppConfig


class CommandsConfig(AppConfig):
    name = "commands"
    verbose_name = "Commands (OCPI)"

    def ready(self) -> None:
        from ocpi import endpoints
        from ocpi.enums import InterfaceRole, ModuleID

        # Registers the follow-ups that send the results.
        from commands import results  # noqa: F401

        endpoints.register(
            endpoints.ModuleEndpoint(
                ModuleID.COMMANDS.value, InterfaceRole.RECEIVER, "/ocpi/cpo/2.2.1/commands"
            )
        )
