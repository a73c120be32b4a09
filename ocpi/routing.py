"""Message routing headers (transport_and_format.asciidoc, Message Routing).

`OCPI-from-*` names the requesting party, `OCPI-to-*` the receiving one. They belong on
functional modules only; configuration modules (versions, credentials, hubclientinfo) are
platform-to-platform and SHALL NOT carry them.
"""

import re
from dataclasses import dataclass
from typing import Self

from django.http import HttpRequest

from ocpi.exceptions import InvalidParameters

FROM_COUNTRY = "OCPI-from-country-code"
FROM_PARTY = "OCPI-from-party-id"
TO_COUNTRY = "OCPI-to-country-code"
TO_PARTY = "OCPI-to-party-id"
HEADERS = (FROM_COUNTRY, FROM_PARTY, TO_COUNTRY, TO_PARTY)

_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_PARTY = re.compile(r"^[A-Za-z0-9]{3}$")


@dataclass(frozen=True)
class PartyRef:
    """A party by (country_code, party_id), normalised to upper case (they are CiStrings)."""

    country_code: str
    party_id: str

    @classmethod
    def of(cls, country_code: str, party_id: str) -> Self:
        return cls(country_code.upper(), party_id.upper())

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id}"


@dataclass(frozen=True)
class RoutingHeaders:
    from_party: PartyRef
    to_party: PartyRef

    def as_headers(self) -> dict[str, str]:
        return {
            FROM_COUNTRY: self.from_party.country_code,
            FROM_PARTY: self.from_party.party_id,
            TO_COUNTRY: self.to_party.country_code,
            TO_PARTY: self.to_party.party_id,
        }

    def reply(self) -> Self:
        """The headers of the response: the parties swap places."""
        return type(self)(from_party=self.to_party, to_party=self.from_party)


def present_routing_headers(request: HttpRequest) -> list[str]:
    return [name for name in HEADERS if name in request.headers]


def parse_routing_headers(request: HttpRequest) -> RoutingHeaders | None:
    """Read the four headers; None when none is sent; InvalidParameters when malformed.

    A partial set is refused: a FROM without a TO (or the reverse) cannot be routed.
    """
    present = present_routing_headers(request)
    if not present:
        return None
    missing = [name for name in HEADERS if name not in present]
    if missing:
        raise InvalidParameters(f"Routing headers incomplete, missing: {', '.join(missing)}")
    values = {name: request.headers[name].strip() for name in HEADERS}
    for name in (FROM_COUNTRY, TO_COUNTRY):
        if not _COUNTRY.match(values[name]):
            raise InvalidParameters(f"{name} must be a CiString(2) country code")
    for name in (FROM_PARTY, TO_PARTY):
        if not _PARTY.match(values[name]):
            raise InvalidParameters(f"{name} must be a CiString(3) party id")
    return RoutingHeaders(
        from_party=PartyRef.of(values[FROM_COUNTRY], values[FROM_PARTY]),
        to_party=PartyRef.of(values[TO_COUNTRY], values[TO_PARTY]),
    )


def refuse_routing_headers(request: HttpRequest, module: str) -> None:
    """Configuration modules: routing headers SHALL NOT be used (answer 2001)."""
    present = present_routing_headers(request)
    if present:
        raise InvalidParameters(
            f"Routing headers must not be used on the {module} module: {', '.join(present)}"
        )
