"""A simulated OCPP 1.6J charge point: its messages, and its answers to the central system.

Each of our EVSEs is one 1.6 connector (connector id n = OCPP id n); connector 0, the charge
point as a whole, is reported Available at boot. Meter values carry the energy register
(Energy.Active.Import.Register, Wh, or kWh in the `wh-as-kwh` scenario, where the value
stays in Wh), power, current and the car's SoC, as strings (1.6 SampledValue.value).
"""

from collections.abc import Iterable
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import ClientConnection

from chargers.simulator.maintenance import Maintenance16
from chargers.simulator.meter import Reading
from chargers.simulator.reserving import expiry_of
from chargers.simulator.station import (
    FIRMWARE,
    MODEL,
    RESPONSE_TIMEOUT,
    VENDOR,
    WIRE,
    Evse,
    Outgoing,
    Station,
    StopCause,
    Transaction,
)

SERIAL_MAX_LENGTH = 25  # BootNotification.chargePointSerialNumber: CiString25


class Station16(Station):
    subprotocol = "ocpp1.6"

    def link(self, connection: ClientConnection) -> "Link16":
        return Link16(self, connection)

    def boot_message(self) -> Any:
        return call.BootNotification(
            charge_point_vendor=VENDOR,
            charge_point_model=MODEL,
            charge_point_serial_number=self.identity[-SERIAL_MAX_LENGTH:],
            firmware_version=FIRMWARE,
        )

    def heartbeat_message(self) -> Any:
        return call.Heartbeat()

    def status_messages(self, evse_ids: Iterable[int] | None) -> list[Any]:
        stamp = self.clock.stamp()
        messages = []
        if evse_ids is None:
            messages.append(
                call.StatusNotification(
                    connector_id=0, error_code="NoError", status="Available", timestamp=stamp
                )
            )
        for n in self.evses if evse_ids is None else evse_ids:
            messages.append(
                call.StatusNotification(
                    connector_id=n,
                    error_code="NoError",
                    status=str(self.evses[n].state),
                    timestamp=stamp,
                )
            )
        return messages

    def authorize_message(self, id_token: str, id_token_type: str = "") -> Any:
        return call.Authorize(id_tag=id_token)

    def authorization_status(self, result: Any) -> str:
        return str(result.id_tag_info["status"])

    def started(self, evse: Evse, tx: Transaction, reading: Reading) -> Outgoing:
        message = call.StartTransaction(
            connector_id=evse.ocpp_id,
            id_tag=tx.id_token,
            meter_start=round(reading.energy_wh),
            timestamp=self.clock.stamp(),
            reservation_id=tx.reservation_id,
        )

        def answered(result: Any) -> None:
            tx.ocpp_id = result.transaction_id
            status = result.id_tag_info["status"]
            self.report(f"EVSE {evse.ocpp_id}: transaction {tx.ocpp_id} ({status})")
            if status != "Accepted":
                tx.request_stop(StopCause.DEAUTHORIZED)

        return Outgoing("StartTransaction", lambda: message, answered)

    def updated(self, evse: Evse, tx: Transaction, reading: Reading) -> Outgoing:
        values = [self._meter_value(reading, "Sample.Periodic")]
        return Outgoing(
            "MeterValues",
            lambda: call.MeterValues(
                connector_id=evse.ocpp_id, transaction_id=tx.ocpp_id, meter_value=values
            ),
        )

    def ended(self, evse: Evse, tx: Transaction, reading: Reading) -> Outgoing:
        stamp = self.clock.stamp()
        values = [self._meter_value(reading, "Transaction.End")]
        reason = str(tx.cause or StopCause.LOCAL)

        def build() -> Any:
            if tx.ocpp_id is None:
                return None  # its StartTransaction was refused: there is nothing to stop
            return call.StopTransaction(
                meter_stop=round(reading.energy_wh),
                timestamp=stamp,
                transaction_id=tx.ocpp_id,
                reason=reason,
                id_tag=tx.id_token,
                transaction_data=values,
            )

        return Outgoing("StopTransaction", build)

    def meter_values_messages(self, evse_ids: Iterable[int]) -> list[Any]:
        """MeterValues now (TriggerMessage), of a transaction when one runs."""
        return [
            call.MeterValues(
                connector_id=n,
                transaction_id=(tx.ocpp_id if (tx := self.evses[n].transaction) else None),
                meter_value=[self._meter_value(self.evses[n].meter.reading(), "Trigger")],
            )
            for n in evse_ids
        ]

    def _meter_value(self, reading: Reading, context: str) -> dict[str, Any]:
        energy_unit = "kWh" if self.behaviour.wh_labelled_kwh else "Wh"
        sampled = [
            ("Energy.Active.Import.Register", f"{reading.energy_wh:.1f}", energy_unit, "Outlet"),
            ("Power.Active.Import", f"{reading.power_w:.0f}", "W", "Outlet"),
            ("Current.Import", f"{reading.current_a:.1f}", "A", "Outlet"),
            ("SoC", f"{reading.soc:.0f}", "Percent", "EV"),
        ]
        return {
            "timestamp": self.clock.stamp(),
            "sampled_value": [
                {
                    "value": value,
                    "context": context,
                    "measurand": measurand,
                    "location": location,
                    "unit": unit,
                }
                for measurand, value, unit, location in sampled
            ],
        }


