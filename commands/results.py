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

A START_SESSION is ACCEPTED whenever the transaction it asked for already started, answer or
not (chargers.remote.settle): the eMSP is never told TIMEOUT for a session it then receives.
"""

from typing import Any

from django.utils import timezone

from chargers import remote
from chargers.authorization import ACCEPTED
from chargers.follow_ups import follow_up
from chargers.models import CallState, ChargePointCall, RemoteStart
from commands.models import Command, CommandResultType, CommandState, CommandType
from commands.serializers import command_result
from ocpi.enums import ModuleID
from ocpi.routing import PartyRef
from push.services import post_result

FOLLOW_UP = "commands.result"

NOT_IMPLEMENTED = frozenset({"NotImplemented", "NotSupported"})
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


def _said(call: ChargePointCall) -> str:
    """What the charge point answered, for the message: its status and reason."""
    response: Any = call.response if isinstance(call.response, dict) else {}
    status = response.get("status")
    if not status:
        return ""
    info = response.get("statusInfo") or {}
    reason = info.get("reasonCode") if isinstance(info, dict) else None
    return f"The charge point answered {status}" + (f" ({reason})" if reason else "")


def _session_started(call: ChargePointCall) -> Any:
    started = RemoteStart.objects.filter(call=call).select_related("transaction__session").first()
    if started is None or started.transaction is None:
        return None
    return started.transaction.session
