"""ReservationStatusUpdate, OCPP 2.0.1 (H03, H04): the charging station ended a reservation
itself, Expired or Removed (chargers.reservations). Always answered, also for a reservation
we do not hold (ended here first): there is nothing for the station to do about it."""

from chargers import reservations
from chargers.handlers import Context, Payload, handles
from chargers.models import OcppVersion


@handles(OcppVersion.V201, "ReservationStatusUpdate")
def reservation_status_update(context: Context, payload: Payload) -> Payload:
    reservations.ended_by_charge_point(
        context.charge_point,
        payload["reservationId"],
        expired=payload["reservationUpdateStatus"] == "Expired",
    )
    return {}
