"""Each connection and disconnection of a charge point, with the reason it ended, for the
operator (ConnectionEvent; the most recent OCPP_CONNECTION_HISTORY_SIZE per charge point).
The gateway records them (chargers.gateway.server) after chargers.connections has: a failure
here is logged by the gateway and costs the history a line, never the connection."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from websockets.asyncio.connection import Connection

from chargers.history import keep_recent
from chargers.models import ChargePoint
from chargers.models_maintenance import ConnectionEvent, ConnectionEventKind

ABNORMAL = 1006  # RFC 6455 §7.1.5: closed without a closing handshake


def close_of(websocket: Connection) -> tuple[int, str]:
    """(close code, who closed it and why) of a closed websocket."""
    protocol = websocket.protocol
    received, sent = protocol.close_rcvd, protocol.close_sent
    if received is not None and (sent is None or protocol.close_rcvd_then_sent):
        return received.code, _said("closed by the charge point", received.reason)
    if sent is not None:
        return sent.code, _said("closed by us", sent.reason)
    return ABNORMAL, "lost without a closing handshake"


def _said(who: str, reason: str) -> str:
    return f"{who}: {reason}" if reason else who


def connected(
    charge_point_pk: int, *, connection: int, gateway: str, version: str, remote_address: str
) -> None:
    _write(
        charge_point_pk,
        kind=ConnectionEventKind.CONNECTED,
        connection=connection,
        gateway=gateway,
        version=version,
        remote_address=remote_address[:100],
    )


def disconnected(
    charge_point_pk: int, *, connection: int, gateway: str, close_code: int, reason: str
) -> None:
    _write(
        charge_point_pk,
        kind=ConnectionEventKind.DISCONNECTED,
        connection=connection,
        gateway=gateway,
        close_code=close_code,
        reason=reason[:200],
    )


def _write(charge_point_pk: int, **values: object) -> None:
    try:
        with transaction.atomic():  # SQLite checks the charge point's key at its commit
            event = ConnectionEvent.objects.create(
                charge_point_id=charge_point_pk, at=timezone.now(), **values
            )
    except IntegrityError:
        if ChargePoint.objects.filter(pk=charge_point_pk).exists():
            raise
        return  # deleted while connected (the gateway then closes it): its history went too
    keep_recent(
        ConnectionEvent.objects.filter(charge_point_id=charge_point_pk),
        settings.OCPP_CONNECTION_HISTORY_SIZE,
        event.pk,
    )
