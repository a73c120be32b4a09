"""OCPP ids of a charge point ↔ our EVSEs and connectors.

OCPP 1.6 connector id n and OCPP 2.0.1 EVSE id n are the n-th EVSE it was provisioned with
(ChargePointEvse); 2.0.1 connectorId k of an EVSE is that EVSE's k-th connector in the order
of its ids. Connector id 0 (1.6) / EVSE id 0 (2.0.1) is the charge point as a whole.
"""

from chargers.models import ChargePoint
from locations.models import EVSE, Connector


def evse_of(charge_point: ChargePoint, ocpp_evse_id: int) -> EVSE | None:
    return (
        EVSE.objects.filter(
            charge_point_link__charge_point=charge_point,
            charge_point_link__ocpp_evse_id=ocpp_evse_id,
        )
        .select_related("location")
        .first()
    )


def evses_of(charge_point: ChargePoint) -> list[EVSE]:
    """All its EVSEs, in OCPP id order."""
    return list(
        EVSE.objects.filter(charge_point_link__charge_point=charge_point)
        .select_related("location")
        .order_by("charge_point_link__ocpp_evse_id")
    )


def connector_of(
    charge_point: ChargePoint, ocpp_evse_id: int, connector_id: int | None = None
) -> Connector | None:
    """1.6: connector_of(cp, connectorId). 2.0.1: connector_of(cp, evseId, connectorId);
    without connectorId, the EVSE's first connector."""
    evse = evse_of(charge_point, ocpp_evse_id)
    if evse is None:
        return None
    connectors = sorted(evse.connectors.all(), key=lambda c: (len(c.ocpi_id), c.ocpi_id))
    index = (connector_id or 1) - 1
    if not 0 <= index < len(connectors):
        return None
    connector = connectors[index]
    connector.evse = evse  # the caller reads connector.evse.location without a query
    return connector
