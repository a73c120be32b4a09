"""Which gateway holds each charge point's websocket, and charge point passwords.

Every gateway process writes here, so a charge point that connects to two of them is held by
one: `connected` counts its connections in one UPDATE (ChargePoint.connection) and the latest
number wins. The gateway holding an older number closes its websocket when it sees a newer one
(`superseded`, polled), and its `disconnected` then changes nothing: only the holder of the
current number marks a charge point disconnected.
"""

import os
import socket
from collections.abc import Mapping

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from chargers.models import ChargePoint, RegistrationStatus
from ocpi.querysets import update_returning

# Rows per query of `superseded`: well under SQLite's and PostgreSQL's parameter limits.
SUPERSEDED_CHUNK = 500


def default_gateway_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def connected(charge_point: ChargePoint, *, gateway: str, version: str, remote_address: str) -> int:
    """Record that `gateway` now holds `charge_point`'s websocket; return its connection number.

    The number is incremented in the same UPDATE that names the gateway, so two gateways
    connecting it at once get different numbers, and the row names the one with the higher.
    """
    now = timezone.now()
    # The number as this UPDATE wrote it (RETURNING): one statement, no transaction around it.
    written = update_returning(
        ChargePoint.objects.filter(pk=charge_point.pk),
        {
            "connection": F("connection") + 1,
            "gateway": gateway,
            "connected_version": version,
            "connected_at": now,
            "remote_address": remote_address[:100],
        },
        ["connection"],
    )
    if not written:
        raise ChargePoint.DoesNotExist(f"Charge point {charge_point.pk} is gone")
    number: int = written[0][0]
    charge_point.connection = number
    charge_point.gateway = gateway
    charge_point.connected_version = version
    charge_point.connected_at = now
    charge_point.remote_address = remote_address[:100]
    return number


def disconnected(charge_point: ChargePoint, connection: int) -> bool:
    """Mark `charge_point` disconnected if `connection` is still its current connection; return
    whether it was (False: a newer connection replaced it, and the row stays as that one wrote)."""
    now = timezone.now()
    cleared = ChargePoint.objects.filter(pk=charge_point.pk, connection=connection).update(
        gateway="", disconnected_at=now
    )
    if cleared:
        charge_point.gateway = ""
        charge_point.disconnected_at = now
    return bool(cleared)


def superseded(gateway: str, held: Mapping[int, int]) -> list[int]:
    """Of the charge points `gateway` holds ({pk: its connection number}), those with a newer
    connection (at another gateway, or since closed there): their websockets here are stale.

    A row that names another gateway with a lower or equal number was read before this
    gateway's own `connected` committed: not stale.
    """
    return check_held(gateway, held)[0]


def check_held(gateway: str, held: Mapping[int, int]) -> tuple[list[int], list[int]]:
    """Of the charge points `gateway` holds ({pk: its connection number}): those superseded
    (above), and those whose row is gone (deleted while connected).

    A gateway asks every few seconds about every connection it holds, and nearly every row
    names it, as it should: one query for the pks of those (the `gateway` index), not a read
    of every row held, leaves only the others to read, one query per SUPERSEDED_CHUNK (few:
    those superseded or gone, and in a storm the newcomers whose `connected` is not
    committed yet)."""
    ours = set(ChargePoint.objects.filter(gateway=gateway).values_list("pk", flat=True))
    others = [pk for pk in held if pk not in ours]
    stale: list[int] = []
    gone: list[int] = []
    for start in range(0, len(others), SUPERSEDED_CHUNK):
        chunk = others[start : start + SUPERSEDED_CHUNK]
        rows = ChargePoint.objects.filter(pk__in=chunk).values_list("pk", "gateway", "connection")
        found = set()
        for pk, holder, number in rows:
            found.add(pk)
            if holder != gateway and number > held[pk]:
                stale.append(pk)
        gone.extend(pk for pk in chunk if pk not in found)
    return stale, gone


def clear_gateway(gateway: str) -> int:
    """Mark every charge point `gateway` holds disconnected (it starts, or stops): return how
    many. A gateway named hostname:pid (the default) also clears the rows of dead processes of
    the same host, since its successor never has the same name."""
    now = timezone.now()
    names = [gateway, *_dead_gateways_of_this_host(gateway)]
    return ChargePoint.objects.filter(gateway__in=names).update(gateway="", disconnected_at=now)


def _dead_gateways_of_this_host(gateway: str) -> list[str]:
    if gateway != default_gateway_id():
        return []
    prefix = f"{socket.gethostname()}:"
    names = (
        ChargePoint.objects.filter(gateway__startswith=prefix)
        .order_by()
        .values_list("gateway", flat=True)
        .distinct()
    )
    return [name for name in names if _is_dead(name.removeprefix(prefix))]


def _is_dead(pid: str) -> bool:
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def admit_unknown(identity: str, version: str) -> ChargePoint:
    """The charge point `identity`, created Pending if it doesn't exist (OCPP_ADMIT_UNKNOWN):
    an operator accepts it, gives it a password and maps its EVSEs."""
    try:
        with transaction.atomic():
            charge_point, _ = ChargePoint.objects.get_or_create(
                identity=identity,
                defaults={
                    "ocpp_version": version,
                    "registration_status": RegistrationStatus.PENDING,
                },
            )
    except IntegrityError:  # created by another gateway in between
        charge_point = ChargePoint.objects.get(identity=identity)
    return charge_point


def set_password(charge_point: ChargePoint, raw: str) -> None:
    """Store the hash of `raw` as the charge point's password (HTTP Basic auth, security
    profiles 1 and 2); saved at once if the row exists.

    PBKDF2 with OCPP_PASSWORD_ITERATIONS rather than Django's default hasher: a password is
    checked at every connection, and Django's 1,000,000 iterations cost about 250 ms of CPU,
    41 minutes for a reconnect storm of 10,000 charge points. Charge point passwords are random
    machine secrets (charger_add makes them), which no number of iterations protects better.
    The iterations are stored in the hash, so password_matches() verifies it whatever the
    setting is later.
    """
    if not raw:
        raise ValueError("A charge point password cannot be empty")
    hasher = PBKDF2PasswordHasher()
    charge_point.password_hash = hasher.encode(
        raw, hasher.salt(), iterations=settings.OCPP_PASSWORD_ITERATIONS
    )
    if charge_point.pk is not None:
        ChargePoint.objects.filter(pk=charge_point.pk).update(
            password_hash=charge_point.password_hash
        )


def password_matches(password_hash: str, raw: str) -> bool:
    """Whether `raw` is the password of this (charge point's) hash. By the PBKDF2 hasher
    set_password() used,
    not by Django's PASSWORD_HASHERS: those are the admin users' policy (an operator who lists
    only Argon2 there must not lock every charge point out)."""
    if not password_hash:
        return False
    return PBKDF2PasswordHasher().verify(raw, password_hash)
