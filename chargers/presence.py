"""What follows from a charge point connecting or disconnecting (its EVSEs' status).

Replaced by the presence helper's module at merge; the gateway calls these two functions, in
one of its worker threads, after it recorded the connection (chargers.connections.connected)
and after a connection closed that was still the charge point's current one.
"""

from chargers.models import ChargePoint


def on_connected(charge_point: ChargePoint) -> None:
    """Called once a connection of `charge_point` is accepted and recorded."""


def on_disconnected(charge_point: ChargePoint) -> None:
    """Called once the current connection of `charge_point` closed and was recorded so."""
