"""OCPP transactions: kept as they come, applied in the charge point's time order, never open
forever.

Every transaction message is acknowledged, whatever it says (a charge point answered a
CALLERROR retries it for ever or drops its data): it is stored (TransactionEvent) under the
locked transaction row (select_for_update: the same charge point may come back through
another gateway process), and the stored messages not yet applied are applied in the charge
point's time order (chargers.charging). A repeat is recognised and not applied twice: a
1.6 StartTransaction by its content (ChargerTransaction.fingerprint: the same transactionId
again), any other message by its content or its 2.0.1 seqNo.

Meter messages in batches: a gateway stores the MeterValues (1.6) and TransactionEvent(Updated)
(2.0.1) of many charge points in one statement (store_events: the unique constraints on
TransactionEvent skip a repeat) and acknowledges them once that committed; its applier
(chargers.gateway.meters) then applies what was stored, many transactions in one database
transaction (apply_stored), with one progress PATCH per session for all their samples
(chargers.charging; a chunk's PATCHes queued together, _progress_together), at once where
something reads the result sooner than the session's next progress PATCH, else by then
(chargers.charging.quiet_until). Any other message of a transaction applies the stored ones
before it (_record), so that a StopTransaction's CDR counts every MeterValues acknowledged
before it; what a gateway stored and never applied (it stopped, it failed) is applied by the
catch-up (apply_released, run by beat) CATCH_UP_SECONDS after its receipt, or after the
longest a gateway may wait to apply it.

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
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Model, Q, QuerySet
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

from chargers.charging import Charging, PriceCheckDeferred, quiet_until
from chargers.models import ChargePoint, ChargerTransaction, TransactionEvent
from chargers.transaction_steps import (
    METER_VALUES,
    START_TRANSACTION,
    STARTED,
    UPDATED,
    Step,
    read_step,
    step_moments,
)
from sessions.services import Progress, sessions_progress

logger = logging.getLogger(__name__)

# 1.6 transactionId is an integer: a random one in the int32 range, unique per charge point.
MAX_TRANSACTION_ID = 2**31 - 1
ID_ATTEMPTS = 5
REBOOT = "Reboot"
CHARGE_POINT_LOST = "ChargePointLost"
STALE = "Stale"
# Stored messages not applied this long after their receipt (after the longest a gateway may
# defer them, for those it may) are the catch-up's (apply_released): a gateway's applier
# (chargers.gateway.meters) applies them before.
CATCH_UP_SECONDS = 10
# Transactions applied in one database transaction: more share its statements and its
# BEGIN / COMMIT, fewer hold the lock for less time. SQLite has one lock for the whole database,
# which the gateway's rounds storing messages wait for: one transaction at a time. PostgreSQL
# locks the chunk's transaction rows alone (FOR NO KEY UPDATE: storing their messages goes on).
APPLY_CHUNK = 1
# The messages a gateway stores and may apply later (chargers.gateway.meters).
DEFERRABLE = (METER_VALUES, UPDATED)
APPLY_CHUNK_ROW_LOCKS = 20


def _canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def _digest(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def digest_of(payload: Mapping[str, Any]) -> str:
    """Of the payload's content: the same message again has the same digest."""
    return _digest(_canonical(payload))


