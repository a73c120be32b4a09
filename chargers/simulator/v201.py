"""A simulated OCPP 2.0.1 charging station: its messages, and its answers to the CSMS.

Each of our EVSEs is one 2.0.1 EVSE with one connector (connectorId 1). A transaction is a
series of TransactionEvents (Started, Updated every meter interval, Ended) under the
station's own transactionId, each with the next seqNo: numbered when queued, so a replay
shuffled by the `out-of-order` scenario keeps them, and marked `offline` when queued while
offline (Part 2, functional block E). Tokens are ISO14443 (RFID) idTokens.
"""

from collections.abc import Iterable
from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.client import ClientConnection

from chargers.simulator.maintenance import Maintenance201
from chargers.simulator.meter import Reading
from chargers.simulator.profiles import SmartCharging201
from chargers.simulator.reserving import expiry_of
from chargers.simulator.station import (
    FIRMWARE,
    MODEL,
    RESPONSE_TIMEOUT,
    VENDOR,
    WIRE,
    Evse,
    EvseState,
    Outgoing,
    Station,
    StopCause,
    Transaction,
)

SERIAL_MAX_LENGTH = 25  # ChargingStationType.serialNumber: string(25)
TOKEN_TYPE = "ISO14443"  # noqa: S105 (IdTokenEnumType: an RFID card, not a secret)
CONNECTOR_ID = 1

CONNECTOR_STATUS = {
    EvseState.AVAILABLE: "Available",
    EvseState.PREPARING: "Occupied",
    EvseState.CHARGING: "Occupied",
    EvseState.FINISHING: "Occupied",
    EvseState.UNAVAILABLE: "Unavailable",
    EvseState.RESERVED: "Reserved",
}
# StopCause → (TransactionEvent triggerReason, transactionInfo.stoppedReason) of Ended.
ENDED = {
    StopCause.LOCAL: ("StopAuthorized", "Local"),
    StopCause.REMOTE: ("RemoteStop", "Remote"),
    StopCause.HARD_RESET: ("ResetCommand", "ImmediateReset"),
    StopCause.SOFT_RESET: ("ResetCommand", "ImmediateReset"),
    StopCause.UNLOCK: ("UnlockCommand", "Other"),
    StopCause.DEAUTHORIZED: ("Deauthorized", "DeAuthorized"),
}


