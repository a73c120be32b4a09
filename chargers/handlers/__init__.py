"""What the gateway does with each CALL a charge point sends: one handler per (version, action).

A handler is a plain synchronous function `(Context, payload) -> response payload`, payloads
as on the wire (camelCase dicts, already schema-checked by the gateway). The gateway runs it in
a worker thread, so it may use the ORM and the services freely. It refuses with an
`ocpp.exceptions.OCPPError` (the gateway answers that CALLERROR); any other exception is
answered InternalError and logged. An action the version defines but no handler takes is answered
NotSupported (chargers.gateway.errors).
Before any handler, the gateway asks `admitted()` whether the charge point may send that CALL.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocpp.exceptions import SecurityError

from chargers.models import ChargePoint, RegistrationStatus

Payload = dict[str, Any]


@dataclass(frozen=True)
class Context:
    charge_point: ChargePoint  # as read when the message arrived
    version: str  # "1.6" or "2.0.1": the subprotocol of this connection
    received_at: datetime  # our clock, when the frame arrived
    unique_id: str  # the CALL's message id


Handler = Callable[[Context, Payload], Payload]

_HANDLERS: dict[tuple[str, str], Handler] = {}
# Handlers run in worker threads: the first messages may ask for handlers all at once, and
# none may see the registry half filled.
_LOADING = threading.Lock()
_loaded = False


def handles(version: str, *actions: str) -> Callable[[Handler], Handler]:
    """Register the decorated function for `actions` of OCPP `version`."""

    def register(handler: Handler) -> Handler:
        for action in actions:
            key = (version, action)
            if key in _HANDLERS:
                raise RuntimeError(f"Two handlers for OCPP {version} {action}")
            _HANDLERS[key] = handler
        return handler

    return register


def handler_for(version: str, action: str) -> Handler | None:
    _load()
    return _HANDLERS.get((version, action))


def admitted_to_all(boot_status: str) -> bool:
    """Whether a charge point whose last BootNotification was answered `boot_status` may send
    any CALL: accepted, or never answered since it was provisioned (see `admitted`)."""
    return boot_status in ("", RegistrationStatus.ACCEPTED)


def admitted(context: Context, action: str) -> None:
    """Refuse (SecurityError) a CALL its charge point may not send before it is accepted.

    Once its BootNotification was answered Pending, it may send another BootNotification and
    what we ask it for; once Rejected, only BootNotification (1.6 §4.2; 2.0.1 B01.FR.10,
    B02.FR.09 name SecurityError; 1.6 names no error, and SecurityError says the same). A
    charge point not answered since it was provisioned is admitted: those rules hold only once
    a BootNotification was answered, and a charge point that reconnects does not boot again.
    No query for an accepted charge point: the gateway calls this before every handler.
    """
    status = context.charge_point.boot_status
    if admitted_to_all(status) or action == "BootNotification":
        return
    from chargers.handlers.boot import solicited

    if status == RegistrationStatus.PENDING and solicited(
        context.charge_point, action, context.received_at
    ):
        return
    raise SecurityError(f"{action} refused: its BootNotification was answered {status}")


def _load() -> None:
    """Import every handler module once (they register themselves). A flag of its own, not
    "the registry is not empty": a registration made before the first lookup (a test's) must
    not keep the real modules out; a lock, so that a thread never sees a half-filled registry."""
    global _loaded
    from importlib import import_module
    from pkgutil import iter_modules

    if _loaded:
        return
    with _LOADING:
        if _loaded:
            return
        for module in iter_modules(__path__):
            import_module(f"{__name__}.{module.name}")
        _loaded = True
