"""Reservations on a simulated charge point (OCPP 1.6 §5.13 ReserveNow, §5.3
CancelReservation; 2.0.1 H01, H02, H03, H04), whatever its version.

A reservation holds one EVSE (1.6: its connector; connector 0, the whole charge point, is not
supported: ReserveConnectorZeroSupported false) for one idToken until its expiry date: the
EVSE reports Reserved and only that token starts on it; its transaction carries the
reservation id. The station expires it itself at the expiry date (2.0.1 says so with
ReservationStatusUpdate Expired; 1.6 only reports the connector Available again). A
ReserveNow with the id of a reservation it holds replaces it. `answer`, when set, is what
every ReserveNow is answered instead (Rejected, Occupied, Faulted, Unavailable): scriptable
refusals for the tests and the demo.

EvseState is imported where used: station.py imports this module.
"""

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chargers.simulator.station import Evse, Station

ACCEPTED = "Accepted"


@dataclass
class Reservation:
    id: int
    evse_id: int
    id_token: str
    expires_at: float  # time.time()
    expiry: "asyncio.Task[None] | None" = field(default=None, repr=False)


class Reservations:
    """The reservations one station holds, by id."""

    def __init__(self, station: "Station") -> None:
        self.station = station
        self.held: dict[int, Reservation] = {}
        self.answer: str | None = None

    def reserve(self, reservation_id: int, evse_id: int, id_token: str, expiry: float) -> str:
        """ReserveNow: the status answered; the EVSE reports Reserved after the answer."""
        from chargers.simulator.station import EvseState

        station = self.station
        evse = station.evses.get(evse_id)
        replaced = self.held.get(reservation_id)
        status = self.answer or self._refusal(evse, replaced)
        station.report(f"ReserveNow {reservation_id} on EVSE {evse_id} for {id_token}: {status}")
        if status != ACCEPTED or evse is None:
            return status
        if replaced is not None:
            self._release(replaced)
        reservation = Reservation(reservation_id, evse_id, id_token, expiry)
        self.held[reservation_id] = reservation
        evse.state = EvseState.RESERVED
        station.later(lambda: station.notify_status(self._changed(replaced, evse_id)))
        reservation.expiry = station.spawn(self._expire(reservation))
        return ACCEPTED

    def cancel(self, reservation_id: int) -> bool:
        """CancelReservation: whether it held that reservation (Accepted), then Available."""
        reservation = self.held.get(reservation_id)
        self.station.report(f"CancelReservation {reservation_id}: {bool(reservation)}")
        if reservation is None:
            return False
        self._release(reservation)
        self.station.later(lambda: self.station.notify_status([reservation.evse_id]))
        return True

    async def remove(self, reservation_id: int) -> None:
        """The station drops a reservation itself (its operator, a fault): 2.0.1 reports it
        Removed, both report the EVSE available again."""
        reservation = self.held.get(reservation_id)
        if reservation is not None:
            await self._end(reservation, expired=False)

    def for_token(self, id_token: str) -> "Evse | None":
        """The EVSE `id_token` holds a reservation on."""
        found = next((r for r in self.held.values() if r.id_token == id_token), None)
        return None if found is None else self.station.evses[found.evse_id]

    def use(self, evse: "Evse", id_token: str) -> int | None:
        """A transaction of `id_token` starts on `evse`: the reservation it held there (its
        id, for the transaction's messages) is used up."""
        found = next(
            (r for r in self.held.values() if r.evse_id == evse.ocpp_id and r.id_token == id_token),
            None,
        )
        if found is None:
            return None
        del self.held[found.id]
        if found.expiry is not None and found.expiry is not asyncio.current_task():
            found.expiry.cancel()
        self.station.report(f"EVSE {evse.ocpp_id}: reservation {found.id} used")
        return found.id

    def holds_for_another(self, evse: "Evse", id_token: str) -> bool:
        return any(r.evse_id == evse.ocpp_id and r.id_token != id_token for r in self.held.values())

    def _refusal(self, evse: "Evse | None", replaced: Reservation | None) -> str:
        from chargers.simulator.station import EvseState

        if evse is None:
            return "Rejected"
        if not evse.operative:
            return "Unavailable"
        taken = evse.state not in (EvseState.AVAILABLE, EvseState.RESERVED)
        reserved_by_other = any(
            r.evse_id == evse.ocpp_id and r is not replaced for r in self.held.values()
        )
        return "Occupied" if taken or reserved_by_other else ACCEPTED

    def _changed(self, replaced: Reservation | None, evse_id: int) -> list[int]:
        if replaced is None or replaced.evse_id == evse_id:
            return [evse_id]
        return [replaced.evse_id, evse_id]

    def _release(self, reservation: Reservation) -> None:
        """Forget it; its EVSE is available again (unless another transaction took it)."""
        from chargers.simulator.station import EvseState

        self.held.pop(reservation.id, None)
        if reservation.expiry is not None and reservation.expiry is not asyncio.current_task():
            reservation.expiry.cancel()
        evse = self.station.evses[reservation.evse_id]
        if evse.state == EvseState.RESERVED:
            evse.state = EvseState.AVAILABLE

    async def _expire(self, reservation: Reservation) -> None:
        await asyncio.sleep(max(0.0, reservation.expires_at - time.time()))
        if self.held.get(reservation.id) is reservation:
            await self._end(reservation, expired=True)

    async def _end(self, reservation: Reservation, *, expired: bool) -> None:
        station = self.station
        self._release(reservation)
        station.report(f"reservation {reservation.id} {'expired' if expired else 'removed'}")
        for message in station.reservation_ended_messages(reservation.id, expired=expired):
            await station.send_now(message)
        await station.notify_status([reservation.evse_id])


def expiry_of(stamp: str) -> float:
    """An OCPP dateTime as time.time()."""
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
