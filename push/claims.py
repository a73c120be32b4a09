"""Which deliveries a worker may send now: the queue-head rule, and the claim that applies it.

The rule, stated here once. Deliveries to one (partner, party, object) form a queue
(Delivery.queue_key) and go out oldest first, so that the updates of one object arrive in
the order they were made. An open delivery holds its queue, keeping everything behind it
unsent, while it is being sent (IN_FLIGHT, by this worker or another) or waits for a retry's
backoff (PENDING, not yet due): `holds_queue()`. A worker may take the oldest open delivery
of each queue that nothing holds, with the due ones behind it, CHAIN_DEPTH in all: a chain,
which one sending thread sends in order without a claim in between. Where one of them comes
back to be retried, it holds its queue again and the chain stops (push.sending.send_chain).

The statements apply it in one pass. `scan` reads the partner's open deliveries oldest
first, a page at a time, through the partial index delivery_open, so whatever holds a queue
is read before the rest of it; `QueueHeads` chooses from the rows as they come. `claim`
marks the chosen IN_FLIGHT in one UPDATE … RETURNING (PostgreSQL, SQLite ≥ 3.35), which
skips what a newer change superseded meanwhile, and `read` fetches what sending them takes.
Claims of one partner are serialized by `lock`, on the partner's row: a second worker sees
the first one's claims and cannot take the tail of a queue whose head the first one holds.
"""

from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from credentials.models import PartnerPlatform
from ocpi import sql
from ocpi.json import loads
from ocpi.routing import PartyRef, RoutingHeaders
from ocpi.time import now
from push.models import Change, Delivery, DeliveryStatus
from push.statements import ForIds, db_time, has_arrays

# Deliveries of one queue claimed at once: its head and what follows it.
CHAIN_DEPTH = 8
# Open deliveries read at a time. A claim usually needs one page: the batch it claims, behind
# what is still in flight (at most a batch: the task claims only when fewer are outstanding),
# with room for queues held by retries. Rows read beyond what a claim takes were much of its
# cost in PostgreSQL when a page was 512.
SCAN_PAGE = 192

_PENDING, _IN_FLIGHT = DeliveryStatus.PENDING.value, DeliveryStatus.IN_FLIGHT.value


def holds_queue(status: str, due: bool) -> bool:
    """Whether a delivery keeps the rest of its queue unsent (the rule above); one that is
    finished (delivered, failed, superseded) holds nothing."""
    return status == _IN_FLIGHT or (status == _PENDING and not due)


@dataclass(slots=True)
class Claimed:
    """A claimed delivery and what sending it takes."""

    pk: int
    queue_key: str
    attempts: int
    module: str
    method: str
    path: list[str]
    body: bytes | None  # the change's payload, as the JSON it was stored as
    routing: dict[str, str]
    url: str = ""  # an absolute URL of the partner's, sent to instead of its module endpoint

    @property
    def request(self) -> str:
        """Its method and target, as a partner's last error names a failed push."""
        return f"{self.method} {self.url or '/'.join([self.module, *self.path])}"


@dataclass(frozen=True)
class Chain:
    """Claimed deliveries of one queue, oldest first, to be sent one after another."""

    deliveries: list[Claimed]
    continues: bool  # more of its queue may be due behind it


@dataclass(frozen=True)
class Claim:
    deliveries: list[Claimed]  # oldest first
    floor: int  # no open delivery of the partner at or below it: where the next claim starts
    full: bool  # as many as were asked for: more may be due at once
    # Claimed deliveries whose request cannot be built from their stored change, with why.
    broken: list[tuple[Claimed, str]] = field(default_factory=list)

    def chains(self, modules: Container[str], refused: Container[int] = ()) -> list[Chain]:
        """The claimed deliveries of `modules`, and those to an absolute URL not `refused`
        (ids), per queue. Behind a chain more of its queue may be due when the claim was
        full or the chain is as long as a chain may be."""
        queues: dict[str, list[Claimed]] = {}
        for delivery in self.deliveries:
            sendable = delivery.pk not in refused if delivery.url else delivery.module in modules
            if sendable:
                queues.setdefault(delivery.queue_key, []).append(delivery)
        return [
            Chain(chain, continues=self.full or len(chain) >= CHAIN_DEPTH)
            for chain in queues.values()
        ]


