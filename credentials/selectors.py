"""Reads of parties and partners.

The reads behind every request (the caller by its token, with its roles; our parties) are
hand-written SQL (ocpi.sql): through the ORM they cost more than the rest of a GET of one
object. Each process keeps what it read, checked on every request against the credentials
generation, which every service writing partners, roles, endpoints or our parties moves in
its transaction (credentials.generation): a revoked token or a changed role counts from the
next request on, in every process, and a request costs one indexed read of one row instead
of two joins.
"""

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorWrapper

from credentials.generation import GENERATION
from credentials.models import (
    LocalParty,
    PartnerEndpoint,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
)
from ocpi import generations, sql
from ocpi.enums import InterfaceRole
from ocpi.routing import PartyRef
from ocpi.versioning import versions_url

# Who may call: a registered partner, or one whose handshake is under way.
CALLER_STATUSES = (PartnerStatus.PENDING, PartnerStatus.REGISTERED)


@cache
def _local_parties_sql(using: str) -> str:
    lp = sql.qualifier(LocalParty, "l", using)

    return (
        f"SELECT {sql.columns(LocalParty, 'l', using)} "  # noqa: S608 (names from _meta)
        f"FROM {sql.table(LocalParty, using)} l WHERE {lp('is_active')} = %s "
        # LocalParty.Meta.ordering, as the ORM orders them.
        f"ORDER BY {lp('country_code')}, {lp('party_id')}, {lp('role')}"
    )


def local_parties(using: str = DEFAULT_DB_ALIAS) -> list[LocalParty]:
    """Our active parties, in LocalParty.Meta.ordering."""
    with connections[using].cursor() as cursor:
        cursor.execute(_local_parties_sql(using), [True])
        return [sql.instance(LocalParty, row, using=using) for row in cursor.fetchall()]


@cache
def _caller_sql(using: str) -> str:
    p = sql.qualifier(PartnerPlatform, "p", using)
    r = sql.qualifier(PartnerRole, "r", using)

    statuses = ", ".join(["%s"] * len(CALLER_STATUSES))
    return (
        f"SELECT {sql.columns(PartnerPlatform, 'p', using)}, "  # noqa: S608 (names from _meta)
        f"{sql.columns(PartnerRole, 'r', using)} FROM {sql.table(PartnerPlatform, using)} p "
        f"LEFT JOIN {sql.table(PartnerRole, using)} r ON {r('partner')} = {p('id')} "
        f"WHERE ({p('incoming_token_digest')} = %s OR {p('next_incoming_token_digest')} = %s) "
        f"AND {p('status')} IN ({statuses}) "
        # PartnerPlatform.Meta.ordering picks between two matches (one partner's current
        # token digest equal to another's next one), as .first() would; then the roles in
        # PartnerRole.Meta.ordering.
        f"ORDER BY {p('name')}, {p('id')}, {r('country_code')}, {r('party_id')}, {r('role')}"
    )


@dataclass(frozen=True)
class Caller:
    """Who is who for one request: the partner behind the token, its roles, our parties."""

    partner: PartnerPlatform
    roles: list[PartnerRole]
    parties: list[LocalParty]


# A role of a registered partner with a Receiver endpoint for a module: (partner id, role,
# country code, party id).
Receiver = tuple[int, str, str, str]


# --- The per-process cache ------------------------------------------------------------------

MAX_CALLERS = 1024  # token digests kept per process; beyond, all are forgotten


@dataclass
class _Directory:
    """Rows (as the database returned them: converted anew into fresh instances for every
    request, so no request sees another's changes) read while the generation was this."""

    generation: int
    callers: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    parties: list[tuple[Any, ...]] | None = None
    receivers: dict[str, list[Receiver]] = field(default_factory=dict)  # by module


class _Cache:
    """The process's one cache: the directory of the generation last seen."""

    def __init__(self) -> None:
        self.directory: _Directory | None = None
        self.lock = threading.Lock()

    def current(self, cursor: CursorWrapper, using: str) -> _Directory | None:
        """The directory of the generation the database has now; None while it has none
        (nothing written through the services yet: nothing would tell a write apart)."""
        generation = generations.current(GENERATION, using=using, cursor=cursor)
        if generation == generations.NEVER:
            return None
        with self.lock:
            if self.directory is None or self.directory.generation != generation:
                self.directory = _Directory(generation)
            return self.directory

    def forget(self) -> None:
        """Drop the directory (tests: a rolled-back test database can bring a generation
        back with other rows under it)."""
        with self.lock:
            self.directory = None

    def keep_caller(self, directory: _Directory, digest: str, rows: list[tuple[Any, ...]]) -> None:
        with self.lock:
            if len(directory.callers) >= MAX_CALLERS:
                directory.callers.clear()
            directory.callers[digest] = rows


_cache = _Cache()


