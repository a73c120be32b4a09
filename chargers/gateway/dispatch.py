"""Answering one CALL of a charge point: run in a worker thread of the gateway.

The charge point's row is read afresh for every CALL (one primary-key SELECT): an operator's
edits in the admin (relaxed_validation, registration_status, heartbeat_interval) apply from its
next message on, and each handler gets an instance no other thread touches.

But a Heartbeat, the most frequent CALL, needs neither the row nor the database: `at_once`
answers it on the event loop when the charge point's last BootNotification was accepted (the
gateway keeps that answer for the connection: only a BootNotification on it changes it) and
its payload is valid without relaxations. Anything else (not accepted yet, a payload only a
relaxation lets through) goes the whole way. That it came is recorded with its other frames
(chargers.gateway.messagelog: last_message_at); a charge point deleted meanwhile has its
Heartbeats answered until the gateway's next check of its rows closes the connection
(OCPP_GATEWAY_POLL_SECONDS), where any other CALL finds out at once.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.messages import Call, MessageType

from chargers.gateway import errors, validation
from chargers.handlers import Context, admitted, admitted_to_all, handler_for
from chargers.handlers.boot import heartbeat, heartbeat_answer
from chargers.models import ChargePoint

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Answer:
    frame: str  # the CALLRESULT or CALLERROR to send
    message_type: int
    charge_point: ChargePoint | None  # as read for this CALL (None: not read)
    gone: bool = False  # its row was deleted: the connection is to be closed


def answer(charge_point_pk: int, version: str, call: Call, received_at: datetime) -> Answer:
    try:
        return _answer(charge_point_pk, version, call, received_at)
    except Exception:  # the database, a handler module that fails to import: never unanswered
        logger.exception(
            "Answering %s %s of charge point %s failed", version, call.action, charge_point_pk
        )
        return _error(call, errors.INTERNAL_ERROR, "The central system failed", None)


def _answer(charge_point_pk: int, version: str, call: Call, received_at: datetime) -> Answer:
    charge_point = ChargePoint.objects.filter(pk=charge_point_pk).first()
    if charge_point is None:
        return gone(call)
    context = Context(charge_point, version, received_at, call.unique_id)
    refused = refusal(context, call)
    if refused is not None:
        return refused
    handler = handler_for(version, call.action)
    assert handler is not None  # refusal() says NotSupported otherwise
    try:
        payload = handler(context, call.payload)
    except OCPPError as error:
        return _refused(call, error, charge_point)
    except Exception:
        logger.exception("Handler of %s %s failed for %s", version, call.action, charge_point)
        return _error(call, errors.INTERNAL_ERROR, "The handler failed", charge_point)
    return _result(call, payload, version, charge_point)


def at_once(version: str, call: Call, boot_status: str) -> Answer | None:
    """The answer to a CALL that needs no database (a Heartbeat of a charge point whose last
    boot was accepted, valid as it is), on the event loop; None: it goes to `answer`."""
    if call.action != "Heartbeat" or not admitted_to_all(boot_status):
        return None
    if handler_for(version, call.action) is not heartbeat:  # another registered (a test's)
        return None
    validator = validation.schema(MessageType.Call, call.action, version)
    if validator is None or validation.violation(validator, call.payload, version):
        return None
    return _result(call, heartbeat_answer(), version, None)


def gone(call: Call) -> Answer:
    """The answer to a CALL of a charge point whose row was deleted."""
    refused = _error(call, errors.SECURITY_ERROR, "This charge point is not provisioned", None)
    return Answer(refused.frame, refused.message_type, None, gone=True)


def refusal(context: Context, call: Call) -> Answer | None:
    """The CALLERROR for a CALL no handler may see (an unknown or unsupported action, a payload
    its schema refuses, a charge point not admitted to send it), or None."""
    charge_point, version = context.charge_point, context.version
    validator = validation.schema(MessageType.Call, call.action, version)
    if validator is None:
        return _error(call, errors.NOT_IMPLEMENTED, f"Unknown action {call.action}", charge_point)
    if handler_for(version, call.action) is None:
        return _error(call, errors.NOT_SUPPORTED, f"{call.action} is not supported", charge_point)
    found = validation.violation(validator, call.payload, version, relaxed(charge_point))
    if found is not None:
        return _error(call, found.code, found.description, charge_point, found.details)
    try:
        admitted(context, call.action)
    except OCPPError as error:
        return _refused(call, error, charge_point)
    return None


def acknowledged(call: Call, charge_point: ChargePoint) -> Answer:
    """The CALLRESULT with an empty payload (MeterValues.conf, TransactionEventResponse
    without idTokenInfo: both valid empty)."""
    frame = json.dumps([MessageType.CallResult, call.unique_id, {}], separators=(",", ":"))
    return Answer(frame, MessageType.CallResult, charge_point)


def _refused(call: Call, error: OCPPError, charge_point: ChargePoint) -> Answer:
    details = error.details if isinstance(error.details, dict) else {}
    return _error(call, error.code, error.description, charge_point, details)


def relaxed(charge_point: ChargePoint) -> list[str]:
    """The schema keywords relaxed for this charge point (an admin edits the JSON freely)."""
    keywords = charge_point.relaxed_validation
    if not isinstance(keywords, list):
        return []
    return [keyword for keyword in keywords if isinstance(keyword, str)]


def _result(call: Call, payload: Any, version: str, charge_point: ChargePoint | None) -> Answer:
    """The CALLRESULT, if the handler's payload is valid: a handler's bug must never reach the
    charge point as data it could act on."""
    schema = validation.schema(MessageType.CallResult, call.action, version)
    found = None if schema is None else validation.violation(schema, payload, version)
    if found is not None:
        logger.error(
            "Handler of %s %s answered %s an invalid payload (%s): %r",
            version,
            call.action,
            charge_point,
            found.description,
            payload,
        )
        return _error(call, errors.INTERNAL_ERROR, "The answer failed validation", charge_point)
    try:
        frame = json.dumps([MessageType.CallResult, call.unique_id, payload], separators=(",", ":"))
    except (TypeError, ValueError):
        logger.exception("Handler of %s %s answered a payload not JSON", version, call.action)
        return _error(call, errors.INTERNAL_ERROR, "The answer is not JSON", charge_point)
    return Answer(frame, MessageType.CallResult, charge_point)


def _error(
    call: Call,
    code: str,
    description: str,
    charge_point: ChargePoint | None,
    details: dict[str, Any] | None = None,
) -> Answer:
    return Answer(
        errors.call_error(call.unique_id, code, description, details),
        MessageType.CallError,
        charge_point,
    )
