"""Remote start, remote stop and unlock of a charge point, for the OCPI commands and the admin.

    start()    stores a RemoteStart (its id is the 2.0.1 remoteStartId), records the token as
               authorized at the charge point (the party that asked authorized it: the start's
               StartTransaction / TransactionEvent is answered Accepted without asking the
               eMSP again, and so is a tap of the same token there within
               OCPP_AUTHORIZATION_REUSE_SECONDS: mod_commands, StartSession), sends the call
    tie()      the transaction that follows is the start's: 2.0.1 by the remoteStartId its
               TransactionEvent carries, else (1.6, or a 2.0.1 charge point that leaves it
               out) by the token at that EVSE within OCPP_AUTHORIZATION_REUSE_SECONDS of the
               request; its session gets the start's token and authorization_reference
    settle()   decides once, under the start's row lock, what the party that asked is told:
               started when the charge point accepted or a transaction already followed,
               refused otherwise (rejected, failed, timed out)
    late       a transaction that ties to a start already settled refused (the charge point
               got the call just before its deadline, ocpi/ocpi#475) gets no session: it is
               stopped with a remote stop, the reason kept on the transaction; the token's
               recorded authorization is withdrawn when the start is refused, so the charge
               point's own check refuses it too

stop() and unlock() send RemoteStopTransaction / RequestStopTransaction and UnlockConnector.
Callers name a follow-up (chargers.follow_ups) to act on the answer; nothing here blocks.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from chargers import calls
from chargers.authorization import ACCEPTED, ocpp_id_token_type
from chargers.follow_ups import follow_up
from chargers.models import (
    AuthorizationRecord,
    CallState,
    ChargePoint,
    ChargePointCall,
    ChargerTransaction,
    OcppVersion,
    RemoteStart,
    RemoteStartOutcome,
)
from tokens.authorization import Result, Source
from tokens.models import Token

logger = logging.getLogger(__name__)

Payload = dict[str, Any]

START = {OcppVersion.V16: "RemoteStartTransaction", OcppVersion.V201: "RequestStartTransaction"}
STOP = {OcppVersion.V16: "RemoteStopTransaction", OcppVersion.V201: "RequestStopTransaction"}
UNLOCK = "UnlockConnector"
# OCPP 2.0.1 UnlockStatusEnumType and 1.6 UnlockStatus: what counts as done.
UNLOCKED = "Unlocked"

# The follow-up of a start asked from the admin (the commands app names its own).
ADMIN_FOLLOW_UP = "chargers.remote_start"


def version_of(charge_point: ChargePoint) -> str:
    return calls.version_of(charge_point)


# --- payloads, per OCPP version ---------------------------------------------------------------


def start_payload(
    version: str,
    *,
    id_token: str,
    id_token_type: str,
    ocpp_evse_id: int | None,
    remote_start_id: int,
) -> Payload:
    """1.6 RemoteStartTransaction (idTag, connectorId) or 2.0.1 RequestStartTransaction
    (idToken, evseId, remoteStartId). No charging profile: the charge point's defaults."""
    if version == OcppVersion.V16:
        payload: Payload = {"idTag": id_token}
        if ocpp_evse_id is not None:
            payload["connectorId"] = ocpp_evse_id
        return payload
    payload = {
        "idToken": {"idToken": id_token, "type": id_token_type},
        "remoteStartId": remote_start_id,
    }
    if ocpp_evse_id is not None:
        payload["evseId"] = ocpp_evse_id
    return payload


def stop_payload(version: str, transaction_id: str) -> Payload:
    """1.6 RemoteStopTransaction (our integer id) or 2.0.1 RequestStopTransaction (its own)."""
    if version == OcppVersion.V16:
        return {"transactionId": int(transaction_id)}
    return {"transactionId": transaction_id}


def unlock_payload(version: str, ocpp_evse_id: int, connector_id: int) -> Payload:
    """1.6 UnlockConnector names the connector (our EVSE); 2.0.1 the EVSE and its connector
    (chargers.mapping: the k-th connector of the EVSE)."""
    if version == OcppVersion.V16:
        return {"connectorId": ocpp_evse_id}
    return {"evseId": ocpp_evse_id, "connectorId": connector_id}


def answer_status(call: ChargePointCall) -> str:
    """The `status` the charge point answered (Accepted, Rejected, Unlocked, …), else ""."""
    response = call.response if isinstance(call.response, dict) else {}
    status = response.get("status")
    return status if isinstance(status, str) else ""


def accepted(call: ChargePointCall) -> bool:
    return call.state == CallState.ANSWERED and answer_status(call) == ACCEPTED


