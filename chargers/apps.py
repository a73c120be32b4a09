from django.apps import AppConfig


class ChargersConfig(AppConfig):
    """Our own charge points over OCPP-J 1.6 and 2.0.1 (never a package named `ocpp`: that is
    the library the gateway is built on)."""

    name = "chargers"
    verbose_name = "Charge points (OCPP)"

    def ready(self) -> None:
        # The follow-ups and tasks of maintenance, reservations and remote starts register
        # themselves on import.
        from chargers import (  # noqa: F401
            local_list,
            maintenance,
            maintenance_tasks,
            remote,
            reservations,
        )
