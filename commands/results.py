"""The CommandResult of a command, POSTed to its response_url through the outbox.

The result of a command sent to a charge point is decided by the follow-up of its call
(chargers.follow_ups): once, after the call has ended, in a worker; nobody waits on the
call. What the charge point said becomes a CommandResultType:

| call                                   | START / STOP_SESSION | UNLOCK_CONNECTOR  |
|----------------------------------------|----------------------|-------------------|
| answered Accepted                      | ACCEPTED             |                   |
| answered Unlocked                      |                      | ACCEPTED          |
| answered UnlockFailed                  |                      | FAILED            |
| answered NotSupported (1.6)            |                      | NOT_SUPPORTED     |
| answered anything else (Rejected, …)   | REJECTED             | REJECTED          |
| CALLERROR NotImplemented/NotSupported  | NOT_SUPPORTED        | NOT_SUPPORTED     |
| CALLERROR, anything else               | FAILED               | FAILED            |
| no answer before the deadline          | TIMEOUT              | TIMEOUT           |

RESERVE_NOW: Accepted → ACCEPTED, Occupied → EVSE_OCCUPIED, Faulted / Unavailable →
EVSE_INOPERATIVE, Rejected → REJECTED; CANCEL_RESERVATION: Accepted → ACCEPTED, Rejected (the
charge point has no such reservation) → UNKNOWN_RESERVATION; CALLERROR and no answer as above.
A held reservation the CPO side ends (the operator, the charge point) is reported to the
RESERVE_NOW's response_url as CANCELED_RESERVATION (mod_commands, "Reservation canceled by
the CPO"); one that expires, or its eMSP cancelled, is not.

A START_SESSION is ACCEPTED whenever the transaction it asked for already started, answer or
not (chargers.remote.settle): the eMSP is never told TIMEOUT for a session it then receives.
"""

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from chargers import remote, reservations
from chargers.authorization import ACCEPTED
from chargers.follow_ups import follow_up
from chargers.models import (
    CallState,
    ChargePointCall,
    RemoteStart,
    Reservation,
    ReservationEnd,
)
from commands.models import Command, CommandResultType, CommandState, CommandType
from commands.serializers import command_result
from ocpi.enums import ModuleID
from ocpi.routing import PartyRef
from push.services import post_result

FOLLOW_UP = "commands.result"

NOT_IMPLEMENTED = frozenset({"NotImplemented", "NotSupported"})
NOT_SUPPORTED = CommandResultType.NOT_SUPPORTED
# ReserveNow answers (1.6 ReservationStatus, 2.0.1 ReserveNowStatusEnumType) but Accepted.
RESERVE_RESULTS = {
    "Occupied": CommandResultType.EVSE_OCCUPIED,
    "Faulted": CommandResultType.EVSE_INOPERATIVE,
    "Unavailable": CommandResultType.EVSE_INOPERATIVE,
    "Rejected": CommandResultType.REJECTED,
}
UNLOCK_RESULTS = {
    remote.UNLOCKED: CommandResultType.ACCEPTED,
    "UnlockFailed": CommandResultType.FAILED,
    "NotSupported": CommandResultType.NOT_SUPPORTED,
}


def finish(command: Command, result: str, message: str) -> None:
    """Record the result and queue it to the response_url (in the caller's transaction)."""
    command.result = result
    command.result_message = message[:512]
    command.result_at = timezone.now()
    command.state = CommandState.DONE
    post_result(
        partner=command.partner,
        to=PartyRef.of(command.party_country_code, command.party_party_id),
        owner=PartyRef.of(command.owner_country_code, command.owner_party_id),
        module=ModuleID.COMMANDS.value,
        url=command.response_url,
        payload=command_result(result, message),
    )


@follow_up(FOLLOW_UP)
def call_ended(call: ChargePointCall) -> None:
    """The charge point answered (or not): the command's result, once."""
    command = Command.objects.select_for_update().filter(call=call).first()
    if command is None or command.state == CommandState.DONE:
        return
    result, message = outcome(command, call)
    finish(command, result, message)
    fields = ["result", "result_message", "result_at", "state"]
    if command.type == CommandType.START_SESSION:
        command.session = _session_started(call)
        fields.append("session")
    command.save(update_fields=fields)