class QueueHeads:
    """The rule applied to a partner's open deliveries, read oldest first: what to claim."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chosen: list[int] = []
        self._held: set[str] = set()  # queues with an older delivery in flight or not yet due
        self._chained: dict[str, int] = {}

    @property
    def full(self) -> bool:
        return len(self.chosen) >= self.limit

    def take(self, rows: Sequence[tuple[int, str, str, Any]]) -> None:
        """Choose from one page of the scan: (id, queue, status, due) oldest first."""
        held, chained, chosen = self._held, self._chained, self.chosen  # locals: a row's cost
        for pk, queue_key, status, due in rows:
            if queue_key in held:
                continue
            if holds_queue(status, due) or chained.get(queue_key, 0) >= CHAIN_DEPTH:
                held.add(queue_key)
                continue
            chained[queue_key] = chained.get(queue_key, 0) + 1
            chosen.append(pk)
            if len(chosen) == self.limit:
                return


def claim(partner: PartnerPlatform, limit: int, floor: int = 0) -> Claim:
    """Claim up to `limit` deliveries of the partner that the rule lets go out now, oldest
    first, reading its open deliveries from above `floor` (a Claim's floor)."""
    statements = written(DEFAULT_DB_ALIAS)
    heads = QueueHeads(limit)
    scan = {"partner": partner.pk, "now": db_time(now()), "after": floor, "page": SCAN_PAGE}
    with transaction.atomic(), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(statements.lock, {"partner": partner.pk})
        more = True
        while more and not heads.full:
            cursor.execute(statements.scan, scan)
            rows = cursor.fetchall()
            more = len(rows) == SCAN_PAGE
            if rows and scan["after"] == floor:  # the first page starts at the lowest open id
                floor = rows[0][0] - 1
            if rows:
                scan["after"] = rows[-1][0]
            heads.take(rows)
        if not heads.chosen:
            return Claim([], floor, full=False)
        cursor.execute(*statements.claim(heads.chosen, db_time(now())))
        claimed = [row[0] for row in cursor.fetchall()]
    deliveries, broken = _read(claimed) if claimed else ([], [])
    return Claim(deliveries, floor, full=len(claimed) >= limit, broken=broken)


def _segments(path: str) -> list[str]:
    """A change's stored path: a list of text segments, else ValueError."""
    segments = loads(path)
    if not isinstance(segments, list) or not all(isinstance(s, str) for s in segments):
        raise ValueError("its path is not a list of text segments")
    return segments


def _read(claimed: list[int]) -> tuple[list[Claimed], list[tuple[Claimed, str]]]:
    """What sending the claimed deliveries takes, as plain values (no model instances); and
    those whose request cannot be built from what is stored, with why: they would fail in a
    sending thread and take the whole window down with them."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(*written(DEFAULT_DB_ALIAS).read(claimed))
        rows = cursor.fetchall()
    routing: dict[tuple[str, ...], dict[str, str]] = {}
    deliveries, broken = [], []
    for row in rows:
        pk, queue_key, attempts, to_cc, to_id, module, method, path, url, payload, cc, pid = row
        parties = (cc, pid, to_cc, to_id)
        if parties not in routing:
            routing[parties] = RoutingHeaders(
                from_party=PartyRef.of(cc, pid), to_party=PartyRef.of(to_cc, to_id)
            ).as_headers()
        delivery = Claimed(pk, queue_key, attempts, module, method, [], None, routing[parties], url)
        try:
            delivery.path = _segments(path)
            # A DELETE has no body (SQL NULL; JSON null is no body either).
            delivery.body = payload.encode() if payload is not None and payload != "null" else None
        except (ValueError, UnicodeError) as exc:
            broken.append((delivery, f"the request cannot be built: {exc}"))
            continue
        deliveries.append(delivery)
    return deliveries, broken


@dataclass(frozen=True)
class Statements:
    lock: str  # the partner's row, serializing its claims: %(partner)s
    scan: str  # its open deliveries in order: %(partner)s %(now)s %(after)s %(page)s
    claim: ForIds  # PENDING → IN_FLIGHT: claimed_at, then the ids
    read: ForIds  # what sending the claimed ones takes: the ids


@cache
def written(using: str) -> Statements:
    """The claim's SQL, written once per database."""
    connection = connections[using]
    quote = connection.ops.quote_name
    d = sql.qualifier(Delivery, "d", using)
    c = sql.qualifier(Change, "c", using)
    deliveries, changes = sql.table(Delivery, using), sql.table(Change, using)
    # Literals, not parameters: the planner matches them to the partial index delivery_open.
    pending, in_flight = f"'{_PENDING}'", f"'{_IN_FLIGHT}'"
    status, pk = quote("status"), quote("id")
    lock = f"SELECT 1 FROM {sql.table(PartnerPlatform, using)} WHERE {pk} = %(partner)s"  # noqa: S608 (names from _meta)
    if connection.features.has_select_for_update:
        lock += " FOR UPDATE"
    read = ", ".join(
        [d(f) for f in ("id", "queue_key", "attempts", "to_country_code", "to_party_id")]
        + [c(f) for f in ("module", "method", "path", "url", "payload")]
        + [c(f) for f in ("owner_country_code", "owner_party_id")]
    )
    return Statements(
        lock=lock,
        # The partner as a range, not an equality, and the order as (partner, id): then
        # only delivery_open yields rows in that order. With `partner = …` PostgreSQL may
        # walk the primary key instead, filtering out every other partner's rows, when its
        # statistics (taken while a burst was pending) say most deliveries are open.
        scan=(
            f"SELECT {d('id')}, {d('queue_key')}, {d('status')}, "  # noqa: S608 (names from _meta)
            f"{d('next_attempt_at')} <= %(now)s FROM {deliveries} d "
            f"WHERE ({d('partner')}, {d('id')}) > (%(partner)s, %(after)s) "
            f"AND {d('partner')} <= %(partner)s AND {d('status')} IN ({pending}, {in_flight}) "
            f"ORDER BY {d('partner')}, {d('id')} LIMIT %(page)s"
        ),
        claim=ForIds(
            f"UPDATE {deliveries} SET {status} = {in_flight}, {quote('claimed_at')} = %s "  # noqa: S608 (names from _meta)
            f"WHERE {pk}",
            f" AND {status} = {pending} RETURNING {pk}",
            array=has_arrays(using),
        ),
        read=ForIds(
            f"SELECT {read} FROM {deliveries} d JOIN {changes} c ON {c('id')} = {d('change')} "  # noqa: S608 (names from _meta)
            f"WHERE {d('id')}",
            f" ORDER BY {d('id')}",
            array=has_arrays(using),
        ),
    )
