"""Parties and partner platforms (credentials.asciidoc; DESIGN.md, Data ownership).

A *local party* is one of ours (the platform may host several white-label CPOs). A *partner
platform* is one credentials relationship with another platform, which may itself host
several parties (its roles). Tokens are stored encrypted with a digest for lookup
(credentials/crypto.py).
"""

from typing import Any, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from credentials import crypto
from ocpi.enums import InterfaceRole, Role
from ocpi.time import now


class LocalPartyQuerySet(models.QuerySet["LocalParty"]):
    def active(self) -> Self:
        """The parties we speak for now: in our Credentials, addressable by OCPI-to."""
        return self.filter(is_active=True)


class LocalParty(models.Model):
    """A party this platform represents, listed in the roles of our Credentials object."""

    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    role = models.CharField(max_length=5, choices=Role.choices, default=Role.CPO)
    business_name = models.CharField(max_length=100)
    website = models.URLField(max_length=255, blank=True)
    logo = models.JSONField(
        null=True, blank=True, help_text="OCPI Image object: url, thumbnail, category, type…"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LocalPartyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "local parties"
        ordering = ["country_code", "party_id", "role"]
        constraints = [
            models.UniqueConstraint(
                Upper("country_code"), Upper("party_id"), "role", name="unique_local_party"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id} {self.role} ({self.business_name})"

    def business_details(self) -> dict[str, Any]:
        details: dict[str, Any] = {"name": self.business_name}
        if self.website:
            details["website"] = self.website
        if self.logo:
            details["logo"] = self.logo
        return details


class PartnerStatus(models.TextChoices):
    PENDING = "PENDING", "Handshake in progress"
    REGISTERED = "REGISTERED", "Registered"
    UNREGISTERED = "UNREGISTERED", "Unregistered"


# Who may call: a registered partner, or one whose handshake is under way.
CALLER_STATUSES = (PartnerStatus.PENDING, PartnerStatus.REGISTERED)


class PartnerPlatformQuerySet(models.QuerySet["PartnerPlatform"]):
    def registered(self) -> "PartnerPlatformQuerySet":
        return self.filter(status=PartnerStatus.REGISTERED)

    def calling_with(self, digest: str) -> Self:
        """The partner that may call us with the token of this digest: its current one or,
        while we rotate, its next one (CALLER_STATUSES)."""
        token = Q(incoming_token_digest=digest) | Q(next_incoming_token_digest=digest)
        return self.filter(token, status__in=CALLER_STATUSES)


class PartnerPlatform(models.Model):
    """One credentials relationship: their versions URL, endpoints, roles and our tokens."""

    name = models.CharField(max_length=100)
    status = models.CharField(
        max_length=12, choices=PartnerStatus.choices, default=PartnerStatus.PENDING, db_index=True
    )
    versions_url = models.URLField(max_length=255)
    version = models.CharField(max_length=10, blank=True)
    # The token the partner calls us with (C when they registered with us, B when we did).
    # NULL, not "", when unset: several partners may have no token, and NULLs never collide.
    incoming_token_digest = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False
    )
    incoming_token_sealed = models.TextField(blank=True, editable=False)
    # A second accepted token while we rotate: the partner fetches our versions with it
    # before answering our PUT, so it must work before the old one is dropped.
    next_incoming_token_digest = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False
    )
    next_incoming_token_sealed = models.TextField(blank=True, editable=False)
    # The token we call the partner with (B when they registered, C when we did).
    outgoing_token_sealed = models.TextField(blank=True, editable=False)
    plain_tokens = models.BooleanField(
        default=False,
        help_text="Send our token without Base64 (for pre-2.2.1 style partners).",
    )
    retry_pushes = models.BooleanField(
        default=True,
        help_text="Retry failed pushes with backoff. Off: the spec's behaviour, where the "
        "partner resynchronises by pulling after an outage.",
    )
    last_contact_at = models.DateTimeField(null=True, blank=True)
    # What failed last and when, as "<operation>: <what went wrong>" (credentials.problems).
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # PUTs and PATCHes from this partner older than what we hold, answered but not applied
    # (ocpi.receiving): a partner replaying old data shows up here for the operator.
    stale_updates = models.PositiveIntegerField(default=0, editable=False)
    registered_at = models.DateTimeField(null=True, blank=True)
    unregistered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PartnerPlatformQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="REGISTERED")
                | (
                    models.Q(incoming_token_digest__isnull=False)
                    & ~models.Q(outgoing_token_sealed="")
                ),
                name="registered_partner_has_tokens",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # The OcpiCaller protocol (ocpi/permissions.py).
    @property
    def is_registered(self) -> bool:
        return self.status == PartnerStatus.REGISTERED

    @property
    def incoming_token(self) -> str:
        return crypto.decrypt_token(self.incoming_token_sealed)

    @property
    def outgoing_token(self) -> str:
        return crypto.decrypt_token(self.outgoing_token_sealed)

    def set_incoming_token(self, token: str | None) -> None:
        self.incoming_token_digest = crypto.token_digest(token) if token else None
        self.incoming_token_sealed = crypto.encrypt_token(token) if token else ""

    def set_next_incoming_token(self, token: str | None) -> None:
        self.next_incoming_token_digest = crypto.token_digest(token) if token else None
        self.next_incoming_token_sealed = crypto.encrypt_token(token) if token else ""

    def set_outgoing_token(self, token: str | None) -> None:
        self.outgoing_token_sealed = crypto.encrypt_token(token) if token else ""

    def endpoint_url(self, identifier: str, role: str) -> str | None:
        for endpoint in self.endpoints.all():
            if endpoint.identifier == identifier and (
                identifier == "credentials" or endpoint.role == role
            ):
                return endpoint.url
        return None