# --- start --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartRequest:
    """What a remote start asks: the token as the party sent it (its CdrToken fields and the
    cached token when we have it), where, and the eMSP's reference."""

    charge_point: ChargePoint
    ocpp_evse_id: int | None
    token: dict[str, Any]  # CdrToken: country_code, party_id, uid, type, contract_id
    location_id: str
    evse_uid: str | None
    authorization_reference: str = ""
    requested_by: str = ""


def id_token_of(token: dict[str, Any]) -> tuple[str, str]:
    """The OCPP idToken (and 2.0.1 type) a token is sent as: its uid, and the IdTokenEnumType
    of its OCPI type (RFID → ISO14443, APP_USER / AD_HOC_USER → Central)."""
    return str(token["uid"]), ocpp_id_token_type(str(token["type"]))


def start(
    request: StartRequest, *, timeout: float, follow_up: str = ADMIN_FOLLOW_UP
) -> RemoteStart:
    """Ask the charge point to start a transaction; the stored start, its call PENDING.

    Raises calls.ChargePointOffline (or calls.InvalidCall) with nothing stored. Run it in the
    caller's transaction: the start, the authorization and the call commit together."""
    charge_point = request.charge_point
    version = version_of(charge_point)
    id_token, id_token_type = id_token_of(request.token)
    if version == OcppVersion.V16:
        id_token_type = ""  # a 1.6 idTag has no type (chargers.authorization)
    now = timezone.now()
    with transaction.atomic():
        remote = RemoteStart.objects.create(
            charge_point=charge_point,
            ocpp_evse_id=request.ocpp_evse_id,
            id_token=id_token,
            id_token_type=id_token_type,
            token=request.token,
            authorization_reference=request.authorization_reference,
            requested_by=request.requested_by,
            requested_at=now,
        )
        payload = start_payload(
            version,
            id_token=id_token,
            id_token_type=id_token_type,
            ocpp_evse_id=request.ocpp_evse_id,
            remote_start_id=remote.pk,
        )
        remote.call = calls.send(
            charge_point,
            START[OcppVersion(version)],
            payload,
            timeout=timeout,
            requested_by=request.requested_by,
            follow_up=follow_up,
        )
        remote.save(update_fields=["call"])
        _authorize(remote, request, now)
    return remote


def _authorize(remote: RemoteStart, request: StartRequest, at: datetime) -> None:
    """Record the token as allowed at the charge point (at the EVSE, when one was named):
    the party that asked authorized it (chargers.authorization reuses the record)."""
    token = request.token
    cached = Token.objects.filter(
        country_code__iexact=token["country_code"],
        party_id__iexact=token["party_id"],
        uid__iexact=token["uid"],
        type=token["type"],
    ).first()
    AuthorizationRecord.objects.update_or_create(
        charge_point=remote.charge_point,
        id_token=remote.id_token,
        id_token_type=remote.id_token_type,
        defaults={
            "decided_at": at,
            "allowed": True,
            "result": Result.ALLOWED,
            "source": Source.COMMAND,
            "reason": f"remote start {remote.pk} ({remote.requested_by or 'operator'})",
            "token": cached,
            "party_country_code": token["country_code"],
            "party_party_id": token["party_id"],
            "authorization_reference": remote.authorization_reference,
            "location_id": request.location_id if request.evse_uid else "",
            "evse_uids": [request.evse_uid] if request.evse_uid else [],
        },
    )


def settle(remote: RemoteStart, call: ChargePointCall) -> bool:
    """Decide what the party that asked for `remote` is told once its call has ended: True
    (started) when the charge point accepted or a transaction already tied to it, else False.
    Decided once; a refused start withdraws the token's authorization at the charge point.
    Run it in a transaction (the follow-up's)."""
    locked = RemoteStart.objects.select_for_update().get(pk=remote.pk)
    if locked.outcome == RemoteStartOutcome.OPEN:
        started = accepted(call) or locked.transaction_id is not None
        locked.outcome = RemoteStartOutcome.STARTED if started else RemoteStartOutcome.REFUSED
        locked.save(update_fields=["outcome"])
        if not started:
            _withdraw(locked)
    remote.outcome, remote.transaction_id = locked.outcome, locked.transaction_id
    return locked.outcome == RemoteStartOutcome.STARTED


def _withdraw(remote: RemoteStart) -> None:
    """The token is no longer authorized at the charge point by this start: its next use
    there is decided anew (a driver's tap asks the eMSP). A newer decision stays."""
    _command_record(remote).delete()


