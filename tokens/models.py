"""Tokens of eMSP parties cached by our CPO platform, and the log of pulls (mod_tokens.asciidoc).

A Token is owned by an eMSP party (country_code, party_id) and identified within it by
(uid, type); the CiStrings are kept as written and compared case-insensitively (Upper()).
Every OCPI field is a column except energy_contract, a small JSON object nobody queries.
`last_updated` is the owner's: written as the eMSP sent it, never set here.

Tokens are never deleted: the spec has no DELETE (an eMSP invalidates with valid=false), and
sessions and CDRs refer to them. A token that a full pull no longer returns is set
valid=false and `missing_since` tells the operator why.
"""

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from credentials.models import PartnerPlatform
from ocpi.querysets import PartyOwnedQuerySet
from ocpi.routing import PartyRef

# A token's identity, case folded: (COUNTRY, PARTY, UID, type).
TokenKey = tuple[str, str, str, str]


class TokenType(models.TextChoices):
    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class WhitelistType(models.TextChoices):
    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


class ProfileType(models.TextChoices):
    """Token.default_profile_type (mod_sessions, ProfileType); sessions sit above tokens."""

    CHEAP = "CHEAP"
    FAST = "FAST"
    GREEN = "GREEN"
    REGULAR = "REGULAR"


class AllowedType(models.TextChoices):
    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


class TokenQuerySet(PartyOwnedQuerySet["Token"]):
    def identified(self, uid: str, token_type: str) -> "TokenQuerySet":
        """(uid, type): the identity of a token within its eMSP (mod_tokens, Token object)."""
        return self.filter(uid__ci=uid, type=token_type)


class Token(models.Model):
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    uid = models.CharField(max_length=36)
    type = models.CharField(max_length=11, choices=TokenType.choices)
    contract_id = models.CharField(max_length=36)
    visual_number = models.CharField(max_length=64, blank=True)
    issuer = models.CharField(max_length=64)
    group_id = models.CharField(max_length=36, blank=True)
    valid = models.BooleanField()
    whitelist = models.CharField(max_length=15, choices=WhitelistType.choices)
    language = models.CharField(max_length=2, blank=True)
    default_profile_type = models.CharField(max_length=7, choices=ProfileType.choices, blank=True)
    energy_contract = models.JSONField(null=True, blank=True)
    last_updated = models.DateTimeField()
    # Operator-side, not OCPI.
    missing_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when a full pull from the eMSP no longer returned this token "
        "(it was then set invalid); cleared when the eMSP sends it again.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TokenQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Upper("country_code"),
                Upper("party_id"),
                Upper("uid"),
                "type",
                name="token_unique_uid_type_per_party",
                violation_error_message="A token with this uid and type exists for the party.",
            ),
            models.CheckConstraint(condition=Q(type__in=TokenType.values), name="token_type_valid"),
            models.CheckConstraint(
                condition=Q(whitelist__in=WhitelistType.values), name="token_whitelist_valid"
            ),
            models.CheckConstraint(
                condition=Q(default_profile_type__in=["", *ProfileType.values]),
                name="token_default_profile_type_valid",
            ),
            models.CheckConstraint(
                condition=~Q(uid="") & ~Q(country_code="") & ~Q(party_id=""),
                name="token_ids_not_empty",
            ),
        ]
        indexes = [
            # A tap at a charge point names the uid only, not the eMSP.
            models.Index(Upper("uid"), "type", name="token_uid_type"),
            models.Index(fields=["last_updated"], name="token_last_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id} {self.type} {self.uid}"

    @property
    def party(self) -> PartyRef:
        return PartyRef.of(self.country_code, self.party_id)

    @property
    def key(self) -> TokenKey:
        """The identity, case folded: (COUNTRY, PARTY, UID, type)."""
        return token_key(self.country_code, self.party_id, self.uid, self.type)


def token_key(country_code: str, party_id: str, uid: str, token_type: str) -> TokenKey:
    return (country_code.upper(), party_id.upper(), uid.upper(), token_type)


def key_of(data: Mapping[str, Any]) -> TokenKey:
    """The identity of a Token object (validated data or model values)."""
    return token_key(data["country_code"], data["party_id"], data["uid"], data["type"])


class PullStatus(models.TextChoices):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    # A full pull that would have set more than TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE of the
    # eMSP's valid tokens invalid: nothing invalidated until an operator applies it.
    HELD = "HELD"


class TokenPullQuerySet(models.QuerySet["TokenPull"]):
    def succeeded(self) -> "TokenPullQuerySet":
        return self.filter(status=PullStatus.SUCCEEDED)


class TokenPull(models.Model):
    """One pull of a partner's tokens Sender interface (all its eMSP parties), for the log."""

    partner = models.ForeignKey(
        PartnerPlatform, on_delete=models.CASCADE, related_name="token_pulls"
    )
    full = models.BooleanField(
        help_text="A full pull is the new truth: tokens not returned "
        "are set invalid. A delta pull asks for changes since date_from."
    )
    date_from = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=9, choices=PullStatus.choices, default=PullStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    received = models.PositiveIntegerField(default=0, help_text="Objects in the pages read.")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(
        default=0, help_text="Same as cached, or older than the cached copy."
    )
    invalid = models.PositiveIntegerField(
        default=0, help_text="Objects that are not valid Tokens: skipped and logged."
    )
    ignored = models.PositiveIntegerField(
        default=0, help_text="Valid Tokens of parties that are not this partner's eMSP roles."
    )
    invalidated = models.PositiveIntegerField(
        default=0, help_text="Cached tokens a full pull did not return, now set invalid."
    )
    held = models.PositiveIntegerField(
        default=0,
        help_text="Cached tokens a full pull did not return, held valid for the operator to "
        "confirm: more than TOKENS_FULL_PULL_MAX_INVALIDATE_SHARE of the valid ones.",
    )
    valid_before = models.PositiveIntegerField(
        default=0, help_text="Valid cached tokens of the parties a full pull read, before it."
    )
    # The ids of the held tokens, until the pull is applied (tokens.pull.apply_held_pull).
    held_token_ids = models.JSONField(default=list, blank=True, editable=False)
    applied_at = models.DateTimeField(
        null=True, blank=True, help_text="When an operator applied the held pull."
    )
    error = models.TextField(blank=True)

    objects = TokenPullQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["partner", "status", "started_at"], name="token_pull_partner"),
        ]

    def __str__(self) -> str:
        kind = "full" if self.full else "delta"
        return f"{kind} pull from {self.partner} at {self.started_at:%Y-%m-%d %H:%M:%S}"

    def counts(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COUNTS}


COUNTS = (
    "received",
    "created",
    "updated",
    "unchanged",
    "invalid",
    "ignored",
    "invalidated",
    "held",
)
