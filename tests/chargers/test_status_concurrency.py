"""Reports and reconnections at once (they race for real on PostgreSQL; SQLite takes one writer
at a time, so there the same tests check the rules without the race): the newest
report wins whatever the arrival order, a connector's row is created once, and a beat run
racing a reconnection never leaves a connected charge point's EVSEs UNKNOWN."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections

from chargers import presence
from chargers.handlers import Context, handler_for
from chargers.models import ChargePoint, ConnectorStatus
from locations.models import Location
from ocpi.time import now
from tests.chargers.status_estate import UIDS, call, charge_point, location, partner, statuses

__all__ = ["location", "partner"]  # fixtures

pytestmark = [
    pytest.mark.django_db(transaction=True),
]

ORDER = ["Preparing", "Charging", "SuspendedEV", "Finishing", "Available"]


def at_once(*actions: Callable[[], None]) -> None:
    """Run `actions` in threads released together; each gives its connection back."""
    gate = threading.Barrier(len(actions))

    def run(action: Callable[[], None]) -> None:
        try:
            gate.wait()
            action()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        list(pool.map(run, actions))


def test_the_newest_of_reports_arriving_together_wins(location: Location) -> None:
    cp = charge_point("1.6", *UIDS)
    start = now()
    handler = handler_for("1.6", "StatusNotification")
    assert handler is not None

    def report(seconds: int, status: str) -> Callable[[], None]:
        payload: dict[str, Any] = {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": status,
            "timestamp": (start + timedelta(seconds=seconds)).isoformat(),
        }
        context = Context(charge_point=cp, version="1.6", received_at=now(), unique_id=status)

        def send() -> None:
            assert handler(context, payload) == {}

        return send

    # Sent in time order, arriving in the reverse one.
    at_once(*(report(n, status) for n, status in reversed(list(enumerate(ORDER)))))

    row = ConnectorStatus.objects.get()
    assert (row.status, row.reported_at) == ("Available", start + timedelta(seconds=4))
    assert statuses()[0] == "AVAILABLE"


@pytest.mark.parametrize("attempt", range(5))
def test_a_reconnection_racing_a_beat_run_leaves_no_evse_unknown(
    location: Location, monkeypatch: pytest.MonkeyPatch, attempt: int
) -> None:
    monkeypatch.setattr(presence, "ask_for_statuses", lambda cp: None)
    cp = charge_point("1.6", *UIDS, gateway="gw-1")
    call(cp, "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"})
    ChargePoint.objects.filter(pk=cp.pk).update(
        gateway="", disconnected_at=now() - timedelta(hours=1)
    )

    def reconnect() -> None:
        """What the gateway does: record the connection, then tell presence."""
        ChargePoint.objects.filter(pk=cp.pk).update(gateway="gw-2", connected_at=now())
        presence.on_connected(ChargePoint.objects.get(pk=cp.pk))

    def beat() -> None:
        presence.mark_offline(cp.pk)

    at_once(reconnect, beat)

    stored = ChargePoint.objects.get(pk=cp.pk)
    assert (stored.gateway, stored.offline_marked) == ("gw-2", False)
    assert statuses()[0] == "CHARGING"
