"""Payloads checked against the OCPP JSON schemas the `ocpp` library ships.

A charge point's vendor may send payloads that break its version's schema in ways that do no
harm (an extra property, a string too long): ChargePoint.relaxed_validation lists the JSON
schema keywords whose violations are let through for that charge point only. What we answer is
always checked in full.

A violation is answered with the CALLERROR code its keyword means (OCPP-J 1.6 §4.2.3, 2.0.1
Part 4), as the library maps them, more finely where the spec's texts say so:
    type, minLength, maxLength   TypeConstraintViolation (the data types are sized strings)
    required                     ProtocolError ("payload for Action is incomplete")
    minItems, maxItems           OccurenceConstraintViolation (a field's cardinality)
    enum, minimum, pattern, ...  PropertyConstraintViolation ("a field contains an invalid value")
    additionalProperties, other  FormationViolation (1.6) / FormatViolation (2.0.1)
"""

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft4Validator
from jsonschema.exceptions import best_match
from ocpp.messages import MessageType, get_validator

from chargers.gateway import errors

# An action is a name; anything else would be read as part of a schema's file path.
ACTION_NAME = re.compile(r"[A-Z][A-Za-z0-9]{0,49}")

_KEYWORD_CODES = {
    "type": errors.TYPE_CONSTRAINT_VIOLATION,
    "minLength": errors.TYPE_CONSTRAINT_VIOLATION,
    "maxLength": errors.TYPE_CONSTRAINT_VIOLATION,
    "required": errors.PROTOCOL_ERROR,
    "minItems": errors.OCCURRENCE_CONSTRAINT_VIOLATION,
    "maxItems": errors.OCCURRENCE_CONSTRAINT_VIOLATION,
    "enum": errors.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": errors.PROPERTY_CONSTRAINT_VIOLATION,
    "maximum": errors.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMinimum": errors.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMaximum": errors.PROPERTY_CONSTRAINT_VIOLATION,
    "multipleOf": errors.PROPERTY_CONSTRAINT_VIOLATION,
    "pattern": errors.PROPERTY_CONSTRAINT_VIOLATION,
    "format": errors.PROPERTY_CONSTRAINT_VIOLATION,
}


# The library validates these with floats parsed as Decimal (multipleOf 0.1 in 1.6 charging
# profiles fails on binary floats: ocpp.messages._validate_payload); so do we, so that what
# the library's charge points accept is what we accept.
_DECIMAL_SCHEMAS_16 = {
    (MessageType.Call, "SetChargingProfile"),
    (MessageType.Call, "RemoteStartTransaction"),
    (MessageType.CallResult, "GetCompositeSchedule"),
}


@dataclass(frozen=True, slots=True)
class Violation:
    code: str
    description: str
    details: dict[str, str]


def schema(message_type: int, action: str, version: str) -> Draft4Validator | None:
    """The schema of `action`'s CALL (2) or CALLRESULT (3) in `version`; None if the version
    does not define the action."""
    # 1.6 names a response's schema <Action>Response: that is no action a charge point sends.
    if not ACTION_NAME.fullmatch(action) or action.endswith("Response"):
        return None
    return _schema(message_type, action, version)


def _decimal(message_type: int, action: str, version: str) -> bool:
    return version == "1.6" and (message_type, action) in _DECIMAL_SCHEMAS_16


# The same schemas compiled by jsonschema-rs, by id() of the jsonschema validator (kept here
# alive with it): a payload they find valid is valid, in a few µs instead of the ~0.3 ms
# jsonschema's walk takes for a MeterValues (a large share of a message's CPU in the gateway).
# Only an invalid one is walked by jsonschema, which names the keyword a CALLERROR needs.
# None for the schemas checked with Decimal numbers (multipleOf).
_COMPILED: dict[int, tuple[Draft4Validator, jsonschema_rs.Draft4Validator | None]] = {}


@lru_cache(maxsize=1024)
def _schema(message_type: int, action: str, version: str) -> Draft4Validator | None:
    decimal = _decimal(message_type, action, version)
    try:
        validator: Draft4Validator = get_validator(
            message_type, action, version, Decimal if decimal else float
        )
    except OSError:  # no such schema file
        return None
    compiled = (
        None if decimal else jsonschema_rs.Draft4Validator(validator.schema, validate_formats=False)
    )
    _COMPILED[id(validator)] = (validator, compiled)
    return validator


def _valid_compiled(validator: Draft4Validator, payload: Any) -> bool:
    """Whether the compiled schema says `payload` is valid (False: ask jsonschema)."""
    kept, compiled = _COMPILED.get(id(validator), (None, None))
    if kept is not validator or compiled is None:
        return False
    try:
        return compiled.is_valid(payload)
    except ValueError:  # not JSON (a handler's answer with a set in it): jsonschema says
        return False


def problems(
    message_type: int, action: str, version: str, payload: Any, relaxed: Collection[str] = ()
) -> list[str]:
    """Everything wrong with `payload` as the CALL (2) or CALLRESULT (3) of `action` in OCPP
    `version`, keywords in `relaxed` aside; empty: valid. For what we send and what answers it
    (chargers.calls), where every problem is worth reporting, not just the CALLERROR's one."""
    if not ACTION_NAME.fullmatch(action):
        return [f"{action!r} is not an OCPP action name"]
    validator = schema(message_type, action, version)
    if validator is None:
        return [f"OCPP {version} has no action {action!r}"]
    if _decimal(message_type, action, version):
        payload = json.loads(json.dumps(payload), parse_float=Decimal)
    return [
        f"{error.message} (at {'/'.join(map(str, error.absolute_path)) or 'the top level'})"
        for error in validator.iter_errors(payload)
        if error.validator not in relaxed
    ]


def violation(
    validator: Draft4Validator, payload: Any, version: str, relaxed: Collection[str] = ()
) -> Violation | None:
    """The most relevant violation of the schema by `payload`, keywords in `relaxed` aside."""
    if _valid_compiled(validator, payload):
        return None
    found = best_match(e for e in validator.iter_errors(payload) if e.validator not in relaxed)
    if found is None:
        return None
    keyword = str(found.validator)
    path = "/" + "/".join(str(part) for part in found.absolute_path)
    return Violation(
        code=_KEYWORD_CODES.get(keyword, errors.format_violation(version)),
        description=f"{path}: {found.message}",
        details={"keyword": keyword, "path": path},
    )
