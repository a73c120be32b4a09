"""Routing of functional-module requests between parties (transport_and_format, Message Routing).

A platform connects platforms, but requests address parties. For a functional module the
`OCPI-from-*` party must be one of the caller's CredentialsRoles and the `OCPI-to-*` party one
of ours; the answer carries the headers the other way round. Without headers (peer-to-peer
between single-party platforms) the parties are inferred when that is unambiguous.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credentials.access import token_owner_parties
from credentials.authentication import OcpiPrincipal
from credentials.models import LocalParty, PartnerPlatform, PartnerRole
from credentials.receiving import stale_update_received
from credentials.selectors import find_local_party, find_partner_role
from ocpi.exceptions import InvalidParameters, OcpiError
from ocpi.permissions import IsRegisteredPartner
from ocpi.receiving import StaleUpdate
from ocpi.routing import PartyRef, RoutingHeaders, parse_routing_headers
from ocpi.status import OcpiStatus


class UnknownReceiver(OcpiError):
    status_code = OcpiStatus.UNKNOWN_RECEIVER
    default_message = "Unknown receiver"


@dataclass(frozen=True)
class Route:
    """Who is talking to whom in one functional-module request."""

    partner: PartnerPlatform
    sender: PartnerRole | None  # the requesting party, when known
    receiver: LocalParty | None  # our party addressed, when known
    ours: tuple[LocalParty, ...] = ()  # all our active parties, as read for this request
    roles: tuple[PartnerRole, ...] = ()  # all the caller's roles, as read for this request

    def receivers(self) -> list[LocalParty]:
        """The party addressed, or all of ours when the request names none."""
        return [self.receiver] if self.receiver is not None else list(self.ours)

    def receiver_parties(self) -> list[PartyRef]:
        """receivers() as parties: the owners whose objects the request may see."""
        return [PartyRef.of(party.country_code, party.party_id) for party in self.receivers()]

    def emsp_parties(self) -> list[PartyRef]:
        """The eMSP parties whose tokens, sessions and CDRs the caller may see and change
        (credentials.access: as EMSP role only)."""
        return token_owner_parties(self.roles, self.sender)

    def reply_headers(self) -> dict[str, str]:
        if self.sender is None or self.receiver is None:
            return {}
        return RoutingHeaders(
            from_party=PartyRef.of(self.receiver.country_code, self.receiver.party_id),
            to_party=PartyRef.of(self.sender.country_code, self.sender.party_id),
        ).as_headers()


def resolve_route(
    request: Request,
    partner: PartnerPlatform,
    roles: Sequence[PartnerRole],
    parties: Sequence[LocalParty],
) -> Route:
    """The parties of a request by `partner`, whose CredentialsRoles are `roles`, to us,
    whose active parties are `parties`."""
    headers = parse_routing_headers(request)
    ours, caller_roles = tuple(parties), tuple(roles)
    if headers is None:
        return Route(
            partner=partner,
            sender=roles[0] if len(roles) == 1 else None,
            receiver=ours[0] if len(ours) == 1 else None,
            ours=ours,
            roles=caller_roles,
        )
    sender = find_partner_role(roles, headers.from_party)
    if sender is None:
        raise InvalidParameters(
            f"OCPI-from party {headers.from_party} is not one of the caller's roles"
        )
    receiver = find_local_party(ours, headers.to_party)
    if receiver is None:
        raise UnknownReceiver(f"OCPI-to party {headers.to_party} is not a party of this platform")
    return Route(partner=partner, sender=sender, receiver=receiver, ours=ours, roles=caller_roles)


class FunctionalModuleApi(APIView):
    """Base for every functional module's views: registered partners only, routing checked."""

    permission_classes = [IsRegisteredPartner]
    route: Route

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Guaranteed by OcpiTokenAuthentication and IsRegisteredPartner.
        principal = request.user
        assert isinstance(principal, OcpiPrincipal)
        assert isinstance(principal.caller, PartnerPlatform)
        self.route = resolve_route(request, principal.caller, principal.roles, principal.parties)

    def handle_exception(self, exc: Exception) -> Response:
        # Every Receiver interface, present or future: a PUT/PATCH older than what we hold
        # is answered as not applied and counted for the partner (ocpi.receiving).
        if isinstance(exc, StaleUpdate):
            return stale_update_received(partner=self.route.partner, update=exc)
        return super().handle_exception(exc)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        route = getattr(self, "route", None)
        if route is not None:
            for name, value in route.reply_headers().items():
                response[name] = value
        return response
