"""What the gateway does with each CALL a charge point sends: one handler per (version, action).

A handler is a plain synchronous function `(Context, payload) -> response payload`, payloads
as on the wire (camelCase dicts, already schema-checked by the gateway). The gateway runs it in
a worker thread, so it may use the ORM and the services freely. It refuses with an
`ocpp.exceptions.OCPPError` (the gateway answers that CALLERROR); any other exception is
answered InternalError and logged. An action with no handler is answered NotImplemented.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chargers.models import ChargePoint

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


def _load() -> None:
    """Import every handler module once (they register themselves)."""
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