def caller_by_token_digest(digest: str, using: str = DEFAULT_DB_ALIAS) -> Caller | None:
    """The partner platform that calls us with this token (current or, while we rotate,
    next), unless unregistered, with its roles (one statement, one snapshot) and our parties.

    Read first: the generation; then what the cache lacks. A write committed in between is
    in what is read, and has moved the generation the next request compares with.
    """
    with connections[using].cursor() as cursor:
        directory = _cache.current(cursor, using)
        rows = directory.callers.get(digest) if directory is not None else None
        if rows is None:
            cursor.execute(_caller_sql(using), [digest, digest, *CALLER_STATUSES])
            rows = cursor.fetchall()
            if not rows:
                return None  # never kept: a token that fails costs a read every time
            if directory is not None:
                _cache.keep_caller(directory, digest, rows)
        parties = directory.parties if directory is not None else None
        if parties is None:
            cursor.execute(_local_parties_sql(using), [True])
            parties = cursor.fetchall()
            if directory is not None:
                directory.parties = parties
    partner = sql.instance(PartnerPlatform, rows[0], using=using)
    offset = sql.width(PartnerPlatform)
    return Caller(
        partner=partner,
        roles=[
            sql.instance(PartnerRole, row, offset, using=using)
            for row in rows
            if row[0] == rows[0][0] and row[offset] is not None  # LEFT JOIN: no role, NULLs
        ],
        parties=[sql.instance(LocalParty, row, using=using) for row in parties],
    )


@cache
def _receivers_sql(using: str) -> str:
    p = sql.qualifier(PartnerPlatform, "p", using)
    e = sql.qualifier(PartnerEndpoint, "e", using)
    r = sql.qualifier(PartnerRole, "r", using)

    return (
        f"SELECT {p('id')}, {r('role')}, {r('country_code')}, {r('party_id')} "  # noqa: S608 (names from _meta)
        f"FROM {sql.table(PartnerPlatform, using)} p "
        f"JOIN {sql.table(PartnerEndpoint, using)} e ON {e('partner')} = {p('id')} "
        f"JOIN {sql.table(PartnerRole, using)} r ON {r('partner')} = {p('id')} "
        f"WHERE {p('status')} = %s AND {e('identifier')} = %s AND {e('role')} = %s "
        # The partners in PartnerPlatform.Meta.ordering, their roles in PartnerRole's.
        f"ORDER BY {p('name')}, {p('id')}, {r('country_code')}, {r('party_id')}, {r('role')}"
    )


def receivers(module: str, using: str = DEFAULT_DB_ALIAS) -> list[Receiver]:
    """Every role of every registered partner with a Receiver endpoint for `module`: whom
    a push of the module may go to (push.services picks the roles).

    Every change of a location, an EVSE, a session asks this; kept per process like the
    callers, so it costs one read of the generation while no partner, role or endpoint
    changed.
    """
    with connections[using].cursor() as cursor:
        directory = _cache.current(cursor, using)
        rows = directory.receivers.get(module) if directory is not None else None
        if rows is None:
            cursor.execute(
                _receivers_sql(using),
                [PartnerStatus.REGISTERED.value, module, InterfaceRole.RECEIVER.value],
            )
            rows = [(pk, role, cc, party_id) for pk, role, cc, party_id in cursor.fetchall()]
            if directory is not None:
                directory.receivers[module] = rows
    return list(rows)


def find_local_party(parties: Sequence[LocalParty], ref: PartyRef) -> LocalParty | None:
    """local_party() among parties already read (CiStrings: compared in upper case)."""
    country_code, party_id = ref.country_code.upper(), ref.party_id.upper()
    for party in parties:
        if party.country_code.upper() == country_code and party.party_id.upper() == party_id:
            return party
    return None


def find_partner_role(roles: Sequence[PartnerRole], ref: PartyRef) -> PartnerRole | None:
    """The partner's role that is party `ref`, among its roles already read."""
    country_code, party_id = ref.country_code.upper(), ref.party_id.upper()
    for role in roles:
        if role.country_code.upper() == country_code and role.party_id.upper() == party_id:
            return role
    return None


def our_credentials(token: str) -> dict[str, Any]:
    """Our Credentials object, carrying the token the partner is to call us with."""
    return {
        "token": token,
        "url": versions_url(),
        "roles": [
            {
                "role": party.role,
                "business_details": party.business_details(),
                "party_id": party.party_id,
                "country_code": party.country_code,
            }
            for party in local_parties()
        ],
    }


def local_party(ref: PartyRef) -> LocalParty | None:
    return LocalParty.objects.filter(
        is_active=True, country_code__iexact=ref.country_code, party_id__iexact=ref.party_id
    ).first()


def registered_partner_by_name(name_or_id: str) -> PartnerPlatform:
    """Find a partner for management commands by id or exact name (case-insensitive).

    An ended relationship keeps its name, and registering again with the same partner
    usually reuses it: the name then means the relationship that is not unregistered.
    """
    partners = PartnerPlatform.objects.all()
    if name_or_id.isdigit():
        return partners.get(pk=int(name_or_id))
    named = partners.filter(name__iexact=name_or_id)
    live = named.exclude(status=PartnerStatus.UNREGISTERED)
    return (live if live.exists() else named).get()
