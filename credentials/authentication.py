"""Resolve `Authorization: Token …` to the calling platform (transport_and_format, Authorization).

The caller is a registered (or mid-handshake) partner platform, or an open invitation's
token A. Unknown or missing tokens are HTTP 401. Which token may open which module is the
permissions' business (ocpi/permissions.py).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from credentials.crypto import token_digest
from credentials.models import Invitation, LocalParty, PartnerPlatform, PartnerRole
from credentials.selectors import caller_by_token_digest
from ocpi.time import now
from ocpi.tokens import token_candidates

# Recording every request's time would turn each read into a write; once a minute is enough
# for the operator's "last contact" column.
LAST_CONTACT_RESOLUTION = timedelta(minutes=1)
# The last contact this process wrote, by partner primary key.
_contacts: dict[int, datetime] = {}


@dataclass(frozen=True)
class OcpiPrincipal:
    """request.user for OCPI calls: a platform, never a Django user.

    `roles` (a partner's CredentialsRoles) and `parties` (ours) are what routing needs on
    every functional-module request, read with the partner; none for an invitation.
    """

    caller: PartnerPlatform | Invitation
    roles: tuple[PartnerRole, ...] = ()
    parties: tuple[LocalParty, ...] = ()
    is_authenticated: bool = True
    is_anonymous: bool = False


def find_principal(header: str | None) -> OcpiPrincipal | None:
    for token in token_candidates(header):
        digest = token_digest(token)
        found = caller_by_token_digest(digest)
        if found is not None:
            return OcpiPrincipal(found.partner, tuple(found.roles), tuple(found.parties))
        # Token A: only while registering, so off the hot path.
        invitation = Invitation.objects.open().filter(token_digest=digest).first()
        if invitation is not None:
            return OcpiPrincipal(invitation)
    return None


def touch_last_contact(partner: PartnerPlatform) -> None:
    """Record that the partner called, at most once a LAST_CONTACT_RESOLUTION per process.

    Bookkeeping for the operator: it does not move the credentials generation
    (credentials.generation), so the partner may come from the callers cache, read before
    its last contact was written; what this process wrote last counts as well.
    """
    moment = now()
    known = [t for t in (partner.last_contact_at, _contacts.get(partner.pk)) if t is not None]
    if known and moment - max(known) <= LAST_CONTACT_RESOLUTION:
        return
    PartnerPlatform.objects.filter(pk=partner.pk).update(last_contact_at=moment)
    _contacts[partner.pk] = moment
    partner.last_contact_at = moment


class OcpiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = request.headers.get("Authorization")
        if not header:
            return None  # DRF answers NotAuthenticated: HTTP 401.
        principal = find_principal(header)
        if principal is None:
            # Never echo or log the token itself.
            raise AuthenticationFailed("Unknown or malformed credentials token.")
        if isinstance(principal.caller, PartnerPlatform):
            touch_last_contact(principal.caller)
        return principal, principal.caller

    def authenticate_header(self, request: Request) -> str:
        return "Token"