def _lockable() -> QuerySet[ChargerTransaction]:
    """Locked against the others that apply its messages. FOR NO KEY UPDATE (PostgreSQL),
    not FOR UPDATE: storing a message of it (its foreign key takes FOR KEY SHARE) need not
    wait until they are applied."""
    return ChargerTransaction.objects.select_for_update(of=("self",), no_key=True).select_related(
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
    applied = []
    for event in pending:
        if hold and _held(locked, event, now):
            break
        step = steps.get(event.pk) or read_step(
            locked.charge_point, event.kind, event.payload, event.received_at
        )
        charging.apply(step)
        if not event.applied:  # else stored applied (_record)
            event.applied = True
            applied.append(event.pk)
        if event.seq_no is not None:
            locked.last_seq_no = max(event.seq_no, locked.last_seq_no or event.seq_no)
    if applied:  # one statement for all of them
        TransactionEvent.objects.filter(pk__in=applied).update(applied=True)


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


# --- meter messages in batches ----------------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """A meter message of a transaction as a gateway received it: 1.6 MeterValues naming its
    transactionId, or a 2.0.1 TransactionEvent(Updated) (`seq_no`)."""

    charge_point: ChargePoint
    transaction_id: str
    kind: str
    payload: Mapping[str, Any]
    received_at: datetime
    seq_no: int | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    """A meter message stored: its transaction's pk, and its latest moment (the charge
    point's time: chargers.charging.quiet_until says whether applying it can wait)."""

    pk: int
    latest: datetime


def store_events(
    arrivals: Sequence[Arrival],
    known: dict[tuple[int, str], int] | None = None,
    quiet: dict[int, datetime] | None = None,
) -> list[Stored | None]:
    """Store the messages, not applied yet, in one statement; a repeat (the same content, the
    same 2.0.1 seqNo: TransactionEvent's unique constraints) is skipped. For each, its
    transaction's pk and latest moment; None for a 1.6 message of a transaction we never
    started (not kept). A 2.0.1 transaction is created by whichever of its messages comes
    first (transaction_201). apply_stored() applies them.

    `known`: the pks of transactions found before, by (charge point pk, transaction id), which
    are not read again, and to which those read now are added (a transaction deleted since
    fails the insert: IntegrityError, and the caller forgets what it knew). `quiet`: for
    those read now, chargers.charging.quiet_until as stored, where it is a moment."""
    found = {} if known is None else known
    found.update(_transactions_of([a for a in arrivals if _key(a) not in found], quiet))
    stored: list[Stored | None] = []
    rows = []
    for arrival in arrivals:
        key = _key(arrival)
        pk = found.get(key)
        if pk is None and arrival.kind != METER_VALUES:
            pk = found[key] = transaction_201(
                arrival.charge_point, arrival.transaction_id, arrival.received_at
            ).pk
        if pk is None:
            stored.append(None)
            continue
        canonical = _canonical(arrival.payload)
        first, latest = step_moments(
            arrival.charge_point, arrival.kind, arrival.payload, arrival.received_at
        )
        stored.append(Stored(pk, latest))
        rows.append(
            TransactionEvent(
                transaction_id=pk,
                seq_no=arrival.seq_no,
                kind=arrival.kind,
                timestamp=first,
                received_at=arrival.received_at,
                digest=_digest(canonical),
                payload=json.loads(canonical),
                applied=False,
            )
        )
    if rows:
        _insert_new(rows)
    return stored


def _insert_new(rows: list[TransactionEvent]) -> None:
    """INSERT … ON CONFLICT DO NOTHING, in as few statements as the database takes, each its
    own transaction (autocommit). A row is stored whole or not at all, a row stored twice is a
    repeat the unique constraints skip, and a caller answers nothing until all went in: the
    statements need no transaction around them, which would cost two more round trips to
    PostgreSQL (BEGIN, COMMIT) for every round of the gateway. SQLite (no round trips; its
    transactions take the write lock at once, BEGIN IMMEDIATE) and inside a caller's
    transaction: bulk_create."""
    using = router.db_for_write(TransactionEvent)
    connection = connections[using]
    if connection.vendor == "sqlite" or not connection.get_autocommit():
        with transaction.atomic(using=using):
            TransactionEvent.objects.bulk_create(rows, ignore_conflicts=True)
        return
    fields = [f for f in TransactionEvent._meta.concrete_fields if not f.primary_key]
    size = max(connection.ops.bulk_batch_size(fields, rows), 1)
    for start in range(0, len(rows), size):
        query = InsertQuery(TransactionEvent, on_conflict=OnConflict.IGNORE)
        query.insert_values(fields, list[Model](rows[start : start + size]))
        query.get_compiler(using=using).execute_sql(None)


def _key(arrival: Arrival) -> tuple[int, str]:
    return arrival.charge_point.pk, arrival.transaction_id


def _transactions_of(
    arrivals: Sequence[Arrival], quiet: dict[int, datetime] | None = None
) -> dict[tuple[int, str], int]:
    """The pks of the arrivals' transactions that exist, by (charge point pk, transaction id):
    one query. `quiet`: filled as store_events says."""
    wanted = {_key(a) for a in arrivals}
    if not wanted:
        return {}
    rows = (
        ChargerTransaction.objects.filter(
            charge_point_id__in={pk for pk, _ in wanted},
            transaction_id__in={transaction_id for _, transaction_id in wanted},
        )
        .select_related("session")
        .only(
            "charge_point_id",
            "transaction_id",
            "ended_at",
            "rebooted_at",
            "state",
            "session__status",
        )
        .order_by()
    )
    pks = {}
    for row in rows:
        key = (row.charge_point_id, row.transaction_id)
        if key not in wanted:
            continue
        pks[key] = row.pk
        until = quiet_until(row)
        if quiet is not None and until is not None:
            quiet.setdefault(row.pk, until)  # one an applier learnt since is the newer
    return pks


def apply_stored(
    pks: Sequence[int], now: datetime, quiet: dict[int, datetime | None] | None = None
) -> list[int]:
    """Apply the stored messages not applied yet of the transactions `pks`, a chunk of
    transactions in one database transaction (_apply_chunk_size): each transaction's in its
    charge point's time order (late ones included, a 2.0.1 one held while an earlier one is
    missing), with one progress PATCH per session. A transaction whose applying fails is left
    as it was (logged; the catch-up tries again) and the others are applied. The pks of those
    that failed. `quiet`: chargers.charging.quiet_until of each transaction applied, as saved."""
    ordered = sorted(pks)
    failed = []
    chunk = _apply_chunk_size()
    for start in range(0, len(ordered), chunk):
        failed += _apply_chunk(ordered[start : start + chunk], now, quiet)
    return failed


def _apply_chunk_size() -> int:
    vendor = connections[router.db_for_write(ChargerTransaction)].vendor
    return APPLY_CHUNK if vendor == "sqlite" else APPLY_CHUNK_ROW_LOCKS


def _apply_chunk(
    pks: Sequence[int], now: datetime, quiet: dict[int, datetime | None] | None
) -> list[int]:
    failed = []
    with transaction.atomic():
        locked = list(_lockable().filter(pk__in=pks).order_by("pk"))
        pending: dict[int, list[TransactionEvent]] = defaultdict(list)
        for event in TransactionEvent.objects.filter(
            transaction_id__in=[tx.pk for tx in locked], applied=False
        ).order_by("timestamp", "seq_no", "pk"):
            pending[event.transaction_id].append(event)
        progressing = []
        for tx in locked:
            events = pending.get(tx.pk)
            saved = tx
            if events:  # else applied meanwhile, by another message of the transaction
                try:
                    charging = _apply_events(tx, events, now)
                except Exception:
                    logger.exception("Applying the stored messages of %s failed", tx)
                    failed.append(tx.pk)
                    continue
                saved = charging.tx
                if charging.progress is not None:
                    progressing.append((charging, charging.progress))
            if quiet is not None:
                quiet[tx.pk] = quiet_until(saved)
        _progress_together(progressing)
    return failed


def _apply_events(
    locked: ChargerTransaction, events: list[TransactionEvent], now: datetime
) -> Charging:
    """What _record does for one message, for the stored `events` (not applied yet), in a
    savepoint: all of them or none. Checked for price changes at the last reading, unless
    that is not the same as at each (chargers.charging.Charging). Its Charging as saved,
    the progress PATCH due left to the caller (Charging.progress)."""
    received = max(event.received_at for event in events)
    latest = max(event.timestamp for event in events)
    try:
        with transaction.atomic():
            charging = Charging(locked, batch=True, progress_later=True)
            return _apply_batch(locked, received, latest, charging, events, now)
    except PriceCheckDeferred as deferred:
        logger.debug("%s: applied again reading by reading (%s)", locked, deferred)
    with transaction.atomic():
        again = _locked(locked.pk)  # as stored: the first attempt changed it in memory
        charging = Charging(again, progress_later=True)
        return _apply_batch(again, received, latest, charging, None, now)


def _apply_batch(
    locked: ChargerTransaction,
    received: datetime,
    latest: datetime,
    charging: Charging,
    events: list[TransactionEvent] | None,
    now: datetime,
) -> Charging:
    if locked.last_message_at is None or received > locked.last_message_at:
        locked.last_message_at = received
    if locked.rebooted_at is not None and latest > locked.rebooted_at:
        locked.rebooted_at = None  # it went on after the boot
    _apply_pending(charging, now, {}, events)
    charging.save()
    return charging


def _progress_together(progressing: Sequence[tuple[Charging, Progress]]) -> None:
    """The progress PATCHes due of a chunk's transactions (each Charging saved, its
    `progress`), in one go (sessions.services.sessions_progress). Should that fail as a
    whole, each is sent alone, so that one that cannot be sent holds back no other (logged;
    its session's next progress or its stop brings its figures)."""
    if not progressing:
        return
    try:  # sessions_progress is a savepoint of its own: the chunk goes on after a failure
        results = sessions_progress([progress for _, progress in progressing])
    except Exception:
        logger.exception("The progress of %d sessions together failed", len(progressing))
    else:
        for (charging, _), result in zip(progressing, results, strict=True):
            charging.progressed(result)
        return
    for charging, progress in progressing:
        try:
            (result,) = sessions_progress([progress])
        except Exception:
            logger.exception("The progress of %s failed", charging.tx)
            continue
        charging.progressed(result)


# --- never open forever -----------------------------------------------------------------------


def after_boot(charge_point: ChargePoint, at: datetime) -> None:
    """The charge point booted at `at` (our clock): its open transactions are closed after
    OCPP_TRANSACTION_REBOOT_GRACE_SECONDS unless a message shows them going on."""
    ChargerTransaction.objects.filter(
        charge_point=charge_point, ended_at__isnull=True, rebooted_at__isnull=True
    ).update(rebooted_at=at)


def apply_released(now: datetime) -> int:
    """Apply the stored messages not applied yet: those that waited long enough for missing
    ones, and those a gateway stored but never applied: CATCH_UP_SECONDS after their receipt,
    or, a meter message in its order (its applying may wait for its session's next progress
    PATCH: chargers.gateway.meters), CATCH_UP_SECONDS after that wait's longest,
    OCPP_SESSION_PROGRESS_SECONDS. A message still waiting for a missing one waits on. How
    many transactions."""
    waited = now - timedelta(
        seconds=min(CATCH_UP_SECONDS, settings.OCPP_TRANSACTION_REORDER_SECONDS)
    )
    deferred = now - timedelta(seconds=CATCH_UP_SECONDS + settings.OCPP_SESSION_PROGRESS_SECONDS)
    out_of_order = Q(seq_no__isnull=False) & (
        Q(transaction__last_seq_no__isnull=True) | Q(seq_no__gt=F("transaction__last_seq_no") + 1)
    )
    may_wait = Q(kind__in=DEFERRABLE) & ~out_of_order
    pks = set(
        TransactionEvent.objects.filter(applied=False)
        .filter(Q(received_at__lte=deferred) | (Q(received_at__lte=waited) & ~may_wait))
        .values_list("transaction_id", flat=True)
    )
    apply_stored(list(pks), now)
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