class Link16(Maintenance16, ChargePoint):  # type: ignore[misc]
    """The station's answers to the central system on one connection (1.6 Core, Remote
    Trigger): each answers at once; what it sets off starts after the answer."""

    def __init__(self, station: Station16, connection: ClientConnection) -> None:
        super().__init__(
            station.identity, connection, response_timeout=RESPONSE_TIMEOUT, logger=WIRE
        )
        self.station: Station16 = station

    async def route_message(self, raw_msg: str) -> None:
        await super().route_message(raw_msg)
        self.station.answered()

    def _connector(self, connector_id: int) -> list[int] | None:
        """The EVSEs connector id means (0: all); None when there is no such connector."""
        if connector_id == 0:
            return list(self.station.evses)
        return [connector_id] if connector_id in self.station.evses else None

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, connector_id: int | None = None, **_: Any) -> Any:
        accepted = self.station.remote_start(id_tag, connector_id or None, None)
        return call_result.RemoteStartTransaction(status="Accepted" if accepted else "Rejected")

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int, **_: Any) -> Any:
        stopped = self.station.remote_stop(
            lambda tx: tx.ocpp_id == transaction_id, StopCause.REMOTE
        )
        return call_result.RemoteStopTransaction(status="Accepted" if stopped else "Rejected")

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> Any:
        station = self.station
        evse_ids = list(station.evses) if connector_id is None else self._connector(connector_id)
        if evse_ids is None:
            return call_result.TriggerMessage(status="Rejected")
        messages = {
            "BootNotification": lambda: [station.boot_message()],
            "Heartbeat": lambda: [station.heartbeat_message()],
            "StatusNotification": lambda: station.status_messages(
                None if connector_id in (None, 0) else evse_ids
            ),
            "MeterValues": lambda: station.meter_values_messages(evse_ids),
        }.get(requested_message)
        station.report(
            f"TriggerMessage {requested_message}: {'Accepted' if messages else 'NotImplemented'}"
        )
        if messages is None:
            return call_result.TriggerMessage(status="NotImplemented")
        station.send_after_answer(messages())
        return call_result.TriggerMessage(status="Accepted")

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> Any:
        cause = StopCause.HARD_RESET if type == "Hard" else StopCause.SOFT_RESET
        self.station.report(f"Reset {type}: Accepted")
        self.station.later(lambda: self.station.reset(cause, on_idle=False))
        return call_result.Reset(status="Accepted")

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str, **_: Any) -> Any:
        evse_ids = self._connector(connector_id)
        status = None
        if evse_ids is not None:
            status = self.station.change_availability(evse_ids, operative=type == "Operative")
        return call_result.ChangeAvailability(status=status or "Rejected")

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int, **_: Any) -> Any:
        evse = self.station.evses.get(connector_id)
        if self.station.behaviour.refuse_remote:
            self.station.report(f"UnlockConnector {connector_id}: UnlockFailed (scripted)")
            return call_result.UnlockConnector(status="UnlockFailed")
        if evse is None:
            return call_result.UnlockConnector(status="NotSupported")
        if evse.transaction is not None:  # 1.6: the transaction is stopped, then unlocked
            evse.transaction.request_stop(StopCause.UNLOCK)
        self.station.report(f"UnlockConnector {connector_id}: Unlocked")
        return call_result.UnlockConnector(status="Unlocked")

    @on(Action.reserve_now)
    def on_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        **_: Any,
    ) -> Any:
        status = self.station.reservations.reserve(
            reservation_id, connector_id, id_tag, expiry_of(expiry_date)
        )
        return call_result.ReserveNow(status=status)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        cancelled = self.station.reservations.cancel(reservation_id)
        return call_result.CancelReservation(status="Accepted" if cancelled else "Rejected")
