"""Writes of the credentials module: invitations and the handshake in both directions.

Receiver side (a partner calls our credentials endpoint): accept_registration (POST with
token A), accept_update (PUT), accept_unregistration (DELETE).
Sender side (we call theirs): register_with_partner (our POST with their token A),
rotate_credentials (our PUT), unregister_partner (our DELETE).

Outbound HTTP never runs inside a transaction; a failed handshake stores nothing.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from credentials import crypto
from credentials.claims import (
    PartyTaken,
    check_parties,
    claim_partner_parties,
    release_partner_parties,
)
from credentials.discovery import Discovery, discover
from credentials.generation import credentials_changed
from credentials.models import (
    Invitation,
    PartnerEndpoint,
    PartnerPlatform,
    PartnerRole,
    PartnerStatus,
)
from credentials.problems import partner_error_record
from credentials.selectors import invitation_namesakes, our_credentials
from credentials.serializers import CredentialsSerializer
from ocpi.client import OcpiClient, OcpiClientError
from ocpi.enums import ModuleID
from ocpi.exceptions import InvalidParameters, MethodNotAllowed, OcpiError, validation_message
from ocpi.time import now
from ocpi.tokens import TOKEN_PATTERN, generate_token

logger = logging.getLogger(__name__)


class PartnerCallFailed(Exception):
    """A handshake step we started did not succeed; nothing was stored half-way."""


class InvitationExists(Exception):
    """An invitation for a name that has an open invitation or a registered partner already:
    issued again only when asked (`again`), as a second token A is rarely what was meant."""

    def __init__(self, name: str, namesakes: list[str]) -> None:
        self.namesakes = namesakes
        super().__init__(f"{name} already has: {'; '.join(namesakes)}")


# --- invitations ---------------------------------------------------------------------------


def invitation_create(
    *, name: str, created_by: User | None = None, again: bool = False
) -> tuple[Invitation, str]:
    """Issue a credentials token A for a prospective partner; return it with the invitation.

    It expires after OCPI_INVITATION_DAYS: a token A forgotten in a mailbox must not open our
    credentials module for good. Raises InvitationExists when the name has an open
    invitation or a registered partner, unless `again`.
    """
    if not again and (namesakes := invitation_namesakes(name)):
        raise InvitationExists(name, namesakes)
    token = generate_token()
    invitation = Invitation(
        name=name,
        created_by=created_by,
        expires_at=now() + timedelta(days=settings.OCPI_INVITATION_DAYS),
    )
    invitation.token_digest = crypto.token_digest(token)
    invitation.token_sealed = crypto.encrypt_token(token)
    invitation.save()
    logger.info("Invitation %s issued for %s", invitation.pk, name)
    return invitation, token


def invitation_revoke(*, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(
        revoked_at=now(), token_digest=None
    )


# --- shared steps --------------------------------------------------------------------------


def _store_endpoints(partner: PartnerPlatform, discovery: Discovery) -> None:
    partner.endpoints.all().delete()
    PartnerEndpoint.objects.bulk_create(
        PartnerEndpoint(partner=partner, identifier=e.identifier, role=e.role, url=e.url)
        for e in discovery.endpoints
    )


def _store_roles(partner: PartnerPlatform, roles: list[dict[str, Any]]) -> None:
    """Store the partner's roles with their parties' claims (credentials.claims): PartyTaken
    when another platform, or we, hold one of them; the caller's transaction rolls back."""
    claim_partner_parties(partner=partner, roles=roles)
    partner.roles.all().delete()
    PartnerRole.objects.bulk_create(
        PartnerRole(
            partner=partner,
            role=role["role"],
            country_code=role["country_code"],
            party_id=role["party_id"],
            business_details=role["business_details"],
        )
        for role in roles
    )


def _valid_credentials(data: Any) -> dict[str, Any]:
    serializer = CredentialsSerializer(data=data)
    if not serializer.is_valid():
        raise InvalidParameters(validation_message(serializer.errors))
    return dict(serializer.validated_data)


@dataclass(frozen=True)
class Accepted:
    partner: PartnerPlatform
    credentials: dict[str, Any]


# --- receiver side: the partner calls us ----------------------------------------------------


def accept_registration(*, invitation: Invitation, data: Any) -> Accepted:
    """POST credentials with token A: fetch their endpoints with token B, answer token C."""
    credentials = _valid_credentials(data)
    check_parties(credentials["roles"], partner=None)
    discovery = discover(credentials["url"], credentials["token"])
    token_c = generate_token()
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().open().filter(pk=invitation.pk).first()
        if locked is None:
            raise MethodNotAllowed("This token A has been used to register, or has expired")
        partner = PartnerPlatform(
            name=invitation.name,
            status=PartnerStatus.REGISTERED,
            versions_url=credentials["url"],
            version=discovery.version,
            plain_tokens=discovery.plain_tokens,
            registered_at=now(),
            last_contact_at=now(),
        )
        partner.set_incoming_token(token_c)
        partner.set_outgoing_token(credentials["token"])
        partner.save()
        _store_endpoints(partner, discovery)
        _store_roles(partner, credentials["roles"])
        locked.used_at = now()
        locked.partner = partner
        locked.token_digest = None  # token A stops working at once
        locked.save(update_fields=["used_at", "partner", "token_digest"])
        credentials_changed()
    logger.info("Partner %s (%s) registered with us", partner.pk, partner.name)
    return Accepted(partner, our_credentials(token_c))


