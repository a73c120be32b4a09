"""Reads of cached tokens, of the eMSP parties behind a partner, and of the pull log (also
for the operator's partner health)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery

from credentials.access import TOKEN_OWNER_ROLES
from credentials.crypto import decrypt_token
from credentials.models import (
    LocalParty,
    PartnerEndpoint,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
)
from ocpi import sql
from ocpi.compiled import CompiledQuery, first_rows
from ocpi.enums import InterfaceRole, ModuleID, Role
from ocpi.querysets import owned_by
from ocpi.routing import PartyRef
from tokens.models import PullStatus, Token, TokenPull

TOKENS = ModuleID.TOKENS.value


@dataclass(frozen=True)
class TokensSender:
    """An eMSP platform's tokens Sender interface: where and how to ask it in real time."""

    partner_id: int
    url: str
    sealed_token: str  # PartnerPlatform.outgoing_token_sealed
    plain_tokens: bool

    @property
    def token(self) -> str:
        return decrypt_token(self.sealed_token)


_SENDER_COLUMNS = ("partner_id", "url", "partner__outgoing_token_sealed", "partner__plain_tokens")


def _sender(*, party: PartyRef) -> "QuerySet[Any]":
    """The tokens Sender endpoint of the registered platform hosting eMSP `party`. One party
    is connected through one platform (credentials refuses a second connection naming it),
    so the first is the only one."""
    return (
        PartnerEndpoint.objects.filter(
            owned_by([party], "partner__roles__country_code", "partner__roles__party_id"),
            identifier=ModuleID.TOKENS,
            role=InterfaceRole.SENDER,
            partner__status=PartnerStatus.REGISTERED,
            partner__roles__role__in=TOKEN_OWNER_ROLES,
        )
        .order_by("pk")
        .values_list(*_SENDER_COLUMNS)[:1]
    )


def _token(*, party: PartyRef, uid: str, token_type: str) -> "QuerySet[Token]":
    return Token.objects.for_party(party).identified(uid, token_type).order_by("pk")[:1]


# What authorize() reads while a driver waits: compiled once per process (ocpi.compiled).
_SENDER = CompiledQuery(_sender)
_TOKEN = CompiledQuery(_token)


def _sender_of(row: Sequence[Any] | None) -> TokensSender | None:
    """Plain values, not models: a driver is waiting."""
    if row is None:
        return None
    partner_id, url, sealed, plain = row
    return TokensSender(partner_id, url, sealed, bool(plain))


def tokens_sender(party: PartyRef) -> TokensSender | None:
    """The tokens Sender of the registered platform hosting eMSP `party`."""
    rows = _SENDER.raw(party=party)
    return _sender_of(rows[0] if rows else None)


def token_and_sender(
    *, party: PartyRef, uid: str, token_type: str
) -> tuple[Token | None, TokensSender | None]:
    """token_get() and tokens_sender() of `party` in one round trip (ocpi.compiled.first_rows)."""
    token, sender = first_rows(
        [
            (_TOKEN, {"party": party, "uid": uid, "token_type": token_type}),
            (_SENDER, {"party": party}),
        ]
    )
    return (None if token is None else sql.instance(Token, token)), _sender_of(sender)


def token_get(*, party: PartyRef, uid: str, token_type: str) -> Token | None:
    """One token of `party` by (uid, type); uid compared case-insensitively (CiString)."""
    return Token.objects.for_party(party).identified(uid, token_type).first()


def tokens_with_uid(*, uid: str, token_type: str, limit: int = 2) -> list[Token]:
    """Tokens of any eMSP with this (uid, type): what an RFID tap names. `limit` 2 is enough
    to tell one from several."""
    return list(Token.objects.identified(uid, token_type).order_by("pk")[:limit])


def partner_of_party(party: PartyRef) -> PartnerPlatform | None:
    """The registered platform that hosts eMSP `party`.

    One party is connected through one platform (credentials refuses a second connection
    naming a party already connected), so the first is the only one.
    """
    role = (
        PartnerRole.objects.filter(
            owned_by([party], "country_code", "party_id"),
            role__in=TOKEN_OWNER_ROLES,
            partner__status=PartnerStatus.REGISTERED,
        )
        .select_related("partner")
        .order_by("pk")
        .first()
    )
    return None if role is None else role.partner


def tokens_sender_url(partner: PartnerPlatform) -> str | None:
    return partner.endpoint_url(TOKENS, InterfaceRole.SENDER)


def partners_to_pull() -> list[PartnerPlatform]:
    """Registered partners with a tokens Sender endpoint and at least one eMSP party."""
    return list(
        PartnerPlatform.objects.registered()
        .filter(
            endpoints__identifier=TOKENS,
            endpoints__role=InterfaceRole.SENDER,
            roles__role__in=TOKEN_OWNER_ROLES,
        )
        .distinct()
        .order_by("pk")
    )


def our_party() -> PartyRef | None:
    """The local CPO party we speak as when a request has no object of ours to name one:
    the platform's default party (OCPI_COUNTRY_CODE/OCPI_PARTY_ID) when it is an active CPO
    party, else our first active CPO party."""
    ours = [
        PartyRef.of(party.country_code, party.party_id)
        for party in LocalParty.objects.active()
        .filter(role=Role.CPO)
        .order_by("country_code", "party_id")
    ]
    default = PartyRef.of(settings.OCPI_COUNTRY_CODE, settings.OCPI_PARTY_ID)
    if default in ours:
        return default
    return ours[0] if ours else None


def last_successful_pull(partner: PartnerPlatform, *, full_only: bool = False) -> TokenPull | None:
    pulls = TokenPull.objects.succeeded().filter(partner=partner)
    if full_only:
        pulls = pulls.filter(full=True)
    return pulls.order_by("-started_at", "-pk").first()


def running_pull(partner: PartnerPlatform, *, since: datetime) -> TokenPull | None:
    """A pull of the partner still running that started after `since` (a live one)."""
    return (
        TokenPull.objects.filter(partner=partner, status=PullStatus.RUNNING, started_at__gte=since)
        .order_by("-started_at")
        .first()
    )


def with_last_token_pull(partners: "QuerySet[PartnerPlatform]") -> "QuerySet[PartnerPlatform]":
    """`partners` annotated with `last_token_pull_at`: when their last successful pull of
    tokens finished (None: never). One correlated subquery on the index token_pull_partner."""
    last = (
        TokenPull.objects.succeeded()
        .filter(partner=OuterRef("pk"))
        .order_by("-started_at")
        .values("finished_at")[:1]
    )
    return partners.annotate(last_token_pull_at=Subquery(last))


def recent_failed_pulls(limit: int) -> "QuerySet[TokenPull]":
    """The `limit` token pulls that failed last (newest first), with their partner."""
    return (
        TokenPull.objects.filter(status=PullStatus.FAILED)
        .select_related("partner")
        .order_by("-started_at", "-pk")[:limit]
    )
