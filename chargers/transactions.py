"""OCPP transactions: kept as they come, applied in the charge point's time order, never open
forever.

Every transaction message is acknowledged, whatever it says (a charge point answered a
CALLERROR retries it for ever or drops its data): it is stored (TransactionEvent) under the
locked transaction row (select_for_update: the same charge point may come back through
another gateway process), and the stored messages not yet applied are applied in the charge
point's time order (chargers.charging). A repeat is recognised and not applied twice: a
1.6 StartTransaction by its content (ChargerTransaction.fingerprint: the same transactionId
again), any other message by its content or its 2.0.1 seqNo.

Late messages: a 2.0.1 message waits while an earlier seqNo (or the Started) is missing, up to
OCPP_TRANSACTION_REORDER_SECONDS after the first message beyond the gap came (EVerest drops
every second Updated when its queue overflows: a gap may never fill), so that an offline
replay received out of order is applied in order; beat applies what waited long enough.
A message older than what was applied (1.6 has no seqNo) still adds what it can
(chargers.charging).

Never open forever: a transaction open when its charge point boots (after_boot) is closed
OCPP_TRANSACTION_REBOOT_GRACE_SECONDS later unless a message shows it went on after the boot
(its queued StopTransaction/Ended usually comes first); one nothing was heard about for
OCPP_TRANSACTION_STALE_SECONDS is closed too. Either is closed at its last known reading
and moment, reason Reboot, ChargePointLost (the charge point is offline) or Stale, and its
session completes: the CDR follows by the usual path (close_abandoned, run by beat).
"""

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from chargers.charging import Charging
from chargers.models import ChargePoint, ChargerTransaction, TransactionEvent
from chargers.transaction_steps import START_TRANSACTION, STARTED, Step, read_step

logger = logging.getLogger(__name__)

# 1.6 transactionId is an integer: a random one in the int32 range, unique per charge point.
MAX_TRANSACTION_ID = 2**31 - 1
ID_ATTEMPTS = 5
REBOOT = "Reboot"
CHARGE_POINT_LOST = "ChargePointLost"
STALE = "Stale"


def _canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def _digest(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def digest_of(payload: Mapping[str, Any]) -> str:
    """Of the payload's content: the same message again has the same digest."""
    return _digest(_canonical(payload))


def _lockable() -> QuerySet[ChargerTransaction]:
    return ChargerTransaction.objects.select_for_update(of=("self",)).select_related(
        "charge_point", "session"
    )


def _locked(pk: int) -> ChargerTransaction:
    return _lockable().get(pk=pk)


# --- finding and creating -------------------------------------------------------------------


def _of(charge_point: ChargePoint, found: ChargerTransaction | None) -> ChargerTransaction | None:
    """`found`, a transaction of `charge_point`, with the charge point as the caller read it
    (record() reads the message with it): not read again for every message."""
    if found is not None:
        found.charge_point = charge_point
    return found


def repeated_start(
    charge_point: ChargePoint, payload: Mapping[str, Any]
) -> ChargerTransaction | None:
    """The transaction a repeated 1.6 StartTransaction (same content) already started."""
    fingerprint = digest_of(payload)
    return ChargerTransaction.objects.filter(
        charge_point=charge_point, fingerprint=fingerprint
    ).first()


def start_transaction_16(
    charge_point: ChargePoint, payload: Mapping[str, Any], received_at: datetime
) -> ChargerTransaction:
    """A 1.6 StartTransaction: a new transaction under a new id (or the one a concurrent
    repeat created), its StartTransaction applied. Its token's decision is recorded."""
    fingerprint = digest_of(payload)
    step = read_step(charge_point, START_TRANSACTION, payload, received_at)
    for _ in range(ID_ATTEMPTS):
        try:
            with transaction.atomic():
                created = ChargerTransaction.objects.create(
                    charge_point=charge_point,
                    transaction_id=str(secrets.randbelow(MAX_TRANSACTION_ID) + 1),
                    fingerprint=fingerprint,
                    started_at=step.at,
                    last_message_at=received_at,
                )
                locked = _locked(created.pk)
                started = _record(locked, START_TRANSACTION, payload, None, step, received_at)
        except IntegrityError:
            repeated = repeated_start(charge_point, payload)
            if repeated is not None:
                return repeated
            continue  # the random id was taken: another one
        return started
    raise RuntimeError(f"No free transaction id for {charge_point} in {ID_ATTEMPTS} attempts")


def transaction_201(
    charge_point: ChargePoint, transaction_id: str, received_at: datetime
) -> ChargerTransaction:
    """The 2.0.1 transaction `transaction_id` (the charge point's), created by whichever of
    its messages comes first."""
    found = transaction_of(charge_point, transaction_id)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return ChargerTransaction.objects.create(
                charge_point=charge_point,
                transaction_id=transaction_id,
                last_message_at=received_at,
            )
    except IntegrityError:
        return ChargerTransaction.objects.get(
            charge_point=charge_point, transaction_id=transaction_id
        )


def transaction_of(charge_point: ChargePoint, transaction_id: str) -> ChargerTransaction | None:
    """The transaction `transaction_id` (the id its messages carry) of `charge_point`."""
    return _of(
        charge_point,
        ChargerTransaction.objects.filter(
            charge_point=charge_point, transaction_id=transaction_id
        ).first(),
    )


def open_transaction_at(
    charge_point: ChargePoint, ocpp_evse_id: int, at: datetime
) -> ChargerTransaction | None:
    """The transaction running at `ocpp_evse_id` at `at`: 1.6 MeterValues without a
    transactionId still belong to it."""
    return _of(
        charge_point,
        ChargerTransaction.objects.filter(
            charge_point=charge_point,
            ocpp_evse_id=ocpp_evse_id,
            started_at__lte=at,
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=at))
        .order_by("-started_at")
        .first(),
    )


