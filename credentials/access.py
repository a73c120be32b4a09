"""Who may see and change what: the one home of the rules by caller role.

A caller is a registered partner platform; the party it speaks for is the one named by
`OCPI-from-*` (transport_and_format, Message Routing), or, without routing headers, every
party of the platform. Each party belongs to one platform (credentials.claims). Our own
parties are named by `OCPI-to-*`, or all of them without headers (credentials.routing).

| endpoint or push                        | caller roles    | objects                             |
|-----------------------------------------|-----------------|-------------------------------------|
| GET versions, version details           | any token A/B/C | ours, the same for all              |
| credentials GET/POST/PUT/DELETE         | the platform    | its relationship; its roles only    |
|                                         |                 | parties no one else holds (claims)  |
| GET locations (list, one, EVSE, conn.)  | every role      | our parties' roaming locations      |
| GET tariffs                             | every role      | our parties' tariffs                |
| GET/PUT/PATCH tokens/{cc}/{pid}/{uid}   | EMSP cc/pid     | its tokens; else HTTP 404 (2000)    |
| GET sessions                            | EMSP            | sessions of its tokens              |
| PUT sessions/{id}/charging_preferences  | EMSP            | its tokens' sessions; else 404/2000 |
| GET cdrs                                | EMSP            | CDRs of its tokens                  |
| push locations, tariffs (PUT, PATCH)    | EMSP, NSP       | every change of the catalogue       |
| push sessions (PUT, PATCH), cdrs (POST) | EMSP            | those of its tokens only            |

Pushes go to the roles named, on registered partners with a Receiver endpoint for the module.
An NSP, OTHER, HUB, SCSP or CPO role of the party owning a token sees none of that token's
sessions or CDRs and is pushed none (mod_sessions and mod_cdrs: the eMSP that owns the
token; mod_cdrs, Pull model: "only the CDRs that are relevant for the requesting eMSP").
A caller outside the table's roles gets an empty list, or HTTP 404 for one object, so it
learns nothing of what others have (transport_and_format, access blocking).
Locations and tariffs are the CPO's catalogue: every registered partner may pull them
(mod_locations and mod_tariffs, Sender interface). `publish` and `publish_allowed_to` go
with the location for the eMSP to honour (mod_locations, Location: they name drivers, not
platforms); a location the operator keeps off roaming (`roaming` false) goes to no one.
"""

from collections.abc import Iterable

from credentials.models import PartnerRole
from ocpi.enums import Role
from ocpi.routing import PartyRef

# Roles that own tokens, and so the sessions and CDRs of those tokens.
TOKEN_OWNER_ROLES = (Role.EMSP,)
# Roles that receive the CPO's catalogue by push (locations, tariffs).
CATALOGUE_ROLES = (Role.EMSP, Role.NSP)


def token_owner_parties(roles: Iterable[PartnerRole], sender: PartnerRole | None) -> list[PartyRef]:
    """The parties whose tokens, sessions and CDRs a caller with `roles` may see and change:
    the party it speaks for (`sender`) when it holds it as an eMSP, else (no routing
    headers) every eMSP party of the platform. In the roles' order, each party once."""
    speaking = (
        roles if sender is None else [role for role in roles if _party(role) == _party(sender)]
    )
    return list(dict.fromkeys(_party(role) for role in speaking if role.role in TOKEN_OWNER_ROLES))


def _party(role: PartnerRole) -> PartyRef:
    return PartyRef.of(role.country_code, role.party_id)
