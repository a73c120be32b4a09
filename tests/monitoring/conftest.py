from collections.abc import Iterator

import pytest

# The outbox's partner on a loopback receiver, shared with tests/push.
from tests.push.conftest import make_partner, sink  # noqa: F401
from tests.push.sink import Sink, running_sink


@pytest.fixture
def webhook(settings) -> Iterator[Sink]:
    """A real HTTP server on loopback as the alert webhook, and alert e-mails configured."""
    with running_sink() as receiver:
        settings.ALERT_WEBHOOK_URL = f"{receiver.url}/alerts"
        settings.ALERT_EMAILS = ["ops@example.com", "oncall@example.com"]
        yield receiver
