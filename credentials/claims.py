"""One owner per party: the claims behind every role (credentials.models.PartyClaim).

A party (country_code, party_id) belongs to at most one partner platform, whatever its
roles, and never to a partner when it is one of ours. `check_parties` refuses a taken party
early (before any call to the partner); the claim written by `claim_partner_parties` in the
transaction that stores the roles is what decides a race: of two registrations, updates or
rotations naming the same party at the same moment, the database lets one claim it and the
other gets `PartyTaken`.

The spec names no status code for a party taken by someone else (credentials.asciidoc has
3001 for a client we cannot reach, 3003 for missing endpoints): it is a parameter of the
request we refuse, so 2001 (status_codes.asciidoc, "Invalid or missing parameters").
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from credentials.models import LocalParty, PartnerPlatform, PartnerRole, PartnerStatus, PartyClaim
from ocpi.exceptions import InvalidParameters
from ocpi.querysets import owned_by
from ocpi.routing import PartyRef

Party = tuple[str, str]  # (COUNTRY_CODE, PARTY_ID), upper case: CiStrings


class PartyTaken(InvalidParameters):
    """A party claimed by another platform or by us."""


def _parties(roles: Iterable[Mapping[str, Any]]) -> list[Party]:
    """The distinct parties of CredentialsRoles, in the order given."""
    return list(dict.fromkeys((r["country_code"].upper(), r["party_id"].upper()) for r in roles))


def _matching(parties: Iterable[Party]) -> Q:
    return owned_by([PartyRef.of(*party) for party in parties], "country_code", "party_id")


def _taken_message(party: Party, role: str, *, ours: bool) -> str:
    country_code, party_id = party
    where = (
        "is a party of this platform" if ours else "is already connected through another platform"
    )
    return f"{country_code}*{party_id} {role} {where}"


def _keys(rows: Iterable[tuple[str, str]]) -> set[Party]:
    return {(country_code.upper(), party_id.upper()) for country_code, party_id in rows}


def check_parties(roles: Sequence[Mapping[str, Any]], *, partner: PartnerPlatform | None) -> None:
    """Refuse roles naming a party that is ours or held by another platform (2001).

    Read from the claims, and from what they stand for (local parties, roles of registered
    and pending partners): rows written around the services, or the loser of a conflict
    the claims' backfill reported, hold their party all the same.
    """
    matching = _matching(_parties(roles))
    claims = PartyClaim.objects.filter(matching)
    ours = _keys(claims.filter(partner__isnull=True).values_list("country_code", "party_id"))
    ours |= _keys(LocalParty.objects.filter(matching).values_list("country_code", "party_id"))
    others = PartnerRole.objects.filter(
        matching, partner__status__in=[PartnerStatus.REGISTERED, PartnerStatus.PENDING]
    )
    claims = claims.filter(partner__isnull=False)
    if partner is not None:
        others, claims = others.exclude(partner=partner), claims.exclude(partner=partner)
    theirs = _keys(others.values_list("country_code", "party_id"))
    theirs |= _keys(claims.values_list("country_code", "party_id"))
    for role in roles:
        party = (role["country_code"].upper(), role["party_id"].upper())
        if party in ours or party in theirs:
            raise PartyTaken(_taken_message(party, role["role"], ours=party in ours))


def claim_partner_parties(*, partner: PartnerPlatform, roles: Sequence[Mapping[str, Any]]) -> None:
    """Make `partner`'s claims its roles' parties, in the caller's transaction.

    Claims of parties it no longer names are released; a party claimed by anyone else (even
    by a transaction committed a moment ago) raises PartyTaken, and the caller's transaction
    must then roll back with the roles it was storing.
    """
    wanted = _parties(roles)
    partner.claims.exclude(_matching(wanted)).delete()
    held = {
        (cc.upper(), pid.upper())
        for cc, pid in partner.claims.values_list("country_code", "party_id")
    }
    for party in wanted:
        if party in held:
            continue
        try:
            with transaction.atomic():  # a savepoint: the error must not poison the caller's
                PartyClaim.objects.create(country_code=party[0], party_id=party[1], partner=partner)
        except IntegrityError as exc:
            ours = PartyClaim.objects.filter(_matching([party]), partner__isnull=True).exists()
            role = next(
                r["role"]
                for r in roles
                if (r["country_code"].upper(), r["party_id"].upper()) == party
            )
            raise PartyTaken(_taken_message(party, role, ours=ours)) from exc


def release_partner_parties(*, partner: PartnerPlatform) -> None:
    """Give back every party of a partner that unregistered (in the caller's transaction)."""
    partner.claims.all().delete()


def partner_holding(country_code: str, party_id: str) -> PartnerPlatform | None:
    """The partner platform that holds this party, if one does."""
    claim = (
        PartyClaim.objects.filter(_matching([(country_code, party_id)]), partner__isnull=False)
        .select_related("partner")
        .first()
    )
    return None if claim is None else claim.partner


def claim_local_party(*, party: LocalParty) -> None:
    """Claim a local party for us (in the caller's transaction); PartyTaken when a partner
    holds it."""
    key = (party.country_code.upper(), party.party_id.upper())
    if PartyClaim.objects.filter(_matching([key]), partner__isnull=True).exists():
        return
    try:
        with transaction.atomic():
            PartyClaim.objects.create(country_code=key[0], party_id=key[1], partner=None)
    except IntegrityError as exc:
        raise PartyTaken(_taken_message(key, party.role, ours=False)) from exc


def release_local_parties() -> None:
    """Drop our claims of parties no local party names any longer (after a delete or an
    edit of a local party's country_code or party_id)."""
    kept = {
        (cc.upper(), pid.upper())
        for cc, pid in LocalParty.objects.values_list("country_code", "party_id")
    }
    PartyClaim.objects.filter(partner__isnull=True).exclude(_matching(kept)).delete()
