"""Reads of parties and partners.

The reads behind every request (the caller by its token, with its roles; our parties) are
QuerySets compiled once per process (ocpi.compiled) and read with ocpi.sql: built and
compiled per request they cost more than the rest of a GET of one object. Each process
keeps what it read, checked on every request against the credentials generation, which
every service writing partners, roles, endpoints or our parties moves in its transaction
(credentials.generation): a revoked token or a changed role counts from the
next request on, in every process, and a request costs one indexed read of one row instead
of two joins.
"""

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet

from credentials.generation import GENERATION
from credentials.models import (
    Invitation,
    LocalParty,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
)
from ocpi import generations, sql
from ocpi.compiled import CompiledQuery
from ocpi.enums import pushed_to
from ocpi.querysets import owned_by
from ocpi.routing import PartyRef
from ocpi.versioning import versions_url


def _local_parties() -> "QuerySet[LocalParty]":
    return LocalParty.objects.active()  # in LocalParty.Meta.ordering


def _caller(*, digest: str) -> "QuerySet[Any]":
    """The partner calling with `digest` and its roles, one row per role (a partner without
    roles: one row, the role's columns NULL), in both models' Meta.ordering."""
    roles = [f"roles__{name}" for name in _attnames(PartnerRole)]
    return (
        PartnerPlatform.objects.calling_with(digest)
        .order_by(*_ordering(PartnerPlatform), *_ordering(PartnerRole, "roles__"))
        .values_list(*_attnames(PartnerPlatform), *roles)
    )


def _receivers(*, module: str, role: str) -> "QuerySet[Any]":
    """Receiver rows: the partners in PartnerPlatform.Meta.ordering, their roles in
    PartnerRole's."""
    return (
        PartnerRole.objects.receiving(module, role)
        .order_by(*_ordering(PartnerPlatform, "partner__"), *_ordering(PartnerRole))
        .values_list("partner_id", "role", "country_code", "party_id")
    )


def _ordering(model: type[Model], through: str = "") -> list[str]:
    """`model`'s Meta.ordering, reached `through` a relation."""
    return [f"{through}{name}" for name in model._meta.ordering or () if isinstance(name, str)]


def _attnames(model: type[Model]) -> list[str]:
    """The columns ocpi.sql.instance() reads, in its order."""
    return [field.attname for field in model._meta.concrete_fields]


# What every request reads (the caller, our parties) and every push (the receivers):
# compiled once per process (ocpi.compiled), read into instances with ocpi.sql.
_LOCAL_PARTIES = CompiledQuery(_local_parties)
_CALLER = CompiledQuery(_caller)
_RECEIVERS = CompiledQuery(_receivers)


def local_parties(using: str = DEFAULT_DB_ALIAS) -> list[LocalParty]:
    """Our active parties, in LocalParty.Meta.ordering."""
    return [sql.instance(LocalParty, row, using=using) for row in _LOCAL_PARTIES.raw(using)]


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
            rows = _CALLER.raw(using, digest=digest)
            if not rows:
                return None  # never kept: a token that fails costs a read every time
            if directory is not None:
                _cache.keep_caller(directory, digest, rows)
        parties = directory.parties if directory is not None else None
        if parties is None:
            parties = _LOCAL_PARTIES.raw(using)
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
            rows = [
                (pk, role, cc, party_id)
                for pk, role, cc, party_id in _RECEIVERS.raw(
                    using, module=module, role=pushed_to(module)
                )
            ]
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
    return LocalParty.objects.active().filter(owned_by([ref], "country_code", "party_id")).first()


def registered_partner_by_name(name_or_id: str) -> PartnerPlatform:
    """Find a partner for management commands by id or exact name (case-insensitive).

    An ended relationship keeps its name, and registering again with the same partner
    usually reuses it: the name then means the relationship that is not unregistered.
    """
    partners = PartnerPlatform.objects.all()
    if name_or_id.isdigit():
        return partners.get(pk=int(name_or_id))
    named = partners.filter(name__ci=name_or_id)
    live = named.exclude(status=PartnerStatus.UNREGISTERED)
    return (live if live.exists() else named).get()


def invitation_namesakes(name: str) -> list[str]:
    """What a new invitation for `name` would duplicate: open invitations and registered
    partners of that name (case-insensitive), each described for the operator."""
    found = [
        f"open invitation {invitation.pk} issued {invitation.created_at:%Y-%m-%d %H:%M} UTC"
        + (f", expires {invitation.expires_at:%Y-%m-%d %H:%M} UTC" if invitation.expires_at else "")
        for invitation in Invitation.objects.open().filter(name__iexact=name).order_by("pk")
    ]
    found += [
        f"registered partner {partner.name!r} (id {partner.pk})"
        for partner in PartnerPlatform.objects.registered().filter(name__iexact=name)
    ]
    return found


def _party_keys(rows: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Distinct (COUNTRY_CODE, PARTY_ID) in upper case (CiStrings), sorted."""
    return sorted({(country_code.upper(), party_id.upper()) for country_code, party_id in rows})


def our_party_keys(role: str) -> list[tuple[str, str]]:
    """Every party of ours in `role`, active or not (their sessions and CDRs stay): the
    choices of a list filter, read from the few local parties, never from what they own."""
    return _party_keys(LocalParty.objects.filter(role=role).values_list("country_code", "party_id"))


def partner_party_keys(role: str) -> list[tuple[str, str]]:
    """Every party a partner platform holds in `role`, whatever the relationship's status
    (an ended one keeps its sessions and CDRs): read from the partners' few roles."""
    return _party_keys(
        PartnerRole.objects.filter(role=role).values_list("country_code", "party_id")
    )
