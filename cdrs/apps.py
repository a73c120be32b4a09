from django.apps import AppConfig


class CdrsConfig(AppConfig):
    name = "cdrs"
    verbose_name = "Charge detail records"

    def ready(self) -> None:
        from cdrs.services import on_session_completed
        from ocpi import endpoints
        from ocpi.enums import InterfaceRole, ModuleID
        from sessions.signals import session_completed

        # sessions sits below cdrs and never imports it: the CDR follows its session's
        # completion through this signal, in the completing transaction.
        session_completed.connect(on_session_completed, dispatch_uid="cdrs.cdr_for_session")

        endpoints.register(
            endpoints.ModuleEndpoint(
                ModuleID.CDRS.value, InterfaceRole.SENDER, "/ocpi/cpo/2.2.1/cdrs"
            )
        )