class Station201(Station):
    subprotocol = "ocpp2.0.1"

    def link(self, connection: ClientConnection) -> "Link201":
        return Link201(self, connection)

    def boot_message(self) -> Any:
        return call.BootNotification(
            charging_station={
                "model": MODEL,
                "vendor_name": VENDOR,
                "serial_number": self.identity[-SERIAL_MAX_LENGTH:],
                "firmware_version": FIRMWARE,
            },
            reason=self.boot_reason,
        )

    def heartbeat_message(self) -> Any:
        return call.Heartbeat()

    def status_messages(self, evse_ids: Iterable[int] | None) -> list[Any]:
        stamp = self.clock.stamp()
        return [
            call.StatusNotification(
                timestamp=stamp,
                connector_status=CONNECTOR_STATUS[self.evses[n].state],
                evse_id=n,
                connector_id=CONNECTOR_ID,
            )
            for n in (self.evses if evse_ids is None else evse_ids)
        ]

    def authorize_message(self, id_token: str, id_token_type: str = "") -> Any:
        return call.Authorize(id_token={"id_token": id_token, "type": id_token_type or TOKEN_TYPE})

    def authorization_status(self, result: Any) -> str:
        return str(result.id_token_info["status"])

    def started(self, evse: Evse, tx: Transaction, reading: Reading) -> Outgoing:
        trigger = "Authorized" if tx.remote_start_id is None else "RemoteStart"
        entry = self._event("Started", evse, tx, reading, trigger, "Transaction.Begin")

        def answered(result: Any) -> None:
            status = (result.id_token_info or {}).get("status", "Accepted")
            self.report(f"EVSE {evse.ocpp_id}: transaction {tx.local_id} ({status})")
            if status != "Accepted":
                tx.request_stop(StopCause.DEAUTHORIZED)

        entry.answered = answered
        return entry

    def updated(self, evse: Evse, tx: Transaction, reading: Reading) -> Outgoing:
        return self._event("Updated", evse, tx, reading, "MeterValuePeriodic", "Sample.Periodic")

    def ended(self, evse: Evse, tx: Transaction, reading: Reading) -> Outgoing:
        trigger, reason = ENDED[tx.cause or StopCause.LOCAL]
        entry = self._event("Ended", evse, tx, reading, trigger, "Transaction.End", reason)

        def answered(result: Any) -> None:
            # What a station's display would show the driver: the CSMS's final total cost.
            if result.total_cost is not None:
                self.report(
                    f"EVSE {evse.ocpp_id}: transaction {tx.local_id} total cost {result.total_cost}"
                )

        entry.answered = answered
        return entry

    def reservation_ended_messages(self, reservation_id: int, *, expired: bool) -> list[Any]:
        return [
            call.ReservationStatusUpdate(
                reservation_id=reservation_id,
                reservation_update_status="Expired" if expired else "Removed",
            )
        ]

    def triggered_events(self, evse_ids: Iterable[int]) -> int:
        """TransactionEvent(Updated, Trigger) of each transaction on these EVSEs, queued
        behind the others; how many."""
        count = 0
        for n in evse_ids:
            evse = self.evses[n]
            if evse.transaction is not None:
                reading = evse.meter.reading()
                self.enqueue(
                    self._event("Updated", evse, evse.transaction, reading, "Trigger", "Trigger")
                )
                count += 1
        return count

    def meter_values_messages(self, evse_ids: Iterable[int]) -> list[Any]:
        return [
            call.MeterValues(
                evse_id=n, meter_value=[self._meter_value(self.evses[n].meter.reading(), "Trigger")]
            )
            for n in evse_ids
        ]

    def _event(
        self,
        event_type: str,
        evse: Evse,
        tx: Transaction,
        reading: Reading,
        trigger: str,
        context: str,
        stopped_reason: str | None = None,
    ) -> Outgoing:
        info: dict[str, Any] = {
            "transaction_id": tx.local_id,
            "charging_state": "EVConnected" if event_type == "Ended" else "Charging",
        }
        if stopped_reason is not None:
            info["stopped_reason"] = stopped_reason
        if event_type == "Started" and tx.remote_start_id is not None:
            info["remote_start_id"] = tx.remote_start_id
        message = call.TransactionEvent(
            reservation_id=tx.reservation_id if event_type == "Started" else None,
            event_type=event_type,
            timestamp=self.clock.stamp(),
            trigger_reason=trigger,
            seq_no=tx.next_seq_no(),
            transaction_info=info,
            meter_value=[self._meter_value(reading, context)],
            offline=True if self.offline else None,
            evse={"id": evse.ocpp_id, "connector_id": CONNECTOR_ID},
            id_token=(
                {"id_token": tx.id_token, "type": tx.id_token_type or TOKEN_TYPE}
                if event_type == "Started" or trigger == "StopAuthorized"
                else None
            ),
        )
        return Outgoing(f"TransactionEvent {event_type}", lambda: message)

    def _meter_value(self, reading: Reading, context: str) -> dict[str, Any]:
        energy_unit = "kWh" if self.behaviour.wh_labelled_kwh else "Wh"
        sampled: list[tuple[str, float, str, str]] = [
            ("Energy.Active.Import.Register", reading.energy_wh, energy_unit, "Outlet"),
            ("Power.Active.Import", reading.power_w, "W", "Outlet"),
            ("Current.Import", reading.current_a, "A", "Outlet"),
            ("SoC", reading.soc, "Percent", "EV"),
        ]
        return {
            "timestamp": self.clock.stamp(),
            "sampled_value": [
                {
                    "value": value,
                    "context": context,
                    "measurand": measurand,
                    "location": location,
                    "unit_of_measure": {"unit": unit},
                }
                for measurand, value, unit, location in sampled
            ],
        }