def seen(transaction_row: ChargerTransaction, seq_no: int) -> bool:
    """Whether the 2.0.1 message `seq_no` of this transaction was received already."""
    return TransactionEvent.objects.filter(transaction=transaction_row, seq_no=seq_no).exists()


# --- recording and applying -----------------------------------------------------------------


def record(
    transaction_row: ChargerTransaction,
    kind: str,
    payload: Mapping[str, Any],
    received_at: datetime,
    seq_no: int | None = None,
) -> ChargerTransaction:
    """Store a message of the transaction (a repeat: nothing) and apply what can be applied;
    the transaction as saved then. The decision on a token it carries must be recorded before
    (chargers.authorization)."""
    step = read_step(transaction_row.charge_point, kind, payload, received_at)
    with transaction.atomic():
        return _record(_locked(transaction_row.pk), kind, payload, seq_no, step, received_at)


def record_of(
    charge_point: ChargePoint,
    transaction_id: str,
    kind: str,
    payload: Mapping[str, Any],
    received_at: datetime,
) -> ChargerTransaction | None:
    """record() for the transaction `transaction_id` of `charge_point` (1.6), found as it is
    locked: one read for a message that needs nothing of its transaction before. None when
    there is no such transaction."""
    step = read_step(charge_point, kind, payload, received_at)
    with transaction.atomic():
        rows = _lockable().filter(charge_point=charge_point, transaction_id=transaction_id)
        found = rows.first()
        if found is None:
            return None
        return _record(found, kind, payload, None, step, received_at)


def _record(
    locked: ChargerTransaction,
    kind: str,
    payload: Mapping[str, Any],
    seq_no: int | None,
    step: Step,
    received_at: datetime,
) -> ChargerTransaction:
    """`locked` (_locked) in the caller's transaction; the transaction as saved."""
    canonical = _canonical(payload)
    digest = _digest(canonical)
    locked.last_message_at = received_at
    if locked.rebooted_at is not None and step.at > locked.rebooted_at:
        locked.rebooted_at = None  # it went on after the boot
    # One read for both: the messages waiting to be applied, and this one if it came before.
    repeat = Q(digest=digest) | (Q(seq_no=seq_no) if seq_no is not None else Q(pk__in=[]))
    known = list(locked.events.filter(repeat | Q(applied=False)))
    pending = [event for event in known if not event.applied]
    steps: dict[int, Step] = {}
    if any(
        event.digest == digest or (seq_no is not None and event.seq_no == seq_no) for event in known
    ):
        logger.info("Charge point %s repeated %s of %s", locked.charge_point, kind, locked)
    else:
        event = TransactionEvent.objects.create(
            transaction=locked,
            seq_no=seq_no,
            kind=kind,
            timestamp=step.at,
            received_at=received_at,
            digest=digest,
            payload=json.loads(canonical),
            # Nothing waits before it, nor can be missing: _apply_pending applies it now, and
            # it is stored applied rather than updated so.
            applied=not pending and _next_in_order(locked, seq_no),
        )
        steps[event.pk] = step
        pending = sorted([*pending, event], key=_time_order)
    charging = Charging(locked)
    _apply_pending(charging, received_at, steps, pending)
    charging.save()
    return charging.tx


def _time_order(event: TransactionEvent) -> tuple[datetime, int, int]:
    """TransactionEvent's ordering (timestamp, seq_no, pk): the events of one transaction
    all have a seq_no (2.0.1) or none (1.6)."""
    return event.timestamp, event.seq_no or 0, event.pk


