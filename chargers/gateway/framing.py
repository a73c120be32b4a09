"""Reading the OCPP-J frames a charge point sends (OCPP-J 1.6 §4, OCPP 2.0.1 Part 4 §4).

A frame is a JSON array: [2, id, action, payload] (CALL), [3, id, payload] (CALLRESULT) or
[4, id, code, description, details] (CALLERROR). One that is not is a `BadFrame`: a CALL, or
what cannot be told apart from one, is answered with a CALLERROR of the version's code and the
connection goes on; a bad CALLRESULT or CALLERROR is never answered (there is nothing to
answer in 1.6 and 2.0.1), only logged.
"""

import json
from enum import Enum
from typing import Any, TypeAlias

from ocpp.exceptions import OCPPError
from ocpp.messages import Call, CallError, CallResult, MessageType, unpack

from chargers.gateway import errors

Frame: TypeAlias = Call | CallResult | CallError

# A message id is a string of at most 36 characters (OCPP-J 1.6 §4.1.4, 2.0.1 Part 4).
MAX_MESSAGE_ID = 36


class Problem(Enum):
    NOT_JSON = "not JSON"
    NOT_AN_ARRAY = "not a JSON array"
    WRONG_LENGTH = "wrong number of elements for its message type"
    UNREADABLE_ID = "message id missing or not a string of at most 36 characters"
    UNKNOWN_MESSAGE_TYPE = "unknown message type"
    ACTION_NOT_A_STRING = "action not a string"
    PAYLOAD_NOT_AN_OBJECT = "payload not a JSON object"


# 1.6 has no code for a frame that is not a valid RPC message: its closest ones are used.
_CODES = {
    "1.6": {
        Problem.NOT_JSON: errors.format_violation("1.6"),
        Problem.NOT_AN_ARRAY: errors.format_violation("1.6"),
        Problem.WRONG_LENGTH: errors.PROTOCOL_ERROR,
        Problem.UNREADABLE_ID: errors.format_violation("1.6"),
        Problem.UNKNOWN_MESSAGE_TYPE: errors.PROPERTY_CONSTRAINT_VIOLATION,
        Problem.ACTION_NOT_A_STRING: errors.format_violation("1.6"),
        Problem.PAYLOAD_NOT_AN_OBJECT: errors.format_violation("1.6"),
    },
    "2.0.1": {
        Problem.NOT_JSON: errors.RPC_FRAMEWORK_ERROR,
        Problem.NOT_AN_ARRAY: errors.RPC_FRAMEWORK_ERROR,
        Problem.WRONG_LENGTH: errors.RPC_FRAMEWORK_ERROR,
        Problem.UNREADABLE_ID: errors.RPC_FRAMEWORK_ERROR,
        Problem.UNKNOWN_MESSAGE_TYPE: errors.MESSAGE_TYPE_NOT_SUPPORTED,
        Problem.ACTION_NOT_A_STRING: errors.RPC_FRAMEWORK_ERROR,
        Problem.PAYLOAD_NOT_AN_OBJECT: errors.format_violation("2.0.1"),
    },
}

_MESSAGE_TYPES = (MessageType.Call, MessageType.CallResult, MessageType.CallError)


class BadFrame(Exception):
    def __init__(self, problem: Problem, unique_id: str, message_type: int | None) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.unique_id = unique_id
        self.message_type = message_type

    @property
    def answered(self) -> bool:
        """A CALLRESULT or CALLERROR is never answered, even when it is malformed."""
        return self.message_type not in (MessageType.CallResult, MessageType.CallError)

    def call_error(self, version: str) -> str:
        code = _CODES[version][self.problem]
        return errors.call_error(self.unique_id, code, f"Frame {self.problem.value}")


def read(text: str) -> Frame:
    """The frame `text` (with the `ocpp` library's unpack), or BadFrame."""
    try:
        frame: Frame = unpack(text)
    except RecursionError as error:  # nested deeper than the JSON parser goes
        raise BadFrame(Problem.NOT_JSON, errors.UNREADABLE_ID, None) from error
    except OCPPError as error:
        raise _diagnose(text) from error
    _check(frame, text)
    return frame


def _check(frame: Frame, text: str) -> None:
    """What unpack leaves unchecked: element count and the types of id, action and payload."""
    if not readable_id(frame.unique_id):
        raise BadFrame(Problem.UNREADABLE_ID, errors.UNREADABLE_ID, frame.message_type_id)
    unique_id: str = frame.unique_id
    if isinstance(frame, Call):
        if not isinstance(frame.action, str):
            raise BadFrame(Problem.ACTION_NOT_A_STRING, unique_id, MessageType.Call)
        if not isinstance(frame.payload, dict):
            raise BadFrame(Problem.PAYLOAD_NOT_AN_OBJECT, unique_id, MessageType.Call)
    elif isinstance(frame, CallResult) and frame.action is not None:
        raise BadFrame(Problem.WRONG_LENGTH, unique_id, MessageType.CallResult)
    elif isinstance(frame, CallError) and (
        frame.error_details is None or not isinstance(frame.error_code, str)
    ):
        raise BadFrame(Problem.WRONG_LENGTH, unique_id, MessageType.CallError)


def _diagnose(text: str) -> BadFrame:
    """What is wrong with a frame unpack refused, and the message id to answer it with."""
    try:
        value: Any = json.loads(text)
    except ValueError:
        return BadFrame(Problem.NOT_JSON, errors.UNREADABLE_ID, None)
    if not isinstance(value, list):
        return BadFrame(Problem.NOT_AN_ARRAY, errors.UNREADABLE_ID, None)
    if not value:
        return BadFrame(Problem.WRONG_LENGTH, errors.UNREADABLE_ID, None)
    message_type = value[0] if type(value[0]) is int else None
    unique_id = value[1] if len(value) > 1 and readable_id(value[1]) else errors.UNREADABLE_ID
    if message_type not in _MESSAGE_TYPES:
        return BadFrame(Problem.UNKNOWN_MESSAGE_TYPE, unique_id, message_type)
    return BadFrame(Problem.WRONG_LENGTH, unique_id, message_type)


def readable_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_MESSAGE_ID