def accept_update(*, partner: PartnerPlatform, data: Any) -> Accepted:
    """PUT credentials: refetch their endpoints with their new token, issue ours anew."""
    credentials = _valid_credentials(data)
    check_parties(credentials["roles"], partner=partner)
    discovery = discover(credentials["url"], credentials["token"])
    token = generate_token()
    with transaction.atomic():
        locked = PartnerPlatform.objects.select_for_update().get(pk=partner.pk)
        if not locked.is_registered:
            raise MethodNotAllowed("Not registered")
        locked.versions_url = credentials["url"]
        locked.version = discovery.version
        locked.plain_tokens = discovery.plain_tokens
        locked.set_incoming_token(token)
        locked.set_next_incoming_token(None)
        locked.set_outgoing_token(credentials["token"])
        locked.last_error, locked.last_error_at = "", None
        locked.save()
        _store_endpoints(locked, discovery)
        _store_roles(locked, credentials["roles"])
        credentials_changed()
    logger.info("Partner %s (%s) updated its credentials", partner.pk, partner.name)
    return Accepted(locked, our_credentials(token))


def _mark_unregistered(partner_id: int) -> PartnerPlatform:
    with transaction.atomic():
        partner = PartnerPlatform.objects.select_for_update().get(pk=partner_id)
        partner.status = PartnerStatus.UNREGISTERED
        partner.unregistered_at = now()
        partner.set_incoming_token(None)
        partner.set_next_incoming_token(None)
        partner.set_outgoing_token(None)
        partner.save()
        release_partner_parties(partner=partner)
        credentials_changed()
    return partner


def accept_unregistration(*, partner: PartnerPlatform) -> None:
    """DELETE credentials: both sides stop all traffic; their token stops working."""
    if not partner.is_registered:
        raise MethodNotAllowed("Not registered")
    _mark_unregistered(partner.pk)
    logger.info("Partner %s (%s) unregistered itself", partner.pk, partner.name)


# --- sender side: we call the partner -------------------------------------------------------


def _call_credentials(
    partner: PartnerPlatform, method: str, token: str, body: dict[str, Any] | None
) -> Any:
    url = partner.endpoint_url(ModuleID.CREDENTIALS.value, "SENDER")
    if url is None:
        raise PartnerCallFailed(f"{partner.name} has no credentials endpoint")
    client = OcpiClient(token, plain_token=partner.plain_tokens)
    try:
        reply = client.request(method, url, json=body)
    except OcpiClientError as exc:
        raise PartnerCallFailed(f"{method} {url} failed: {exc}") from exc
    if not reply.ok:
        raise PartnerCallFailed(
            f"{method} {url} answered HTTP {reply.http_status}, OCPI {reply.status_code}: "
            f"{reply.status_message or 'no message'}"
        )
    return reply.data


