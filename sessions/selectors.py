"""Reads of sessions, scoped to the caller and prefetched for rendering.

An eMSP sees the sessions of its own tokens only (DESIGN.md, "Who gets what"; STYLE.md: every
query scoped to the caller): the token's country_code and party_id, not the location's, say
whose a session is.
"""

from collections.abc import Sequence

from django.db.models import Prefetch

from ocpi.routing import PartyRef
from sessions.models import Session, SessionChargingPeriod, SessionQuerySet


def with_relations(queryset: SessionQuerySet) -> SessionQuerySet:
    """Location, EVSE and connector joined, periods in order: two queries per page."""
    return queryset.select_related("location", "evse", "connector").prefetch_related(
        Prefetch("charging_periods", queryset=SessionChargingPeriod.objects.order_by("position"))
    )


def session_list(
    *, owners: Sequence[PartyRef], token_parties: Sequence[PartyRef]
) -> SessionQuerySet:
    """Sessions of our `owners` (CPO parties) for tokens of `token_parties`, oldest first."""
    scoped = Session.objects.visible_to(owners=owners, token_parties=token_parties)
    return with_relations(scoped).order_by("pk")


def session_get(
    *, owners: Sequence[PartyRef], token_parties: Sequence[PartyRef], session_id: str
) -> Session | None:
    """One session by its OCPI id (a CiString: compared case-insensitively), within scope."""
    return (
        session_list(owners=owners, token_parties=token_parties)
        .filter(ocpi_id__ci=session_id)
        .first()
    )
