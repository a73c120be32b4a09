"""A charge point's credentials as the gateway checks them.

The gateway helper's version of this module replaces this one at merge; this branch needs
only set_password, with the same contract: the raw password is never stored, only its hash.
"""

from django.contrib.auth.hashers import make_password

from chargers.models import ChargePoint


def set_password(charge_point: ChargePoint, raw: str) -> None:
    """Store the hash of `raw` as the charge point's HTTP Basic auth password (security
    profiles 1 and 2); the raw password is shown to the operator once and never kept."""
    charge_point.password_hash = make_password(raw)
    charge_point.save(update_fields=["password_hash"])
