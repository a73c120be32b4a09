"""How the charge point fleet stands, for the operator's overview."""

from typing import NamedTuple

from django.db.models import Count, Q

from chargers.models import ChargePoint


class Presence(NamedTuple):
    online: int
    offline: int


def charge_point_presence() -> Presence:
    """Charge points connected to a gateway now, and the others: one query. Online is what
    ChargePoint.online and the admin's online filter say (a gateway holds its websocket)."""
    counts = ChargePoint.objects.aggregate(
        online=Count("pk", filter=~Q(gateway="")), offline=Count("pk", filter=Q(gateway=""))
    )
    return Presence(online=counts["online"], offline=counts["offline"])
