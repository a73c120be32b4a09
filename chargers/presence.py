"""Whether a charge point is there, as its EVSEs show it.

A charge point disconnected for more than OCPP_OFFLINE_GRACE_SECONDS is marked offline: its
EVSEs UNKNOWN ("also used when offline", mod_locations, Status), pushed. Celery beat looks for
such charge points (chargers.tasks); a charge point that never connected is not one: it has
not gone offline. When it connects again each EVSE returns to the status its last reports give
(chargers.status), and it is asked for fresh ones.

The gateway calls on_connected / on_disconnected after it has recorded the connection
(ChargePoint.gateway, disconnected_at), which they read: a charge point connected again, or to
another gateway, is never marked. Marking and unmarking are conditional updates of
offline_marked, so two of them at once (a beat run and a reconnect) act once.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from chargers import calls, status
from chargers.models import ChargePoint, ChargePointEvse, OcppVersion
from ocpi.time import now

logger = logging.getLogger(__name__)


def on_connected(charge_point: ChargePoint) -> None:
    """It is connected (recorded): if it was marked offline, its EVSEs return to their
    statuses, and it is asked for fresh ones. One query when it was not."""
    marked = ChargePoint.objects.filter(pk=charge_point.pk, offline_marked=True)
    charge_point.offline_marked = False
    if not marked.exists():
        return
    with transaction.atomic():
        back = marked.update(offline_marked=False)
        if back:
            status.restore(charge_point)
    if back:
        logger.info("Charge point %s is back: its EVSEs' statuses restored", charge_point.identity)
        ask_for_statuses(charge_point)


def on_disconnected(charge_point: ChargePoint) -> None:
    """It is disconnected (recorded). With no grace period it is offline at once; else the beat
    finds it once the grace is over (chargers.tasks)."""
    if settings.OCPP_OFFLINE_GRACE_SECONDS <= 0:
        mark_offline(charge_point.pk)


def offline_due() -> list[int]:
    """The charge points to mark offline now: one query."""
    return list(_offline_beyond_grace().values_list("pk", flat=True))


def mark_offline(charge_point_id: int) -> bool:
    """Mark it offline if it still is beyond the grace period and not marked yet: its EVSEs
    UNKNOWN, pushed, in one transaction. Whether it was marked now."""
    with transaction.atomic():
        marked = _offline_beyond_grace().filter(pk=charge_point_id).update(offline_marked=True)
        if marked:
            charge_point = ChargePoint.objects.get(pk=charge_point_id)
            status.mark_unknown(charge_point)
    if marked:
        logger.info(
            "Charge point %s offline beyond the grace period: its EVSEs UNKNOWN", charge_point
        )
    return bool(marked)


def ask_for_statuses(charge_point: ChargePoint) -> None:
    """Ask it for the status of every connector (TriggerMessage), without waiting for the
    answer. Not there any more: logged; the statuses come when it sends them."""
    try:
        for payload in _status_triggers(charge_point):
            calls.send(charge_point, "TriggerMessage", payload)
    except calls.ChargePointOffline as exc:
        logger.info("Charge point %s not asked for its statuses: %s", charge_point.identity, exc)


def _status_triggers(charge_point: ChargePoint) -> list[dict[str, object]]:
    """1.6: one TriggerMessage, every connector answers. 2.0.1: one per EVSE, which the request
    must name (F06.FR.13)."""
    request: dict[str, object] = {"requestedMessage": "StatusNotification"}
    version = charge_point.connected_version or charge_point.ocpp_version
    if version == OcppVersion.V16:
        return [request]
    ids = ChargePointEvse.objects.filter(charge_point=charge_point).values_list(
        "ocpp_evse_id", flat=True
    )
    return [{**request, "evse": {"id": ocpp_evse_id}} for ocpp_evse_id in ids]


def _offline_beyond_grace() -> QuerySet[ChargePoint]:
    cutoff = now() - timedelta(seconds=settings.OCPP_OFFLINE_GRACE_SECONDS)
    return ChargePoint.objects.filter(gateway="", offline_marked=False, disconnected_at__lte=cutoff)