def _command_record(remote: RemoteStart) -> "QuerySet[AuthorizationRecord]":
    return AuthorizationRecord.objects.filter(
        charge_point_id=remote.charge_point_id,
        id_token=remote.id_token,
        id_token_type=remote.id_token_type,
        source=Source.COMMAND,
        decided_at=remote.requested_at,
    )


def _tapped_since(remote: RemoteStart, tx: ChargerTransaction) -> bool:
    """Whether the token was decided anew at the charge point after the start was asked and
    before the transaction's message came (a driver's Authorize; the decision its own
    message takes is recorded at its arrival): the transaction is the driver's."""
    return AuthorizationRecord.objects.filter(
        charge_point_id=remote.charge_point_id,
        id_token=remote.id_token,
        decided_at__gt=remote.requested_at,
        decided_at__lt=tx.last_message_at or timezone.now(),
    ).exists()


# --- the transaction that follows ---------------------------------------------------------------


def tie(
    tx: ChargerTransaction, *, remote_start_id: int | None, id_token: str, ocpp_evse_id: int | None
) -> RemoteStart | None:
    """The start `tx` follows, now tied to it (locked: settle() waits), or None. In the
    transaction message's database transaction."""
    untied = RemoteStart.objects.select_for_update().filter(
        charge_point_id=tx.charge_point_id, transaction__isnull=True
    )
    if remote_start_id is not None:
        found = untied.filter(pk=remote_start_id).first()
    elif id_token:
        since = timezone.now() - timedelta(seconds=settings.OCPP_AUTHORIZATION_REUSE_SECONDS)
        found = (
            untied.filter(id_token=id_token, requested_at__gte=since)
            .filter(Q(ocpp_evse_id__isnull=True) | Q(ocpp_evse_id=ocpp_evse_id))
            .order_by("requested_at")
            .first()
        )
        if found is not None and _tapped_since(found, tx):
            found = None
    else:
        found = None
    if found is not None:
        found.transaction = tx
        found.save(update_fields=["transaction"])
    return found


def late(remote: RemoteStart) -> str | None:
    """Why the transaction tied to `remote` must not charge, or None: its start was already
    settled refused (the party that asked was told it failed or timed out)."""
    if remote.outcome != RemoteStartOutcome.REFUSED:
        return None
    return (
        f"started after remote start {remote.pk} was reported refused or timed out: "
        "stopped, no session (ocpi/ocpi#475)"
    )


def stop_late(remote: RemoteStart, tx: ChargerTransaction) -> None:
    """Stop a late transaction (late()), once; the call kept on the start. Its follow-up-less
    call is the charge point's to answer: the transaction's end comes as usual."""
    if remote.late_stop_id is not None:
        return
    try:
        remote.late_stop = calls.send(
            tx.charge_point,
            STOP[OcppVersion(version_of(tx.charge_point))],
            stop_payload(version_of(tx.charge_point), tx.transaction_id),
            requested_by=f"late start of remote start {remote.pk}",
        )
    except calls.ChargePointOffline:
        logger.warning("%s started late and cannot be stopped: %s is offline", tx, tx.charge_point)
        return
    remote.save(update_fields=["late_stop"])


# --- stop and unlock ----------------------------------------------------------------------------


def stop(
    tx: ChargerTransaction, *, timeout: float, requested_by: str = "", follow_up: str = ""
) -> ChargePointCall:
    """Ask the charge point to stop `tx`. Raises calls.ChargePointOffline."""
    version = version_of(tx.charge_point)
    return calls.send(
        tx.charge_point,
        STOP[OcppVersion(version)],
        stop_payload(version, tx.transaction_id),
        timeout=timeout,
        requested_by=requested_by,
        follow_up=follow_up,
    )


def unlock(
    charge_point: ChargePoint,
    ocpp_evse_id: int,
    connector_id: int,
    *,
    timeout: float,
    requested_by: str = "",
    follow_up: str = "",
) -> ChargePointCall:
    """Ask the charge point to unlock a connector. Raises calls.ChargePointOffline."""
    return calls.send(
        charge_point,
        UNLOCK,
        unlock_payload(version_of(charge_point), ocpp_evse_id, connector_id),
        timeout=timeout,
        requested_by=requested_by,
        follow_up=follow_up,
    )


@follow_up(ADMIN_FOLLOW_UP)
def admin_start_ended(call: ChargePointCall) -> None:
    """A start asked from the admin: settled, so that a late transaction is stopped."""
    remote = RemoteStart.objects.filter(call=call).first()
    if remote is not None:
        settle(remote, call)
