"""Provisioning our charge points: the ChargePoint, its password and its EVSEs in OCPP id order.

The one way a charge point comes into being: `manage.py charger_add`, the admin's add page and
`simulate_chargers` all call charge_point_provision(). Everything is checked first and every
problem reported at once (an unknown or ambiguous EVSE, an EVSE of another charge point, an
identity taken or not allowed, a password too short); then one transaction stores it all, so a
refusal stores nothing. The raw password leaves here once, for the operator to hand over; only
its hash is kept (chargers.connections.set_password).
"""

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from chargers.connections import set_password
from chargers.models import ChargePoint, ChargePointEvse, OcppVersion, SecurityProfile
from locations.models import EVSE, Status

# OCPP 2.0.1 Part 4 §3.1: the identity is an identifierString (Part 2: a-z A-Z 0-9 * - _ = : +
# | @ .) of at most 48 characters, here without ':', which ends the user-id of HTTP Basic auth
# (RFC 7617), the identity in security profiles 1 and 2. OCPP 1.6 has no rule of its own.
IDENTITY_MAX_LENGTH = 48
_IDENTITY = re.compile(r"[A-Za-z0-9*\-_=+|@.]+")
IDENTITY_RULE = "1 to 48 of the characters a-z A-Z 0-9 * - _ = + | @ ."

# OCPP 1.6 security whitepaper (AuthorizationKey) and 2.0.1 BasicAuthPassword (passwordString):
# 16 to 40 characters. We also keep to printable ASCII without spaces, so a password can be
# typed into any charge point's configuration page as shown.
PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH = 16, 40
_PASSWORD = re.compile(r"[!-~]+")
# 24 random bytes: 32 URL-safe characters, within the 16-40 of the whitepaper.
_PASSWORD_BYTES = 24

# An EVSE given as LOCATION_ID/EVSE_UID (EVSE uids are unique per location only).
REF_SEPARATOR = "/"


@dataclass(frozen=True)
class Provisioned:
    charge_point: ChargePoint
    evses: list[EVSE]  # in OCPP id order: evses[n - 1] is OCPP EVSE / connector id n
    password: str | None  # the raw password, to show once; None: client certificate only
    url: str


def identity_problem(identity: str) -> str | None:
    if not identity or len(identity) > IDENTITY_MAX_LENGTH or not _IDENTITY.fullmatch(identity):
        return f"Identity {identity!r} is not allowed: {IDENTITY_RULE} (OCPP identity)."
    return None


def password_problem(password: str) -> str | None:
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        return (
            f"The password must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters "
            f"long (it has {len(password)})."
        )
    if not _PASSWORD.fullmatch(password):
        return "The password may hold printable ASCII characters only, no spaces."
    return None


def new_password() -> str:
    return secrets.token_urlsafe(_PASSWORD_BYTES)


def charge_point_url(identity: str, base: str | None = None) -> str:
    """The websocket URL the charge point connects to: OCPP_BASE_URL/ocpp/<identity>, the
    identity percent-encoded (OCPP-J 1.6 §3.1, 2.0.1 Part 4 §3.1)."""
    root = (base if base is not None else settings.OCPP_BASE_URL).rstrip("/")
    return f"{root}/ocpp/{quote(identity, safe='')}"


def evse_ref(evse: EVSE) -> str:
    """How the operator names an EVSE unambiguously: LOCATION_ID/EVSE_UID."""
    return f"{evse.location.ocpi_id}{REF_SEPARATOR}{evse.uid}"


def mapping_problem(evse: EVSE, charge_point_id: int | None = None) -> str | None:
    """Why `evse` cannot be an EVSE of charge point `charge_point_id` (None: of a new one),
    if it cannot."""
    link = ChargePointEvse.objects.filter(evse=evse).select_related("charge_point").first()
    if evse.status == Status.REMOVED:
        return f"EVSE {evse_ref(evse)} is REMOVED."
    if link is not None and link.charge_point_id != charge_point_id:
        return (
            f"EVSE {evse_ref(evse)} is already mapped to charge point "
            f"{link.charge_point.identity} (OCPP id {link.ocpp_evse_id})."
        )
    return None


