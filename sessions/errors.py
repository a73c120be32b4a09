"""Why a session change cannot be made: raised by the session services, caught by callers
(the admin's actions, the Sender's charging preferences) that tell the reason on."""


class SessionError(ValueError):
    """A session change that cannot be made; the message says why."""


class IllegalTransition(SessionError):
    """A status change the lifecycle does not have (finished sessions never change)."""


class NotAtRoamingLocation(SessionError):
    """Sessions are only for connectors at roaming locations of our own CPO parties."""


class InvalidPeriods(SessionError):
    """Charging periods that do not continue the session's time line."""


class NotCapable(SessionError):
    """Charging preferences for an EVSE without CHARGING_PREFERENCES_CAPABLE."""


class NotAuthorized(SessionError):
    """The authorization decision does not let the driver charge at this EVSE."""