def _apply_pending(
    charging: Charging,
    now: datetime,
    steps: Mapping[int, Step],
    pending: list[TransactionEvent] | None = None,
    *,
    hold: bool = True,
) -> None:
    """Apply the stored messages not applied yet (`pending`, when the caller read them), in
    the charge point's time order."""
    locked = charging.tx
    if pending is None:
        pending = list(locked.events.filter(applied=False).order_by("timestamp", "seq_no", "pk"))
    for event in pending:
        if hold and _held(locked, event, now):
            break
        step = steps.get(event.pk) or read_step(
            locked.charge_point, event.kind, event.payload, event.received_at
        )
        charging.apply(step)
        if not event.applied:  # else stored applied (_record)
            event.applied = True
            event.save(update_fields=["applied"])
        if event.seq_no is not None:
            locked.last_seq_no = max(event.seq_no, locked.last_seq_no or event.seq_no)


def _next_in_order(locked: ChargerTransaction, seq_no: int | None) -> bool:
    """Whether no message before this one can be missing: 1.6 (no seqNo), or a seqNo at most
    the one after the last applied."""
    applied = locked.last_seq_no
    return seq_no is None or (applied is not None and seq_no <= applied + 1)


def _held(locked: ChargerTransaction, event: TransactionEvent, now: datetime) -> bool:
    """A 2.0.1 message waits while one before it (a lower seqNo, or the Started) is missing,
    up to OCPP_TRANSACTION_REORDER_SECONDS after the first one received beyond the gap."""
    if event.seq_no is None or _next_in_order(locked, event.seq_no):
        return False
    applied = locked.last_seq_no
    received = [
        (number, at, kind)
        for number, at, kind in locked.events.values_list("seq_no", "received_at", "kind")
        if number is not None
    ]
    wait = timedelta(seconds=settings.OCPP_TRANSACTION_REORDER_SECONDS)
    if applied is None:
        started = [number for number, _, kind in received if kind == STARTED]
        if not started:
            return min(at for _, at, _ in received) + wait > now
        applied = min(started)
    numbers = {number for number, _, _ in received}
    for missing in range(applied + 1, event.seq_no):
        if missing not in numbers:
            beyond = min(at for number, at, _ in received if number > missing)
            if beyond + wait > now:
                return True
    return False


# --- never open forever -----------------------------------------------------------------------


def after_boot(charge_point: ChargePoint, at: datetime) -> None:
    """The charge point booted at `at` (our clock): its open transactions are closed after
    OCPP_TRANSACTION_REBOOT_GRACE_SECONDS unless a message shows them going on."""
    ChargerTransaction.objects.filter(
        charge_point=charge_point, ended_at__isnull=True, rebooted_at__isnull=True
    ).update(rebooted_at=at)


def apply_released(now: datetime) -> int:
    """Apply the messages that waited long enough for missing ones; how many transactions."""
    waited = now - timedelta(seconds=settings.OCPP_TRANSACTION_REORDER_SECONDS)
    pks = set(
        TransactionEvent.objects.filter(applied=False, received_at__lte=waited).values_list(
            "transaction_id", flat=True
        )
    )
    for pk in sorted(pks):
        with transaction.atomic():
            charging = Charging(_locked(pk))
            _apply_pending(charging, now, {})
            charging.save()
    return len(pks)


def close_abandoned(now: datetime) -> list[int]:
    """Close what the rules of this module's docstring say; the transactions' pks."""
    rebooted = now - timedelta(seconds=settings.OCPP_TRANSACTION_REBOOT_GRACE_SECONDS)
    silent = now - timedelta(seconds=settings.OCPP_TRANSACTION_STALE_SECONDS)
    pks = list(
        ChargerTransaction.objects.filter(ended_at__isnull=True)
        .filter(Q(rebooted_at__lte=rebooted) | Q(last_message_at__lte=silent))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in pks:
        close(pk, now)
    return pks


def close(pk: int, now: datetime) -> None:
    """Close an abandoned transaction: what it sent is applied, then it ends at its last
    known reading and moment."""
    with transaction.atomic():
        locked = _locked(pk)
        if locked.ended_at is not None:
            return
        charging = Charging(locked)
        _apply_pending(charging, now, {}, hold=False)
        if locked.ended_at is None:
            reason = _closing_reason(locked)
            charging.end(charging.last_moment(), reason)
            logger.warning(
                "Charge point %s: %s closed (%s) at %s",
                locked.charge_point,
                locked,
                reason,
                locked.ended_at,
            )
        charging.save()


def _closing_reason(locked: ChargerTransaction) -> str:
    if locked.rebooted_at is not None:
        return REBOOT
    return STALE if locked.charge_point.online else CHARGE_POINT_LOST