class PartnerEndpoint(models.Model):
    """An endpoint from the partner's version details, keyed by (identifier, role)."""

    partner = models.ForeignKey(PartnerPlatform, on_delete=models.CASCADE, related_name="endpoints")
    identifier = models.CharField(max_length=32)
    role = models.CharField(max_length=8, choices=InterfaceRole.choices)
    url = models.URLField(max_length=255)

    class Meta:
        ordering = ["identifier", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "identifier", "role"], name="unique_partner_endpoint"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identifier} {self.role}"


class PartnerRoleQuerySet(models.QuerySet["PartnerRole"]):
    def receiving(self, module: str, role: str) -> Self:
        """Roles of registered partners with an endpoint for `module` in `role` (Receiver;
        for chargingprofiles Sender: ocpi.enums.pushed_to): whom a push of the module may go
        to (credentials.access picks the roles)."""
        return self.filter(
            partner__status=PartnerStatus.REGISTERED,
            partner__endpoints__identifier=module,
            partner__endpoints__role=role,
        )


class PartnerRole(models.Model):
    """A party the partner platform represents (a CredentialsRole of its Credentials)."""

    partner = models.ForeignKey(PartnerPlatform, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=5, choices=Role.choices)
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    business_details = models.JSONField()

    objects = PartnerRoleQuerySet.as_manager()

    class Meta:
        ordering = ["country_code", "party_id", "role"]
        constraints = [
            models.UniqueConstraint(
                "partner",
                Upper("country_code"),
                Upper("party_id"),
                "role",
                name="unique_partner_role",
            ),
        ]
        indexes = [
            models.Index(Upper("country_code"), Upper("party_id"), name="partner_role_party")
        ]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id} {self.role}"


class PartyClaim(models.Model):
    """The one owner of a party: a partner platform, or us (`partner` NULL).

    Routing by (country_code, party_id) needs each party behind exactly one platform
    (credentials.asciidoc, CredentialsRole: "The combination of country_id and party_id
    should always be unique"), whatever its roles: one platform may hold a party in several
    roles, no second platform may hold it in any. PartnerRole rows are per role, so no
    constraint on them can say this; a claim is per party, and its unique constraint makes
    the database refuse the second of two registrations, updates or rotations racing for
    the same party (credentials.claims writes claims in the transaction that stores roles).
    """

    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    partner = models.ForeignKey(
        PartnerPlatform,
        null=True,
        blank=True,
        on_delete=models.CASCADE,  # a deleted partner gives its parties back
        related_name="claims",
        help_text="Empty: one of our local parties.",
    )
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["country_code", "party_id"]
        constraints = [
            models.UniqueConstraint(
                Upper("country_code"), Upper("party_id"), name="one_owner_per_party"
            ),
        ]

    def __str__(self) -> str:
        owner = self.partner.name if self.partner is not None else "ours"
        return f"{self.country_code}*{self.party_id} ({owner})"


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def open(self) -> "InvitationQuerySet":
        """Invitations whose token A still works: not used, not revoked, not expired."""
        return self.filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now()),
            used_at__isnull=True,
            revoked_at__isnull=True,
        )


class Invitation(models.Model):
    """A credentials token A handed to a prospective partner out of band."""

    name = models.CharField(max_length=100, help_text="Who the invitation is for.")
    token_digest = models.CharField(  # noqa: DJ001 (NULL once used: see PartnerPlatform)
        max_length=64, unique=True, null=True, editable=False
    )
    token_sealed = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # NULL for invitations issued before invitations expired (they never do).
    expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    partner = models.OneToOneField(
        PartnerPlatform,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitation",
        editable=False,
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    # The OcpiCaller protocol: token A opens only versions and credentials.
    is_registered = False

    @property
    def token(self) -> str:
        return crypto.decrypt_token(self.token_sealed)

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.used_at:
            return "used"
        return "expired" if self.expires_at and self.expires_at <= now() else "open"