def _find_evse(ref: str) -> tuple[EVSE | None, str | None]:
    """The EVSE `ref` names (EVSE_UID or LOCATION_ID/EVSE_UID), or why there is none."""
    location_id, _, uid = ref.rpartition(REF_SEPARATOR)
    evses = EVSE.objects.filter(uid__ci=uid).select_related("location")
    if location_id:
        evses = evses.filter(location__ocpi_id__ci=location_id)
    found = list(evses.order_by("pk")[:20])
    if not found:
        where = f" at location {location_id}" if location_id else ""
        return None, f"No EVSE with uid {uid}{where}."
    if len(found) == 1:
        return found[0], None
    if location_id:
        parties = ", ".join(f"{e.location.country_code}*{e.location.party_id}" for e in found)
        return None, f"EVSE {ref} is ambiguous: location {location_id} of {parties}."
    candidates = ", ".join(evse_ref(evse) for evse in found)
    return None, (
        f"EVSE uid {uid} is at several locations ({candidates}): give LOCATION_ID/EVSE_UID."
    )


def resolve_evses(refs: Sequence[str]) -> tuple[list[EVSE], list[str]]:
    """The EVSEs `refs` name, in their order, and every problem with mapping them to a new
    charge point."""
    evses: list[EVSE] = []
    problems: list[str] = []
    if not refs:
        problems.append("Give at least one EVSE.")
    for ref in refs:
        evse, problem = _find_evse(ref.strip())
        if evse is None:
            problems.append(problem or f"No EVSE {ref}.")
            continue
        if any(other.pk == evse.pk for other in evses):
            problems.append(f"EVSE {evse_ref(evse)} is given twice.")
            continue
        problem = mapping_problem(evse)
        if problem:
            problems.append(problem)
        evses.append(evse)
    return evses, problems


def _problems(
    identity: str,
    refs: Sequence[str],
    ocpp_version: str,
    security_profile: int,
    password: str | None,
) -> tuple[list[EVSE], list[str]]:
    problems = [p for p in [identity_problem(identity)] if p]
    taken = ChargePoint.objects.filter(identity__iexact=identity).first()
    if taken is not None:
        problems.append(f"Identity {identity} is taken by charge point {taken.identity}.")
    if ocpp_version not in OcppVersion.values:
        problems.append(f"OCPP version {ocpp_version} is not one of {', '.join(OcppVersion)}.")
    if security_profile not in SecurityProfile.values:
        problems.append(f"Security profile {security_profile} is not one of 1, 2, 3.")
    if password is not None:
        problems.extend(p for p in [password_problem(password)] if p)
    evses, evse_problems = resolve_evses(refs)
    return evses, problems + evse_problems


def charge_point_provision(
    *,
    identity: str,
    evse_refs: Sequence[str],
    ocpp_version: str = OcppVersion.V16,
    security_profile: int = SecurityProfile.BASIC,
    password: str | None = None,
) -> Provisioned:
    """A new charge point on existing EVSEs: OCPP EVSE / connector id n is the n-th of
    `evse_refs`. Without `password`, one is made, except for security profile 3 (a client
    certificate proves who it is). Raises ValidationError with every problem; stores nothing
    then."""
    evses, problems = _problems(identity, evse_refs, ocpp_version, security_profile, password)
    if problems:
        raise ValidationError(problems)
    if password is None and security_profile != SecurityProfile.TLS_CLIENT_CERTIFICATE:
        password = new_password()
    try:
        with transaction.atomic():
            charge_point = ChargePoint.objects.create(
                identity=identity, ocpp_version=ocpp_version, security_profile=security_profile
            )
            ChargePointEvse.objects.bulk_create(
                ChargePointEvse(charge_point=charge_point, ocpp_evse_id=n, evse=evse)
                for n, evse in enumerate(evses, start=1)
            )
            if password is not None:
                set_password(charge_point, password)
    except IntegrityError as exc:
        # Another provisioning took the identity or an EVSE after our checks: say which.
        _, problems = _problems(identity, evse_refs, ocpp_version, security_profile, password)
        raise ValidationError(problems or "The charge point could not be stored.") from exc
    return Provisioned(charge_point, evses, password, charge_point_url(identity))


def charge_point_set_password(*, charge_point: ChargePoint, password: str | None = None) -> str:
    """Give the charge point a new password (made, when not given); the raw one is returned
    to be shown once. The old one stops working at the charge point's next connection."""
    if password is None:
        password = new_password()
    problem = password_problem(password)
    if problem:
        raise ValidationError(problem)
    set_password(charge_point, password)
    return password


def charge_point_set_version(*, charge_point: ChargePoint, ocpp_version: str) -> None:
    """Provision the charge point for another OCPP version (its firmware was changed)."""
    if ocpp_version not in OcppVersion.values:
        raise ValidationError(
            f"OCPP version {ocpp_version} is not one of {', '.join(OcppVersion)}."
        )
    charge_point.ocpp_version = ocpp_version
    charge_point.save(update_fields=["ocpp_version"])