def outcome(command: Command, call: ChargePointCall) -> tuple[str, str]:
    """The CommandResultType and message of an ended call (the table above)."""
    if command.type in (CommandType.RESERVE_NOW, CommandType.CANCEL_RESERVATION):
        return _reservation_outcome(command, call)
    if command.type == CommandType.START_SESSION:
        started = RemoteStart.objects.filter(call=call).first()
        if started is not None and remote.settle(started, call):
            return CommandResultType.ACCEPTED, _said(call) or "The transaction has started"
    if call.state == CallState.TIMED_OUT:
        return CommandResultType.TIMEOUT, "The charge point did not answer in time"
    if call.state == CallState.FAILED:
        kind = (
            CommandResultType.NOT_SUPPORTED
            if call.error_code in NOT_IMPLEMENTED
            else CommandResultType.FAILED
        )
        return (
            kind,
            f"The charge point refused the call: {call.error_code} {call.error_description}",
        )
    status = remote.answer_status(call)
    if command.type == CommandType.UNLOCK_CONNECTOR:
        return UNLOCK_RESULTS.get(status, CommandResultType.REJECTED), _said(call)
    if status == ACCEPTED:
        return CommandResultType.ACCEPTED, _said(call)
    return CommandResultType.REJECTED, _said(call)


def _reservation_outcome(command: Command, call: ChargePointCall) -> tuple[str, str]:
    """ReserveNow / CancelReservation: the answer applied to the reservation first (the
    contract of chargers.reservations), then reported."""
    reservation = reservations.answered(call)
    said = reservations.outcome(call)
    if call.state == CallState.TIMED_OUT:
        return CommandResultType.TIMEOUT, "The charge point did not answer in time"
    if call.state == CallState.FAILED:
        kind = NOT_SUPPORTED if call.error_code in NOT_IMPLEMENTED else CommandResultType.FAILED
        return kind, said
    status = remote.answer_status(call)
    if status == ACCEPTED:
        return CommandResultType.ACCEPTED, _said(call)
    if command.type == CommandType.CANCEL_RESERVATION:
        # OCPP Rejected: the charge point holds no such reservation.
        return CommandResultType.UNKNOWN_RESERVATION, _said(call)
    result = RESERVE_RESULTS.get(status, CommandResultType.REJECTED)
    if reservation is not None and reservation.answer:
        said = f"The charge point answered {reservation.answer}"
    return result, said


def _said(call: ChargePointCall) -> str:
    """What the charge point answered, for the message: its status and reason."""
    response: Any = call.response if isinstance(call.response, dict) else {}
    status = response.get("status")
    if not status:
        return ""
    info = response.get("statusInfo") or {}
    reason = info.get("reasonCode") if isinstance(info, dict) else None
    return f"The charge point answered {status}" + (f" ({reason})" if reason else "")


@receiver(reservations.reservation_ended)
def reservation_ended(sender: Any, reservation: Reservation, **kwargs: Any) -> None:
    """A held reservation ended: CANCELED_RESERVATION to its RESERVE_NOW's response_url when
    the CPO side ended it (in the transaction that ends it)."""
    if reservation.ended_by not in (ReservationEnd.OPERATOR, ReservationEnd.CHARGE_POINT):
        return
    command = Command.objects.filter(call_id=reservation.call_id).first()
    if command is None:
        return  # made from the admin, or by another eMSP path: nobody to tell
    by = "the operator" if reservation.ended_by == ReservationEnd.OPERATOR else "the charge point"
    post_result(
        partner=command.partner,
        to=PartyRef.of(command.party_country_code, command.party_party_id),
        owner=PartyRef.of(command.owner_country_code, command.owner_party_id),
        module=ModuleID.COMMANDS.value,
        url=command.response_url,
        payload=command_result(
            CommandResultType.CANCELED_RESERVATION, f"The reservation was cancelled by {by}"
        ),
    )


def _session_started(call: ChargePointCall) -> Any:
    started = RemoteStart.objects.filter(call=call).select_related("transaction__session").first()
    if started is None or started.transaction is None:
        return None
    return started.transaction.session
