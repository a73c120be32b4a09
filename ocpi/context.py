"""Request and correlation ids of the work in progress, for logs and outbound calls.

A call we make while handling a partner's request (e.g. fetching its versions during the
credentials handshake) carries the same X-Correlation-ID, so both sides can join their logs.
"""

import uuid
from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("ocpi_request_id", default=None)
current_correlation_id: ContextVar[str | None] = ContextVar("ocpi_correlation_id", default=None)


def new_id() -> str:
    return str(uuid.uuid4())
