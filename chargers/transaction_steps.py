"""Transaction messages of both OCPP versions, read as Steps: what happened at which moment.

Each message is stored as it came (TransactionEvent.payload) and read here when it is
applied, so that one applied long after its arrival (held for a missing one, or on another
process) reads exactly as it would have then: its times are resolved against its own
received_at (chargers.clock: an impossible time is our time of receipt).

    1.6   StartTransaction   the token, the connector, meterStart (Wh): connected, starts
          MeterValues        samples
          StopTransaction    meterStop as a Transaction.End sample, transactionData, reason
    2.0.1 Started/Updated/Ended  samples, idToken, evse, chargingState, triggerReason,
                                 stoppedReason
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from chargers.metering import Sample, moment, samples_of
from chargers.models import ChargePoint, OcppVersion

START_TRANSACTION = "StartTransaction"
METER_VALUES = "MeterValues"
STOP_TRANSACTION = "StopTransaction"
STARTED = "Started"
UPDATED = "Updated"
ENDED = "Ended"
ENDING = (STOP_TRANSACTION, ENDED)
VERSION_16 = (START_TRANSACTION, METER_VALUES, STOP_TRANSACTION)

# "Absent: Local" (1.6 StopTransaction.reason; 2.0.1 stoppedReason "MAY only be omitted when
# Reason is Local").
DEFAULT_STOP_REASON = "Local"
# 2.0.1 ChargingStateEnumType → charging time or parking time. OCPI's PARKING_TIME is the time
# the vehicle does not request power (mod_cdrs, errata): SuspendedEV, EVConnected and Idle;
# while the EVSE withholds power the vehicle requests (SuspendedEVSE) it is charging time.
# Idle means no EV is connected.
REQUESTING_POWER = frozenset({"Charging", "SuspendedEVSE"})
IDLE = "Idle"
# 2.0.1 TriggerReasonEnumType values that tell whether an EV is connected.
CONNECTED_TRIGGERS = frozenset({"CablePluggedIn", "EVDetected"})
DISCONNECTED_TRIGGERS = frozenset({"EVDeparted"})


@dataclass(frozen=True)
class Step:
    kind: str
    at: datetime
    samples: tuple[Sample, ...] = ()
    meter_start_wh: Decimal | None = None
    id_token: str = ""
    id_token_type: str = ""
    ocpp_evse_id: int | None = None
    connector_id: int | None = None
    charging_state: str = ""
    connected: bool | None = None
    stop_reason: str = ""
    remote_start_id: int | None = None  # 2.0.1: of the RequestStartTransaction that began it

    @property
    def version(self) -> str:
        return OcppVersion.V16 if self.kind in VERSION_16 else OcppVersion.V201

    @property
    def ends(self) -> bool:
        return self.kind in ENDING

    @property
    def may_start_session(self) -> bool:
        """A token sent when the transaction ends only stops it (StopAuthorized)."""
        return bool(self.id_token) and not self.ends


def read_step(
    charge_point: ChargePoint, kind: str, payload: Mapping[str, Any], received_at: datetime
) -> Step:
    reader = _READERS[kind]
    return reader(charge_point, kind, payload, received_at)


def step_moments(
    charge_point: ChargePoint, kind: str, payload: Mapping[str, Any], received_at: datetime
) -> tuple[datetime, datetime]:
    """read_step(...).at without reading the samples: what a message is stored under
    (TransactionEvent.timestamp) when it is stored before it is applied; and its latest
    moment (a 1.6 MeterValues' last meterValue), which tells whether applying it can wait
    (chargers.charging.quiet_until)."""
    if kind == METER_VALUES:
        moments = [
            moment(charge_point, meter_value.get("timestamp"), received_at)
            for meter_value in payload["meterValue"]
        ]
        return min(moments), max(moments)
    at = moment(charge_point, payload["timestamp"], received_at)
    return at, at


def _start_transaction(
    charge_point: ChargePoint, kind: str, payload: Mapping[str, Any], received_at: datetime
) -> Step:
    return Step(
        kind=kind,
        at=moment(charge_point, payload["timestamp"], received_at),
        meter_start_wh=Decimal(payload["meterStart"]),
        id_token=payload["idTag"],
        ocpp_evse_id=payload["connectorId"],
        connected=True,
    )


def _meter_values(
    charge_point: ChargePoint, kind: str, payload: Mapping[str, Any], received_at: datetime
) -> Step:
    samples = samples_of(charge_point, payload["meterValue"], received_at)
    return Step(kind=kind, at=samples[0].at, samples=tuple(samples))


def _stop_transaction(
    charge_point: ChargePoint, kind: str, payload: Mapping[str, Any], received_at: datetime
) -> Step:
    at = moment(charge_point, payload["timestamp"], received_at)
    samples = samples_of(charge_point, payload.get("transactionData") or [], received_at)
    final = Sample(at=at, context="Transaction.End", register_wh=Decimal(payload["meterStop"]))
    return Step(
        kind=kind,
        at=at,
        samples=(*samples, final),
        id_token=payload.get("idTag") or "",
        stop_reason=payload.get("reason") or DEFAULT_STOP_REASON,
    )


def _transaction_event(
    charge_point: ChargePoint, kind: str, payload: Mapping[str, Any], received_at: datetime
) -> Step:
    info = payload["transactionInfo"]
    context = {STARTED: "Transaction.Begin", ENDED: "Transaction.End"}.get(kind, "Sample.Periodic")
    samples = samples_of(charge_point, payload.get("meterValue") or [], received_at, context)
    evse = payload.get("evse") or {}
    id_token = payload.get("idToken") or {}
    state = info.get("chargingState") or ""
    trigger = payload["triggerReason"]
    connected = None
    if (state and state != IDLE) or trigger in CONNECTED_TRIGGERS:
        connected = True
    elif state == IDLE or trigger in DISCONNECTED_TRIGGERS:
        connected = False
    return Step(
        kind=kind,
        at=moment(charge_point, payload["timestamp"], received_at),
        samples=tuple(samples),
        id_token=id_token.get("idToken", ""),
        id_token_type=id_token.get("type", ""),
        ocpp_evse_id=evse.get("id"),
        connector_id=evse.get("connectorId"),
        charging_state=state,
        connected=connected,
        stop_reason=(info.get("stoppedReason") or DEFAULT_STOP_REASON) if kind == ENDED else "",
        remote_start_id=info.get("remoteStartId"),
    )


_READERS = {
    START_TRANSACTION: _start_transaction,
    METER_VALUES: _meter_values,
    STOP_TRANSACTION: _stop_transaction,
    STARTED: _transaction_event,
    UPDATED: _transaction_event,
    ENDED: _transaction_event,
}