class Link201(SmartCharging201, Maintenance201, ChargePoint):  # type: ignore[misc]
    """The station's answers to the CSMS on one connection: each answers at once; what it
    sets off starts after the answer (Part 2, F06: the triggered message follows it)."""

    def __init__(self, station: Station201, connection: ClientConnection) -> None:
        super().__init__(
            station.identity, connection, response_timeout=RESPONSE_TIMEOUT, logger=WIRE
        )
        self.station: Station201 = station

    async def route_message(self, raw_msg: str) -> None:
        await super().route_message(raw_msg)
        self.station.answered()

    def _evse_ids(self, evse: dict[str, Any] | None) -> list[int] | None:
        """The EVSEs an EVSEType means (absent or id 0: all); None when unknown."""
        if evse is None or evse.get("id", 0) == 0:
            return list(self.station.evses)
        known = evse["id"] in self.station.evses and evse.get("connector_id", 1) == CONNECTOR_ID
        return [evse["id"]] if known else None

    @on(Action.request_start_transaction)
    def on_request_start(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        **_: Any,
    ) -> Any:
        accepted = self.station.remote_start(
            id_token["id_token"], evse_id, remote_start_id, id_token["type"]
        )
        return call_result.RequestStartTransaction(status="Accepted" if accepted else "Rejected")

    @on(Action.request_stop_transaction)
    def on_request_stop(self, transaction_id: str, **_: Any) -> Any:
        stopped = self.station.remote_stop(
            lambda tx: tx.local_id == transaction_id, StopCause.REMOTE
        )
        return call_result.RequestStopTransaction(status="Accepted" if stopped else "Rejected")

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        station = self.station
        evse_ids = self._evse_ids(evse)
        status = "Rejected"
        if evse_ids is not None:
            status = self._trigger(requested_message, evse_ids, all_evses=evse is None)
        station.report(f"TriggerMessage {requested_message}: {status}")
        return call_result.TriggerMessage(status=status)

    def _trigger(self, requested: str, evse_ids: list[int], *, all_evses: bool) -> str:
        station = self.station
        if requested == "TransactionEvent":
            return "Accepted" if station.triggered_events(evse_ids) else "Rejected"
        messages = {
            "BootNotification": lambda: [station.boot_message()],
            "Heartbeat": lambda: [station.heartbeat_message()],
            "StatusNotification": lambda: station.status_messages(None if all_evses else evse_ids),
            "MeterValues": lambda: station.meter_values_messages(evse_ids),
        }.get(requested)
        if messages is None:
            return "NotImplemented"
        station.send_after_answer(messages())
        return "Accepted"

    @on(Action.reset)
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> Any:
        station = self.station
        if evse_id is not None:  # resetting one EVSE is optional: not on this station
            return call_result.Reset(status="Rejected")
        on_idle = type == "OnIdle"
        busy = any(e.transaction is not None for e in station.evses.values())
        status = "Scheduled" if on_idle and busy else "Accepted"
        station.report(f"Reset {type}: {status}")
        station.later(lambda: station.reset(StopCause.HARD_RESET, on_idle=on_idle))
        return call_result.Reset(status=status)

    @on(Action.change_availability)
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        evse_ids = self._evse_ids(evse)
        status = None
        if evse_ids is not None:
            status = self.station.change_availability(
                evse_ids, operative=operational_status == "Operative"
            )
        return call_result.ChangeAvailability(status=status or "Rejected")

    @on(Action.unlock_connector)
    def on_unlock_connector(self, evse_id: int, connector_id: int, **_: Any) -> Any:
        evse = self.station.evses.get(evse_id)
        if self.station.behaviour.refuse_remote:
            status = "UnlockFailed"
        elif evse is None or connector_id != CONNECTOR_ID:
            status = "UnknownConnector"
        elif evse.transaction is not None:  # Part 2, F05: not while a transaction runs
            status = "OngoingAuthorizedTransaction"
        else:
            status = "Unlocked"
        self.station.report(f"UnlockConnector {evse_id}/{connector_id}: {status}")
        return call_result.UnlockConnector(status=status)

    @on(Action.reserve_now)
    def on_reserve_now(
        self,
        id: int,
        expiry_date_time: str,
        id_token: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> Any:
        if evse_id is None:  # reserving "any EVSE" is optional: not on this station
            return call_result.ReserveNow(status="Rejected")
        status = self.station.reservations.reserve(
            id, evse_id, id_token["id_token"], expiry_of(expiry_date_time)
        )
        return call_result.ReserveNow(status=status)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        cancelled = self.station.reservations.cancel(reservation_id)
        return call_result.CancelReservation(status="Accepted" if cancelled else "Rejected")