def _withdraw_registration(partner: PartnerPlatform, answer: Any) -> None:
    """Undo a POST the partner accepted but we refuse (credentials.asciidoc, DELETE).

    The partner already registered us and issued a token; unless told, it keeps a
    relationship with us (and calls us with a token B we have just dropped).
    """
    token = answer.get("token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        logger.warning("Partner %s sent no usable token: cannot withdraw", partner.name)
        return
    try:
        _call_credentials(partner, "DELETE", token, None)
    except PartnerCallFailed as exc:
        logger.warning("Partner %s not told of the withdrawn registration: %s", partner.name, exc)


def _forget(partner: PartnerPlatform) -> None:
    """Delete a partner whose registration failed half-way (and its endpoints, roles)."""
    with transaction.atomic():
        partner.delete()
        credentials_changed()


def _save_partner(partner: PartnerPlatform, *, fields: list[str] | None = None) -> None:
    """Save `partner` (only `fields` when given) outside a larger write."""
    with transaction.atomic():
        partner.save(update_fields=fields)
        credentials_changed()


def register_with_partner(*, versions_url: str, token_a: str, name: str) -> PartnerPlatform:
    """Register with a partner that gave us its token A and versions URL (we are the Sender)."""
    try:
        discovery = discover(versions_url, token_a)
    except OcpiError as exc:
        raise PartnerCallFailed(
            f"Reading the partner's versions and endpoints failed (OCPI {exc.status_code}): "
            f"{exc.message}"
        ) from exc
    token_b = generate_token()
    # The partner fetches our versions with token B before it answers our POST, so B must
    # already work: store the partner as PENDING first, outside any long transaction.
    with transaction.atomic():
        partner = PartnerPlatform(
            name=name,
            status=PartnerStatus.PENDING,
            versions_url=versions_url,
            version=discovery.version,
            plain_tokens=discovery.plain_tokens,
        )
        partner.set_incoming_token(token_b)
        partner.set_outgoing_token(token_a)
        partner.save()
        _store_endpoints(partner, discovery)
        credentials_changed()
    try:
        data = _call_credentials(partner, "POST", token_a, our_credentials(token_b))
    except PartnerCallFailed as exc:
        _forget(partner)
        raise PartnerCallFailed(f"Registration with {name} failed: {exc}") from exc
    try:
        credentials = _valid_credentials(data)
        check_parties(credentials["roles"], partner=partner)
    except OcpiError as exc:
        _withdraw_registration(partner, data)
        _forget(partner)
        raise PartnerCallFailed(f"Registration with {name} failed: {exc.message}") from exc
    try:
        with transaction.atomic():
            partner.status = PartnerStatus.REGISTERED
            partner.set_outgoing_token(credentials["token"])
            partner.registered_at = now()
            partner.last_contact_at = now()
            partner.save()
            _store_roles(partner, credentials["roles"])
            credentials_changed()
    except (IntegrityError, PartyTaken) as exc:
        _withdraw_registration(partner, data)
        _forget(partner)
        raise PartnerCallFailed(f"Registration with {name} failed: {exc}") from exc
    logger.info("Registered with partner %s (%s)", partner.pk, name)
    return partner


ROTATE = "rotate tokens (PUT credentials)"
REFRESH = "refresh versions and endpoints"


def rotate_credentials(*, partner: PartnerPlatform) -> PartnerPlatform:
    """Our PUT: give the partner a new token for us and receive a new token for them."""
    if not partner.is_registered:
        raise PartnerCallFailed(f"{partner.name} is not registered")
    new_token = generate_token()
    partner.set_next_incoming_token(new_token)
    _save_partner(partner, fields=["next_incoming_token_digest", "next_incoming_token_sealed"])
    try:
        data = _call_credentials(partner, "PUT", partner.outgoing_token, our_credentials(new_token))
        credentials = _valid_credentials(data)
    except (PartnerCallFailed, OcpiError) as exc:
        partner.set_next_incoming_token(None)
        _save_partner(partner, fields=["next_incoming_token_digest", "next_incoming_token_sealed"])
        problem = (
            str(exc)
            if isinstance(exc, PartnerCallFailed)
            else f"its answer is not valid credentials: {exc.message}"
        )
        partner_error_record(partner.pk, ROTATE, problem)
        raise PartnerCallFailed(f"Rotation with {partner.name} failed: {problem}") from exc
    # The partner has switched to the new tokens whatever we think of its roles: keep them,
    # and its former roles when the new ones name a party held by someone else.
    refused: PartyTaken | None = None
    with transaction.atomic():
        partner.set_incoming_token(new_token)
        partner.set_next_incoming_token(None)
        partner.set_outgoing_token(credentials["token"])
        partner.versions_url = credentials["url"]
        partner.last_error, partner.last_error_at = "", None
        partner.last_contact_at = now()
        try:
            with transaction.atomic():
                _store_roles(partner, credentials["roles"])
        except PartyTaken as exc:
            refused = exc
        partner.save()
        credentials_changed()
    if refused is not None:
        problem = f"Roles not changed: {refused.message}"
        partner_error_record(partner.pk, ROTATE, problem)
        raise PartnerCallFailed(f"Rotation with {partner.name}: {problem}") from refused
    logger.info("Rotated credentials with partner %s (%s)", partner.pk, partner.name)
    return partner


def refresh_endpoints(*, partner: PartnerPlatform) -> PartnerPlatform:
    """Refetch the partner's versions and endpoints with our token (liveness and changes)."""
    if not partner.is_registered:
        # An unregistered partner has no token left to call it with (credentials DELETE).
        raise PartnerCallFailed(f"{partner.name} is not registered")
    try:
        discovery = discover(
            partner.versions_url, partner.outgoing_token, plain_tokens=partner.plain_tokens
        )
    except OcpiError as exc:
        partner_error_record(partner.pk, REFRESH, exc.message)
        raise PartnerCallFailed(f"Refreshing {partner.name} failed: {exc.message}") from exc
    with transaction.atomic():
        partner.version = discovery.version
        partner.last_error, partner.last_error_at = "", None
        partner.last_contact_at = now()
        partner.save(
            update_fields=[
                "version",
                "last_error",
                "last_error_at",
                "last_contact_at",
                "updated_at",
            ]
        )
        _store_endpoints(partner, discovery)
        credentials_changed()
    return partner


def unregister_partner(*, partner: PartnerPlatform) -> str | None:
    """Our DELETE: tell the partner, then stop all traffic whatever it answered.

    Return None when the partner confirmed, else why it could not be told.
    """
    if not partner.is_registered:
        raise PartnerCallFailed(f"{partner.name} is not registered")
    problem: str | None = None
    try:
        _call_credentials(partner, "DELETE", partner.outgoing_token, None)
    except PartnerCallFailed as exc:
        problem = str(exc)
        logger.warning("Partner %s not told of unregistration: %s", partner.pk, problem)
    _mark_unregistered(partner.pk)
    logger.info("Unregistered partner %s (%s)", partner.pk, partner.name)
    return problem
