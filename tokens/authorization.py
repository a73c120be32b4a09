"""What a real-time or cached authorization decides, for the charge point side to act on.

`tokens.services.authorize()` returns an AuthorizationDecision; the session and CDR take
its `authorization_reference` and `token` (mod_tokens, AuthorizationInfo object).
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ocpi.routing import PartyRef
from tokens.models import Token


@dataclass(frozen=True)
class LocationReferences:
    """Where the driver wants to charge (mod_tokens, LocationReferences class)."""

    location_id: str
    evse_uids: tuple[str, ...] = ()

    def as_ocpi(self) -> dict[str, Any]:
        data: dict[str, Any] = {"location_id": self.location_id}
        if self.evse_uids:
            data["evse_uids"] = list(self.evse_uids)
        return data

    @classmethod
    def from_ocpi(cls, data: dict[str, Any]) -> "LocationReferences":
        """From LocationReferencesSerializer validated data."""
        return cls(data["location_id"], tuple(data.get("evse_uids") or ()))


class Source(StrEnum):
    """Where the decision came from."""

    CACHE = "CACHE"  # the cached token's whitelist allowed deciding without the eMSP
    REALTIME = "REALTIME"  # the eMSP answered the POST authorize
    OFFLINE = "OFFLINE"  # the eMSP gave no usable answer; decided by the whitelist fallback
    NONE = "NONE"  # nobody could be asked (unknown token of an unknown or unconnected eMSP)
    # The eMSP authorized it in a command (mod_commands, StartSession and ReserveNow: not
    # asked again).
    COMMAND = "COMMAND"


class Result(StrEnum):
    """The AllowedType values, and why we refused when the eMSP gave none."""

    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"
    UNKNOWN_TOKEN = "UNKNOWN_TOKEN"  # noqa: S105 (HTTP 404 / OCPI 2004, or not in the cache)
    NOT_ENOUGH_INFORMATION = "NOT_ENOUGH_INFORMATION"  # OCPI 2002
    NO_ANSWER = "NO_ANSWER"  # unreachable, timed out, 5xx, 3xxx/4xxx, unusable answer
    REJECTED = "REJECTED"  # the eMSP refused our request itself (another 2xxx)


@dataclass(frozen=True)
class AuthorizationDecision:
    """The answer for the driver at the charge point.

    `allowed` is final: it already accounts for the whitelist rules, the offline fallback
    and the EVSEs the eMSP allowed. `evse_uids` is the eMSP's restriction (None: any EVSE of
    the location). `token` is the cached token, refreshed from the eMSP's answer when it
    sent a valid one; `authorization_reference` goes into the Session and the CDR.
    """

    allowed: bool
    result: Result
    source: Source
    reason: str
    party: PartyRef | None = None
    token: Token | None = None
    authorization_reference: str | None = None
    location: LocationReferences | None = None
    info: dict[str, Any] | None = None
    duration: float | None = field(default=None, compare=False)  # of the eMSP call, seconds

    @property
    def evse_uids(self) -> tuple[str, ...] | None:
        if self.location is None or not self.location.evse_uids:
            return None
        return self.location.evse_uids

    def allows_evse(self, evse_uid: str) -> bool:
        """Whether the driver may charge at this EVSE (CiString: case-insensitive)."""
        if not self.allowed:
            return False
        restriction = self.evse_uids
        return restriction is None or evse_uid.upper() in {uid.upper() for uid in restriction}
