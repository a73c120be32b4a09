"""CALLERROR codes, spelled as each OCPP version spells them.

OCPP-J 1.6 §4.2.3 and OCPP 2.0.1 Part 4 (CALLERROR). Two 1.6 typos were kept on purpose
(OCPP-J 1.6 errata, "Known issues that will not be fixed"): FormationViolation, which 2.0.1
spells FormatViolation, and OccurenceConstraintViolation, which 2.0.1 keeps too (fixed only in
2.1). 2.0.1 adds RpcFrameworkError (not a valid RPC message, e.g. its id can't be read) and
MessageTypeNotSupported.

NotImplemented is an action the receiver does not know; NotSupported one it recognises but does
not support (both versions' tables; the `ocpp` library's exception texts swap the two).
"""

import json
from typing import Any

NOT_IMPLEMENTED = "NotImplemented"
NOT_SUPPORTED = "NotSupported"
INTERNAL_ERROR = "InternalError"
PROTOCOL_ERROR = "ProtocolError"
SECURITY_ERROR = "SecurityError"
PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
OCCURRENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"
TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
GENERIC_ERROR = "GenericError"
RPC_FRAMEWORK_ERROR = "RpcFrameworkError"  # 2.0.1
MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"  # 2.0.1

# The message id of a CALLERROR answering a frame whose id cannot be read (2.0.1 Part 4;
# 1.6 says nothing, and the same is the least surprising there).
UNREADABLE_ID = "-1"
# errorDescription is at most 255 characters (2.0.1 Part 4, CALLERROR).
MAX_DESCRIPTION = 255


def format_violation(version: str) -> str:
    return "FormationViolation" if version == "1.6" else "FormatViolation"


def call_error(
    unique_id: str, code: str, description: str, details: dict[str, Any] | None = None
) -> str:
    """The CALLERROR frame [4, id, code, description, details]."""
    frame = [4, unique_id, code, description[:MAX_DESCRIPTION], details or {}]
    return json.dumps(frame, separators=(",", ":"))
